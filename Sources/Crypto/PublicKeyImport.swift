import CLibCrypto

/// Builds a public-only `EVP_PKEY` of key type `algorithm` (a C literal from the shim) from
/// the parameters `push` adds. Whatever `push` points the builder at must outlive this call:
/// the builder copies values only when it makes the parameter array, here.
func importPublicKey(_ algorithm: UnsafePointer<CChar>, describedAs name: String,
                     _ push: (OpaquePointer) -> Bool) throws(CryptoError) -> OpaquePointer {
    guard let builder = OSSL_PARAM_BLD_new() else { throw .openSSL("cannot allocate a parameter builder") }
    defer { OSSL_PARAM_BLD_free(builder) }
    guard push(builder), let parameters = OSSL_PARAM_BLD_to_param(builder) else {
        throw .openSSL("cannot build \(name) key parameters")
    }
    defer { OSSL_PARAM_free(parameters) }
    guard let context = EVP_PKEY_CTX_new_from_name(nil, algorithm, nil) else {
        throw .openSSL("OpenSSL has no \(name) key type")
    }
    defer { EVP_PKEY_CTX_free(context) }
    var key: OpaquePointer?
    guard EVP_PKEY_fromdata_init(context) == 1,
          EVP_PKEY_fromdata(context, &key, cascade_evp_pkey_public_key_selection(), parameters) == 1,
          let key else {
        throw .openSSL("OpenSSL refused the \(name) public key")
    }
    return key
}
