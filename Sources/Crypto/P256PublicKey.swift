import CLibCrypto

/// A P-256 public key from a JWK's `x` and `y`, for ES256 (ECDSA with SHA-256).
///
/// Unchecked Sendable because the `EVP_PKEY` is never changed after init, and OpenSSL 3
/// verifies with one key on many threads when each call has its own `EVP_MD_CTX`.
public final class P256PublicKey: @unchecked Sendable {
    public static let coordinateByteCount = 32

    private let key: OpaquePointer

    /// `x` and `y` are the affine coordinates, unsigned big-endian, 32 bytes each (RFC 7518
    /// §6.2.1.2 fixes the length). A point off the curve is refused: verifying against one
    /// is the invalid-curve attack.
    public init(x: [UInt8], y: [UInt8]) throws(CryptoError) {
        guard x.count == Self.coordinateByteCount, y.count == Self.coordinateByteCount else {
            throw CryptoError("P-256 coordinates must be 32 bytes each, not \(x.count) and \(y.count)")
        }
        let point = [0x04] + x + y  // SEC 1 uncompressed
        // Import decodes the point with EC_POINT_oct2point, which refuses coordinates beyond
        // the field and points off the curve; P-256 has cofactor 1, so that is the whole check.
        key = try point.withUnsafeBufferPointer { (point) throws(CryptoError) in
            try importPublicKey(cascade_key_type_ec(), describedAs: "P-256") { builder in
                OSSL_PARAM_BLD_push_utf8_string(builder, cascade_param_group_name(), cascade_group_p256(), 0) == 1
                    && OSSL_PARAM_BLD_push_octet_string(builder, cascade_param_public_key(), point.baseAddress, point.count) == 1
            }
        }
    }

    deinit {
        EVP_PKEY_free(key)
    }

    /// Whether `signature` is this key's ES256 signature of `message`. JWS carries the raw
    /// r || s, 32 bytes each (RFC 7518 §3.4); anything else, DER included, is not valid.
    public func isValidES256(signature: [UInt8], message: some Collection<UInt8>) -> Bool {
        guard signature.count == 2 * Self.coordinateByteCount, let der = Self.derSignature(signature) else {
            return false
        }
        return der.withUnsafeBufferPointer { verifySHA256Signature($0, message: message, key: key) }
    }

    /// OpenSSL verifies ECDSA in DER (SEQUENCE { r, s }), so the raw pair is re-encoded.
    private static func derSignature(_ raw: [UInt8]) -> [UInt8]? {
        guard let signature = ECDSA_SIG_new() else { ERR_clear_error(); return nil }
        defer { ECDSA_SIG_free(signature) }
        let half = Int32(coordinateByteCount)
        let (r, s) = raw.withUnsafeBufferPointer { raw in
            (BN_bin2bn(raw.baseAddress, half, nil), BN_bin2bn(raw.baseAddress! + coordinateByteCount, half, nil))
        }
        // ECDSA_SIG_set0 owns r and s only when it succeeds.
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            ERR_clear_error()
            return nil
        }
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { ERR_clear_error(); return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        guard written == length else { ERR_clear_error(); return nil }
        return der
    }
}
