/// The signature algorithms we accept, and which key each may be checked with.
///
/// The algorithm is read from the token, i.e. chosen by whoever made it, so both rules are an
/// allow-list decided here and never by the token: "none" is refused outright, and each
/// algorithm is bound to one kind of key. That binding is what defeats algorithm confusion: a
/// token relabelled HS256 cannot get an RSA public key from the JWKS used as its HMAC secret.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256"
    case es256 = "ES256"
    case hs256 = "HS256"

    /// The algorithm for `alg`, if we accept it. Names are case-sensitive (RFC 7515 §4.1.1), so
    /// "rs256" is refused; "none" is refused in every casing, with its own message, because a
    /// lenient library somewhere may still honour "None".
    public static func allowed(_ alg: String, hs256Configured: Bool) -> Result<JWSAlgorithm, TokenRejection> {
        if alg.utf8.count == 4, alg.lowercased() == "none" { return .failure(.algorithmNotAllowed(.unsecured)) }
        guard let algorithm = JWSAlgorithm(rawValue: alg) else { return .failure(.algorithmNotAllowed(.unsupported(alg))) }
        if algorithm == .hs256, !hs256Configured { return .failure(.algorithmNotAllowed(.hs256WithoutSecret)) }
        return .success(algorithm)
    }

    /// The kind of JWKS key the algorithm verifies with; HS256 uses the configured secret only.
    public var keyType: JSONWebKey.KeyType? {
        switch self {
        case .rs256: .rsa
        case .es256: .ecP256
        case .hs256: nil
        }
    }

    /// The byte length a signature must have, decided before the crypto layer is asked: ES256 is
    /// r‖s of 32 bytes each (RFC 7518 §3.4, not DER), HS256 one SHA-256 output, RS256 the
    /// modulus length (RFC 8017 §8.2.2; leading zero bytes of `n` do not count, as OpenSSL's
    /// RSA_size does not count them).
    public static func checkSignatureLength(_ signature: [UInt8], algorithm: JWSAlgorithm,
                                            key: JSONWebKey?) -> Result<Void, TokenRejection> {
        let required: Int
        switch (algorithm, key?.material) {
        case (.es256, _): required = 64
        case (.hs256, _): required = 32
        case (.rs256, .rsa(let modulus, _)?): required = modulus.drop { $0 == 0 }.count
        case (.rs256, _): return .success(())  // no RSA key: selection has already refused it
        }
        guard signature.count == required else {
            return .failure(.signatureLength(algorithm: algorithm, byteCount: signature.count, required: required))
        }
        return .success(())
    }
}

/// Picks the JWKS key a token is checked with.
///
/// - HS256: no JWKS key, ever (nil); the verifier uses its configured secret.
/// - A token with a kid: the key with that kid. Keys without a kid never match it. A kid that is
///   present but names a key of the wrong type is `keyTypeMismatch`, not a fall-back search.
/// - A token without a kid: the single key of the algorithm's type, with or without a kid of
///   its own. With none or several, the token is refused rather than tried against each: trying
///   every key multiplies the cost an unauthenticated caller can impose.
public enum KeySelection {
    public static func select(algorithm: JWSAlgorithm, keyId: String?,
                              keys: [JSONWebKey]) -> Result<JSONWebKey?, TokenRejection> {
        guard let wanted = algorithm.keyType else { return .success(nil) }
        if let keyId {
            guard let key = keys.first(where: { $0.keyId.map { Array($0.utf8) } == Array(keyId.utf8) }) else {
                return .failure(.unknownKey(keyId: keyId))
            }
            guard key.keyType == wanted else {
                return .failure(.keyTypeMismatch(keyId: keyId, algorithm: algorithm, found: key.keyType))
            }
            return .success(key)
        }
        let candidates = keys.filter { $0.keyType == wanted }
        guard candidates.count == 1 else {
            return .failure(.noKeyId(algorithm: algorithm, candidateCount: candidates.count))
        }
        return .success(candidates[0])
    }
}
