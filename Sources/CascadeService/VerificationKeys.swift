import CascadeDomain
import Crypto

/// A JWKS with each usable key already imported into OpenSSL, so a verification only verifies.
struct VerificationKeys: Sendable {
    let keys: [JSONWebKey]
    /// Index into `keys` → its OpenSSL key.
    private let rsa: [Int: RSAPublicKey]
    private let ec: [Int: P256PublicKey]
    /// Keys the JWKS held that we cannot use, and why (logged at each load).
    let skipped: [String]

    static let empty = VerificationKeys(keys: [], rsa: [:], ec: [:], skipped: [])

    private init(keys: [JSONWebKey], rsa: [Int: RSAPublicKey], ec: [Int: P256PublicKey], skipped: [String]) {
        self.keys = keys
        self.rsa = rsa
        self.ec = ec
        self.skipped = skipped
    }

    /// Parses and imports every key; a key OpenSSL refuses (a short modulus, a point off the
    /// curve) is skipped with its reason, like a key of a type we do not use.
    init(jwks: [UInt8]) throws(JWKSError) {
        let set = try JSONWebKeySet(json: jwks)
        var usable: [JSONWebKey] = [], rsa: [Int: RSAPublicKey] = [:], ec: [Int: P256PublicKey] = [:]
        var skipped = set.skipped
        for key in set.keys {
            do {
                switch key.material {
                case .rsa(let modulus, let exponent): rsa[usable.count] = try RSAPublicKey(modulus: modulus, exponent: exponent)
                case .ecP256(let x, let y): ec[usable.count] = try P256PublicKey(x: x, y: y)
                }
                usable.append(key)
            } catch {
                skipped.append("key \(key.keyId ?? "(no kid)"): \(error.message)")
            }
        }
        self.init(keys: usable, rsa: rsa, ec: ec, skipped: skipped)
    }

    /// Whether `signature` is `key`'s (which KeySelection chose from `keys`) over `input`.
    func isValid(_ algorithm: JWSAlgorithm, key: JSONWebKey, input: [UInt8], signature: [UInt8]) -> Bool {
        guard let slot = keys.firstIndex(of: key) else { return false }
        switch algorithm {
        case .rs256: return rsa[slot]?.isValidRS256(signature: signature, message: input) ?? false
        case .es256: return ec[slot]?.isValidES256(signature: signature, message: input) ?? false
        case .hs256: return false
        }
    }
}
