/// A public key from a JWKS, in the form the crypto layer imports: raw big-endian bytes.
public struct JSONWebKey: Sendable, Equatable {
    public enum Material: Sendable, Equatable {
        case rsa(modulus: [UInt8], exponent: [UInt8])
        case ecP256(x: [UInt8], y: [UInt8])
    }

    public enum KeyType: Sendable, CustomStringConvertible {
        case rsa, ecP256
        public var description: String { self == .rsa ? "RSA" : "EC P-256" }
    }

    public let keyId: String?
    public let use: String?
    public let algorithm: String?
    public let material: Material

    public init(keyId: String?, use: String? = "sig", algorithm: String? = nil, material: Material) {
        self.keyId = keyId
        self.use = use
        self.algorithm = algorithm
        self.material = material
    }

    public var keyType: KeyType {
        switch material {
        case .rsa: .rsa
        case .ecP256: .ecP256
        }
    }
}

/// The verification keys of a JWKS document (RFC 7517), e.g. a Cognito user pool's
/// `/.well-known/jwks.json`.
///
/// Keys we cannot use (kty oct, OKP; curves other than P-256; `use` other than "sig"; `key_ops`
/// without "verify"; an `alg` we do not accept for that key) are skipped and listed in `skipped`,
/// so one new key type at the identity provider does not take verification down. A key of a
/// type we do use that is malformed fails the whole document instead: a half-read set would
/// refuse some tokens with a misleading "unknown key", and the caller can keep its previous set.
/// Keys may lack a kid; see `KeySelection` for when such a key is chosen.
public struct JSONWebKeySet: Sendable, Equatable {
    public let keys: [JSONWebKey]
    /// One sentence per skipped key, for a start-up log line.
    public let skipped: [String]

    public init(keys: [JSONWebKey], skipped: [String] = []) {
        self.keys = keys
        self.skipped = skipped
    }

    public init(json: String) throws(JWKSError) { try self.init(json: Array(json.utf8)) }

    public init(json: [UInt8]) throws(JWKSError) {
        let document: JSONValue
        do { document = try JSONParser.parse(json) } catch { throw JWKSError("JWKS is not valid JSON: \(error)") }
        guard document.isObject else { throw JWKSError("JWKS must be a JSON object with a \"keys\" array") }
        guard case .array(let entries)? = document["keys"] else { throw JWKSError("JWKS has no \"keys\" array") }
        var keys: [JSONWebKey] = []
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            switch try Self.read(entry, index: index) {
            case .key(let key):
                if let id = key.keyId, keys.contains(where: { $0.keyId == id }) {
                    // A kid must pick one key; two would make the choice depend on document order.
                    throw JWKSError("JWKS key id \(TokenRejection.quoted(id)) appears more than once")
                }
                keys.append(key)
            case .skipped(let why): skipped.append(why)
            }
        }
        self.init(keys: keys, skipped: skipped)
    }

    private enum Entry { case key(JSONWebKey), skipped(String) }

    private static func read(_ entry: JSONValue, index: Int) throws(JWKSError) -> Entry {
        guard entry.isObject else { throw JWKSError("JWKS key \(index) is not a JSON object") }
        let kid = try optionalString(entry, "kid", label: "JWKS key \(index)")
        let label = "JWKS key \(index)" + (kid.map { " (kid \(TokenRejection.quoted($0)))" } ?? "")
        let use = try optionalString(entry, "use", label: label)
        let alg = try optionalString(entry, "alg", label: label)
        guard let kty = try optionalString(entry, "kty", label: label) else { throw JWKSError("\(label) has no kty") }
        if let use, use != "sig" { return .skipped("\(label): use \(TokenRejection.quoted(use)) is not \"sig\"") }
        if let ops = entry["key_ops"] {
            guard case .array(let items) = ops, items.allSatisfy({ $0.stringValue != nil }) else {
                throw JWKSError("\(label) key_ops is not an array of strings")
            }
            if !items.contains(.string("verify")) { return .skipped("\(label): key_ops lacks \"verify\"") }
        }
        let material: JSONWebKey.Material
        let accepted: JWSAlgorithm
        switch kty {
        case "RSA":
            let modulus = try bytes(entry, "n", label: label), exponent = try bytes(entry, "e", label: label)
            guard !modulus.isEmpty, !exponent.isEmpty else { throw JWKSError("\(label) has an empty n or e") }
            material = .rsa(modulus: modulus, exponent: exponent)
            accepted = .rs256
        case "EC":
            guard let crv = try optionalString(entry, "crv", label: label) else { throw JWKSError("\(label) has no crv") }
            guard crv == "P-256" else { return .skipped("\(label): curve \(TokenRejection.quoted(crv)) is not supported (only P-256)") }
            let x = try bytes(entry, "x", label: label), y = try bytes(entry, "y", label: label)
            // Exactly 32: RFC 7518 §6.2.1.2 forbids dropping leading zeros, and a short
            // coordinate padded by us could name a different point than the provider meant.
            guard x.count == 32, y.count == 32 else {
                throw JWKSError("\(label) x and y must be 32 bytes each for P-256 (got \(x.count) and \(y.count))")
            }
            material = .ecP256(x: x, y: y)
            accepted = .es256
        default:
            return .skipped("\(label): kty \(TokenRejection.quoted(kty)) is not supported (only RSA and EC)")
        }
        if let alg, alg != accepted.rawValue {
            return .skipped("\(label): alg \(TokenRejection.quoted(alg)) is not accepted for an \(kty) key (only \(accepted.rawValue))")
        }
        return .key(JSONWebKey(keyId: kid, use: use, algorithm: alg, material: material))
    }

    private static func optionalString(_ entry: JSONValue, _ name: String, label: String) throws(JWKSError) -> String? {
        guard let value = entry[name] else { return nil }
        guard let text = value.stringValue else { throw JWKSError("\(label) \(name) is not a string") }
        return text
    }

    private static func bytes(_ entry: JSONValue, _ name: String, label: String) throws(JWKSError) -> [UInt8] {
        guard let text = try optionalString(entry, name, label: label) else { throw JWKSError("\(label) has no \(name)") }
        guard let decoded = Base64URL.decode(text) else { throw JWKSError("\(label) \(name) is not unpadded base64url") }
        return decoded
    }
}

public struct JWKSError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
