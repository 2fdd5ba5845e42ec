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
