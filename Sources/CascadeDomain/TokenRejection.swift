import CivilCalendar

/// Why a bearer token was refused: a bounded `reason` for metrics, a `message` the caller can act
/// on, and whether it is a 403 rather than a 401.
///
/// Messages never carry the token. They quote single header or claim values (alg, kid, iss,
/// token_use, client_id) because those are what a caller has to fix, but each quote is cut to
/// `quotedLimit` characters and stripped of control characters: a message lands in a response,
/// a log line and a metric exemplar.
public enum TokenRejection: Error, Equatable, Sendable {
    case missing
    /// Another scheme; `knownScheme` names it only when it is one of a few standard ones, because
    /// a header that is a bare token would otherwise be echoed as its "scheme".
    case notBearer(knownScheme: String?)
    case badBearerSyntax(BearerSyntaxProblem)
    case tokenTooLarge(byteCount: Int)
    case notThreeSegments(segmentCount: Int)
    case badEncoding(JWSSegment)
    /// `errorOffset` is where the JSON parser stopped; nil when it parsed but is not an object.
    case headerNotJSON(errorOffset: Int?)
    case badHeader(HeaderProblem)
    case payloadNotJSON(errorOffset: Int?)
    case algorithmNotAllowed(AlgorithmRefusal)
    case unknownKey(keyId: String)
    /// The token names no key and the set does not hold exactly one key for its algorithm.
    case noKeyId(algorithm: JWSAlgorithm, candidateCount: Int)
    case keyTypeMismatch(keyId: String, algorithm: JWSAlgorithm, found: JSONWebKey.KeyType)
    case signatureLength(algorithm: JWSAlgorithm, byteCount: Int, required: Int)
    /// The crypto layer's verdict: well-formed, but not made by the key.
    case badSignature
    case badClaims(claim: String, problem: ClaimProblem)
    case expired(expiresAt: Int64, now: Int64)
    case notYetValid(notBefore: Int64, now: Int64)
    case issuedInFuture(issuedAt: Int64, now: Int64)
    case wrongIssuer(String)
    case wrongTokenUse(String)
    case clientNotAllowed(clientId: String?)
    case insufficientScope(required: String)

    public enum JWSSegment: String, Sendable { case header, payload, signature }
    public enum BearerSyntaxProblem: Sendable { case emptyToken, notOneSpace, whitespaceInToken }
    public enum HeaderProblem: Sendable { case algMissing, algNotString, kidNotString, criticalExtensions }
    public enum AlgorithmRefusal: Equatable, Sendable { case unsecured, hs256WithoutSecret, unsupported(String) }
    public enum ClaimProblem: Sendable { case missing, notANumber, notAString, notAnArrayOfStrings, outOfRange }

    /// 403 only when the token is genuine and current but does not grant the action; every
    /// other refusal means "we do not know who you are" (401).
    public var isForbidden: Bool { if case .insufficientScope = self { true } else { false } }

    /// A label from a fixed set, safe as a metric dimension.
    public var reason: String {
        switch self {
        case .missing: "missing"
        case .notBearer: "not_bearer"
        case .badBearerSyntax, .notThreeSegments, .headerNotJSON, .payloadNotJSON: "malformed"
        case .tokenTooLarge: "too_large"
        case .badEncoding: "bad_encoding"
        case .badHeader: "bad_header"
        case .algorithmNotAllowed: "algorithm_not_allowed"
        case .unknownKey, .noKeyId: "unknown_key"
        case .keyTypeMismatch: "key_type_mismatch"
        case .signatureLength, .badSignature: "bad_signature"
        case .badClaims: "bad_claims"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .issuedInFuture: "issued_in_future"
        case .wrongIssuer: "wrong_issuer"
        case .wrongTokenUse: "wrong_token_use"
        case .clientNotAllowed: "client_not_allowed"
        case .insufficientScope: "insufficient_scope"
        }
    }

