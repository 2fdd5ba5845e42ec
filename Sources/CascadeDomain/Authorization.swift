/// Decides whether a report's sender may complete its job, before anything is read or written.
public protocol ReportAuthorizer: Sendable {
    func authorize(_ report: CompletionReport) -> AuthorizationDecision
}

public enum AuthorizationDecision: Sendable, Equatable {
    case allowed
    /// 401: no credentials, or credentials we do not recognise.
    case unauthenticated(String)
    /// 403: recognised, but not allowed to act on this model.
    case forbidden(String)
}

/// Accepts every report: the default until the platform's token verification is wired in.
public struct AllowAllAuthorizer: ReportAuthorizer {
    public init() {}
    public func authorize(_ report: CompletionReport) -> AuthorizationDecision { .allowed }
}

/// Static bearer tokens, each allowed to complete jobs of some models (or all, with nil).
public struct BearerTokenAuthorizer: ReportAuthorizer {
    public let grants: [String: Set<String>?]

    public init(grants: [String: Set<String>?]) { self.grants = grants }

    /// Reads `{"<token>": ["model-a", "model-b"], "<admin token>": "*"}`.
    public init(json: [UInt8]) throws(TokenFileError) {
        let document: JSONValue
        do { document = try JSONParser.parse(json) } catch { throw TokenFileError("not valid JSON: \(error)") }
        guard let members = document.objectMembers else { throw TokenFileError("must be a JSON object of token to models") }
        var grants: [String: Set<String>?] = [:]
        for (token, value) in members {
            guard !token.isEmpty else { throw TokenFileError("a token is empty") }
            switch value {
            case .string("*"): grants[token] = .some(nil)
            case .array(let models):
                let names = models.compactMap(\.stringValue)
                guard names.count == models.count else { throw TokenFileError("token list for a token must hold model ids (strings)") }
                grants[token] = .some(Set(names))
            default: throw TokenFileError("each token maps to a list of model ids or \"*\"")
            }
        }
        self.grants = grants
    }

    public func authorize(_ report: CompletionReport) -> AuthorizationDecision {
        guard let header = report.authorization else {
            return .unauthenticated("missing authorization header (expected \"Bearer <token>\")")
        }
        guard header.hasPrefix("Bearer "), case let token = String(header.dropFirst(7)), !token.isEmpty else {
            return .unauthenticated("authorization header is not a bearer token")
        }
        guard let models = grants[token] else { return .unauthenticated("invalid bearer token") }
        if let models, !models.contains(report.modelId) {
            return .forbidden("token may not complete jobs of model \(report.modelId)")
        }
        return .allowed
    }
}

public struct TokenFileError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
