/// What a verified token must say to complete jobs: the claim checks, run only after the
/// signature verified (before that, every claim is the caller's word).
///
/// Order: claim types first (so a malformed token is `bad_claims`, whatever else it says), then
/// time, issuer, token_use, client and permission. Time checks allow `leewaySeconds` of clock
/// skew either way, and the boundary itself is accepted: a token is valid while
/// `now <= exp + leeway`, `nbf <= now + leeway` and `iat <= now + leeway`.
public struct TokenPolicy: Sendable, Equatable {
    public var issuer: String
    /// Accepted `client_id` values; empty accepts any client, and tokens without a client_id.
    public var clientIds: Set<String>
    public var requiredScope: String
    /// Negative counts as zero.
    public var leewaySeconds: Int64
    public var adminScope: String
    public var adminGroup: String

    public init(issuer: String, clientIds: Set<String> = [], requiredScope: String = "streamline/complete_jobs",
                leewaySeconds: Int64 = 60, adminScope: String = "streamline/admin", adminGroup: String = "admin") {
        self.issuer = issuer
        self.clientIds = clientIds
        self.requiredScope = requiredScope
        self.leewaySeconds = leewaySeconds
        self.adminScope = adminScope
        self.adminGroup = adminGroup
    }

    /// 9999-12-31T23:59:59Z. NumericDates outside 0...this are refused as out of range: no
    /// real token carries them, and it keeps every sum below far from overflow.
    public static let latestNumericDate: Int64 = 253_402_300_799

    public func evaluate(_ payload: JSONValue, nowSeconds now: Int64) -> Result<TokenGrant, TokenRejection> {
        guard payload.isObject else { return .failure(.payloadNotJSON(errorOffset: nil)) }
        let claims: Claims
        switch Claims.read(payload) {
        case .success(let read): claims = read
        case .failure(let rejection): return .failure(rejection)
        }
        let leeway = max(0, leewaySeconds)
        if now.subtractingSaturating(leeway) > claims.expiresAt {
            return .failure(.expired(expiresAt: claims.expiresAt, now: now))
        }
        if let nbf = claims.notBefore, now.addingSaturating(leeway) < nbf {
            return .failure(.notYetValid(notBefore: nbf, now: now))
        }
        if let iat = claims.issuedAt, iat > now.addingSaturating(leeway) {
            return .failure(.issuedInFuture(issuedAt: iat, now: now))
        }
        // Byte for byte: Swift's String == treats canonically equivalent spellings as equal.
        guard claims.issuer.hasSameUTF8(as: issuer) else { return .failure(.wrongIssuer(claims.issuer)) }
        // Cognito ID tokens are signed by the same keys and carry the same issuer; only
        // token_use tells them apart, and an ID token is not meant to authorise API calls.
        guard claims.tokenUse == "access" else { return .failure(.wrongTokenUse(claims.tokenUse)) }
        if !clientIds.isEmpty {
            guard let clientId = claims.clientId, clientIds.contains(where: { $0.hasSameUTF8(as: clientId) }) else {
                return .failure(.clientNotAllowed(clientId: claims.clientId))
            }
        }
        // Scopes are space-separated tokens (RFC 6749 §3.3): compared whole, so a scope that
        // merely starts with the required one grants nothing.
        let scopes = claims.scope?.split(separator: " ") ?? []
        let basis: TokenGrant.Basis
        if scopes.contains(where: { $0.utf8.elementsEqual(requiredScope.utf8) }) {
            basis = .scope
        } else if scopes.contains(where: { $0.utf8.elementsEqual(adminScope.utf8) }) {
            basis = .adminScope
        } else if claims.groups.contains(where: { $0.hasSameUTF8(as: adminGroup) }) {
            basis = .adminGroup
        } else {
            return .failure(.insufficientScope(required: requiredScope))
        }
        return .success(TokenGrant(expiresAt: claims.expiresAt, subject: claims.subject, clientId: claims.clientId, basis: basis))
    }
}

/// What a token that passed every check is good for, and who it names (for logs).
public struct TokenGrant: Sendable, Equatable {
    public enum Basis: String, Sendable {
        case scope, adminScope = "admin_scope", adminGroup = "admin_group"
    }

    public let expiresAt: Int64
    public let subject: String?
    public let clientId: String?
    /// Which rule allowed it, so an audit can tell admin access from ordinary access.
    public let basis: Basis

    public init(expiresAt: Int64, subject: String?, clientId: String?, basis: Basis) {
        self.expiresAt = expiresAt
        self.subject = subject
        self.clientId = clientId
        self.basis = basis
    }
}

/// The claims the policy reads, each of the JSON type it must have.
private struct Claims {
    var expiresAt: Int64
    var notBefore: Int64?
    var issuedAt: Int64?
    var issuer: String
    var tokenUse: String
    var clientId: String?
    var subject: String?
    var scope: String?
    var groups: [String]

    static func read(_ payload: JSONValue) -> Result<Claims, TokenRejection> {
        do throws(TokenRejection) {
            guard let exp = try numericDate(payload, "exp") else { throw .badClaims(claim: "exp", problem: .missing) }
            let nbf = try numericDate(payload, "nbf"), iat = try numericDate(payload, "iat")
            guard let iss = try string(payload, "iss") else { throw .badClaims(claim: "iss", problem: .missing) }
            guard let use = try string(payload, "token_use") else { throw .badClaims(claim: "token_use", problem: .missing) }
            let clientId = try string(payload, "client_id"), scope = try string(payload, "scope")
            let subject = try string(payload, "sub")
            var groups: [String] = []
            if let value = payload["cognito:groups"] {
                guard case .array(let items) = value else { throw .badClaims(claim: "cognito:groups", problem: .notAnArrayOfStrings) }
                groups = items.compactMap(\.stringValue)
                guard groups.count == items.count else { throw .badClaims(claim: "cognito:groups", problem: .notAnArrayOfStrings) }
            }
            return .success(Claims(expiresAt: exp, notBefore: nbf, issuedAt: iat, issuer: iss, tokenUse: use,
                                   clientId: clientId, subject: subject, scope: scope, groups: groups))
        } catch {
            return .failure(error)
        }
    }

    private static func string(_ payload: JSONValue, _ name: String) throws(TokenRejection) -> String? {
        guard let value = payload[name] else { return nil }
        guard let text = value.stringValue else { throw .badClaims(claim: name, problem: .notAString) }
        return text
    }

    /// RFC 7519 NumericDate: seconds, possibly fractional (floored: a token valid until 10.9 is
    /// not valid at 11). The literal is read as an integer when it is one, so no precision is
    /// lost to Double; decimals and exponents go through Double, exact far beyond the range.
    private static func numericDate(_ payload: JSONValue, _ name: String) throws(TokenRejection) -> Int64? {
        guard let value = payload[name] else { return nil }
        guard case .number(let literal) = value else { throw .badClaims(claim: name, problem: .notANumber) }
        let seconds: Int64?
        if let whole = Int64(literal) {
            seconds = whole
        } else if let real = Double(literal), real.isFinite, abs(real) < 1e18 {
            seconds = Int64(real.rounded(.down))
        } else {
            seconds = nil
        }
        guard let seconds, (0...TokenPolicy.latestNumericDate).contains(seconds) else {
            throw .badClaims(claim: name, problem: .outOfRange)
        }
        return seconds
    }
}

private extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    func subtractingSaturating(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? .min : difference
    }
}
