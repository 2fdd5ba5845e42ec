import CLibCrypto

/// Verifies `signature` over SHA-256 of `message` with the key's own scheme: PKCS #1 v1.5 for
/// an RSA key (OpenSSL's default padding), DER-encoded ECDSA for an EC key.
///
/// A fresh `EVP_MD_CTX` per call is what makes one key safe to share between threads. Every
/// failure, malformed input included, is `false`, and leaves this thread's error queue empty.
func verifySHA256Signature(_ signature: UnsafeBufferPointer<UInt8>, message: some Collection<UInt8>,
                           key: OpaquePointer) -> Bool {
    guard let context = EVP_MD_CTX_new() else {
        ERR_clear_error()
        return false
    }
    defer { EVP_MD_CTX_free(context) }
    let valid = withBytes(of: message) { data, count in
        EVP_DigestVerifyInit(context, nil, SHA256.algorithm.md, nil, key) == 1
            && EVP_DigestVerify(context, signature.baseAddress, signature.count, data, count) == 1
    }
    if !valid { ERR_clear_error() }
    return valid
}
