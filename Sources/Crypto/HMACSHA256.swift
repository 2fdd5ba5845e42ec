import CLibCrypto

/// HMAC-SHA256, for HS256 tokens.
public enum HMACSHA256 {
    public static let byteCount = 32

    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        withBytes(of: key) { keyBytes, keyCount in
            withBytes(of: message) { data, count in
                [UInt8](unsafeUninitializedCapacity: byteCount) { out, initialized in
                    var length: UInt32 = 0
                    guard HMAC(SHA256.algorithm.md, keyBytes, Int32(keyCount), data, count,
                               out.baseAddress, &length) != nil, length == byteCount else {
                        preconditionFailure(CryptoError.openSSL("HMAC-SHA256 failed").message)
                    }
                    initialized = byteCount
                }
            }
        }
    }

    /// Compares in constant time, so the time taken says nothing about how many leading
    /// bytes of a forged code were right.
    public static func isValid(_ mac: [UInt8], key: some Collection<UInt8>, message: some Collection<UInt8>) -> Bool {
        let expected = authenticationCode(key: key, message: message)
        guard mac.count == expected.count else { return false }  // the length is public
        return CRYPTO_memcmp(mac, expected, expected.count) == 0
    }
}
