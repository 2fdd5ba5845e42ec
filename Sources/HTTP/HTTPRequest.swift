/// The protocol versions this server speaks. Anything else is refused while parsing.
public enum HTTPVersion: String, Sendable, Equatable {
    case http1_0 = "HTTP/1.0"
    case http1_1 = "HTTP/1.1"
}

/// One complete request, as the parser produced it. Nothing is percent-decoded: `path` and
/// `query` are the raw halves of `target`, so routing compares exactly what was sent.
public struct HTTPRequest: Sendable, Equatable {
    /// The method token, case preserved (methods are case-sensitive: `get` is not `GET`).
    public let method: String
    /// The request target in origin form, e.g. `/metrics?name[]=x`.
    public let target: String
    public let version: HTTPVersion
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders, body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// `target` up to the first `?`.
    public var path: String {
        String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0])
    }

    /// What follows the first `?`, or nil when there is no `?`.
    public var query: String? {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count == 2 ? String(parts[1]) : nil
    }

    /// Whether the client expects the connection to stay open after the response: HTTP/1.1
    /// persists unless `Connection: close`; HTTP/1.0 closes unless `Connection: keep-alive`.
    public var keepAlive: Bool {
        let options = headers.values(for: "Connection")
            .flatMap { $0.split(separator: ",") }
            .map { String($0.filter { $0 != " " && $0 != "\t" }) }
        if options.contains(where: { $0.equalsIgnoringASCIICase("close") }) { return false }
        switch version {
        case .http1_1: return true
        case .http1_0: return options.contains { $0.equalsIgnoringASCIICase("keep-alive") }
        }
    }
}
