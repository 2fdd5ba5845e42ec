import CLibCrypto

/// SHA-256, computed per report for a cache key, so it is one C call and one allocation.
public enum SHA256 {
    public static let byteCount = 32

    public static func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        withBytes(of: bytes) { data, count in
            [UInt8](unsafeUninitializedCapacity: byteCount) { out, initialized in
                guard EVP_Digest(data, count, out.baseAddress, nil, algorithm.md, nil) == 1 else {
                    preconditionFailure(CryptoError.openSSL("SHA-256 failed").message)
                }
                initialized = byteCount
            }
        }
    }

    /// SHA-256 fetched from the default provider once. `SHA256()` and `EVP_sha256()` fetch it
    /// again on every call, which was a third of the time for 900 bytes (945 ns against 655).
    /// A constant, not state: it is never changed or freed, and OpenSSL 3 lets any number of
    /// threads use one fetched algorithm.
    static let algorithm = FetchedDigest(md: EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256())
}

/// An `EVP_MD` shared by all threads; unchecked because a fetched algorithm is immutable and
/// reference-counted by OpenSSL.
struct FetchedDigest: @unchecked Sendable {
    let md: OpaquePointer
}
