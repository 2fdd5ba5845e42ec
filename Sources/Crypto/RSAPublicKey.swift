import CLibCrypto

/// An RSA public key from a JWK's `n` and `e`, for RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
///
/// Unchecked Sendable because the `EVP_PKEY` is never changed after init, and OpenSSL 3
/// verifies with one key on many threads when each call has its own `EVP_MD_CTX`.
public final class RSAPublicKey: @unchecked Sendable {
    /// Below this, RFC 7518 §3.3 forbids the key for RS256.
    public static let minimumModulusBitCount = 2048
    /// OpenSSL refuses to verify with a larger modulus (`OPENSSL_RSA_MAX_MODULUS_BITS`), so
    /// such a key is refused here, where the error can say why.
    public static let maximumModulusBitCount = 16384

    private let key: OpaquePointer
    public let modulusBitCount: Int
    /// A PKCS #1 signature is exactly as long as the modulus.
    private let signatureByteCount: Int

    /// `modulus` and `exponent` are unsigned big-endian, as in a JWK after base64url decoding.
    public init(modulus: [UInt8], exponent: [UInt8]) throws(CryptoError) {
        guard let n = BN_bin2bn(modulus, Int32(clamping: modulus.count), nil) else {
            throw CryptoError.openSSL("cannot read the RSA modulus")
        }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(clamping: exponent.count), nil) else {
            throw CryptoError.openSSL("cannot read the RSA exponent")
        }
        defer { BN_free(e) }

        let bits = Int(BN_num_bits(n))
        guard bits >= Self.minimumModulusBitCount else {
            throw CryptoError("RSA modulus of \(bits) bits is too small for RS256 (at least \(Self.minimumModulusBitCount))")
        }
        guard bits <= Self.maximumModulusBitCount else {
            throw CryptoError("RSA modulus of \(bits) bits is larger than OpenSSL verifies (\(Self.maximumModulusBitCount))")
        }
        // An even or unit exponent is no RSA key; e = 1 would make any padded digest a signature.
        guard BN_is_odd(e) == 1, BN_is_one(e) == 0, BN_cmp(e, n) < 0 else {
            throw CryptoError("RSA exponent must be odd, above 1 and below the modulus")
        }

        key = try importPublicKey(cascade_key_type_rsa(), describedAs: "RSA") { builder in
            OSSL_PARAM_BLD_push_BN(builder, cascade_param_rsa_n(), n) == 1
                && OSSL_PARAM_BLD_push_BN(builder, cascade_param_rsa_e(), e) == 1
        }
        modulusBitCount = bits
        signatureByteCount = (bits + 7) / 8
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// Whether `signature` is this key's RS256 signature of `message` (the JWS signing input,
    /// `header.payload`).
    public func isValidRS256(signature: [UInt8], message: some Collection<UInt8>) -> Bool {
        guard signature.count == signatureByteCount else { return false }
        return signature.withUnsafeBufferPointer { verifySHA256Signature($0, message: message, key: key) }
    }
}