    public var message: String {
        switch self {
        case .missing:
            return "missing authorization header (expected \"Bearer <token>\")"
        case .notBearer(let scheme):
            let uses = scheme.map { " uses the \($0) scheme and" } ?? ""
            return "authorization header\(uses) is not a bearer token (expected \"Bearer <token>\")"
        case .badBearerSyntax(.emptyToken):
            return "bearer token is empty (expected \"Bearer <token>\")"
        case .badBearerSyntax(.notOneSpace):
            return "authorization header must have exactly one space between \"Bearer\" and the token"
        case .badBearerSyntax(.whitespaceInToken):
            return "bearer token contains whitespace"
        case .tokenTooLarge(let count):
            return "token is \(count) bytes; at most \(CompactJWS.maximumByteCount) are accepted"
        case .notThreeSegments(let count):
            return "token has \(count) segment\(count == 1 ? "" : "s"); a JWS has exactly 3 (header.payload.signature)"
        case .badEncoding(let segment):
            return "token \(segment.rawValue) segment is not unpadded base64url (RFC 7515)"
        case .headerNotJSON(let offset):
            return offset.map { "token header is not valid JSON (error at byte \($0))" } ?? "token header is not a JSON object"
        case .badHeader(.algMissing): return "token header has no alg"
        case .badHeader(.algNotString): return "token header alg is not a string"
        case .badHeader(.kidNotString): return "token header kid is not a string"
        case .badHeader(.criticalExtensions): return "token header has crit extensions, which are not supported"
        case .payloadNotJSON(let offset):
            return offset.map { "token payload is not valid JSON (error at byte \($0))" } ?? "token payload is not a JSON object"
        case .algorithmNotAllowed(.unsecured):
            return "token signed with alg none, which is never accepted"
        case .algorithmNotAllowed(.hs256WithoutSecret):
            return "token signed with HS256, but no HS256 secret is configured (accepted: RS256, ES256)"
        case .algorithmNotAllowed(.unsupported(let alg)):
            return "token alg \(Self.quoted(alg)) is not accepted (accepted: RS256, ES256, and HS256 when a secret is configured)"
        case .unknownKey(let keyId):
            return "token's key id \(Self.quoted(keyId)) is not in the key set"
        case .noKeyId(let algorithm, 0):
            return "token has no key id, and the key set holds no \(Self.keyTypeName(algorithm)) key for \(algorithm.rawValue)"
        case .noKeyId(let algorithm, let count):
            return "token has no key id, and the key set holds \(count) \(Self.keyTypeName(algorithm)) keys for \(algorithm.rawValue); a key id is needed to choose"
        case .keyTypeMismatch(let keyId, let algorithm, let found):
            return "token's key id \(Self.quoted(keyId)) names an \(found) key, but \(algorithm.rawValue) needs an \(Self.keyTypeName(algorithm)) key"
        case .signatureLength(let algorithm, let count, let required):
            return "\(algorithm.rawValue) signature is \(count) bytes; \(required) are required"
        case .badSignature:
            return "token signature does not verify"
        case .badClaims(let claim, let problem):
            let what = switch problem {
            case .missing: "is missing"
            case .notANumber: "is not a number"
            case .notAString: "is not a string"
            case .notAnArrayOfStrings: "is not an array of strings"
            case .outOfRange: "is out of range (0 to \(TokenPolicy.latestNumericDate) seconds since 1970)"
            }
            return "claim \(claim) \(what)"
        case .expired(let exp, let now):
            return "token expired at \(Self.rfc3339(exp)) (now \(Self.rfc3339(now)))"
        case .notYetValid(let nbf, let now):
            return "token is not valid before \(Self.rfc3339(nbf)) (now \(Self.rfc3339(now)))"
        case .issuedInFuture(let iat, let now):
            return "token issued at \(Self.rfc3339(iat)), in the future (now \(Self.rfc3339(now)))"
        case .wrongIssuer(let issuer):
            return "token issuer \(Self.quoted(issuer)) is not the configured issuer"
        case .wrongTokenUse(let use):
            return "token_use is \(Self.quoted(use)); an access token is required"
        case .clientNotAllowed(nil):
            return "token has no client_id, and only listed clients are allowed"
        case .clientNotAllowed(let clientId?):
            return "token's client_id \(Self.quoted(clientId)) is not allowed"
        case .insufficientScope(let scope):
            return "token lacks scope \(scope)"
        }
    }

    private static func keyTypeName(_ algorithm: JWSAlgorithm) -> String {
        algorithm.keyType.map { "\($0)" } ?? "HMAC secret"
    }

    /// Longer values are cut: enough to recognise an issuer or key id, never a whole credential.
    public static let quotedLimit = 64

    static func quoted(_ value: String) -> String {
        var shown = ""
        for (index, scalar) in value.unicodeScalars.enumerated() {
            if index == quotedLimit { shown += "…"; break }
            // Control characters (C0, DEL and C1, such as U+0085 NEXT LINE) would split or forge log lines.
            shown.unicodeScalars.append(scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "?" : scalar)
        }
        return "'\(shown)'"
    }

    /// The same text as `Timestamp.iso8601` (which takes a Foundation Date) for whole seconds.
    /// Outside years 0000–9999 CivilCalendar's fixed-width fields cannot hold it (and traps on
    /// negative years), so such instants are written as plain seconds.
    static func rfc3339(_ seconds: Int64) -> String {
        guard (-62_167_219_200...253_402_300_799).contains(seconds) else { return "\(seconds) s since 1970" }
        return CivilCalendar.timestamp(seconds: seconds, fraction: 0, fractionDigits: 3, separator: "T", suffix: "Z")
    }
}
