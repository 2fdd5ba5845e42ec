#if canImport(Glibc)
import Glibc
#endif

/// Where a server listens: an IP literal (or `localhost`) and a port, from `HOST:PORT`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Family: Sendable, Equatable { case ipv4, ipv6 }

    /// The numeric host to bind: `localhost` is already resolved to `127.0.0.1`.
    public let host: String
    public let family: Family
    /// 0 asks the kernel for any free port.
    public let port: Int

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `HOST:PORT`: `127.0.0.1:9090`, `0.0.0.0:9090`, `localhost:9090`, `[::]:9090`,
    /// `[::1]:0`. Host names other than `localhost` are refused rather than looked up, so
    /// starting the service never waits on DNS.
    public static func parse(_ text: String) throws(ListenAddressError) -> ListenAddress {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .unclosedBracket(text) }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else { throw .missingPort(text) }
            portPart = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            // An unbracketed IPv6 literal has several colons; which one starts the port is a guess.
            if hostPart.contains(":") { throw .invalidHost(text, String(hostPart)) }
        }
        guard !hostPart.isEmpty else { throw .emptyHost(text) }
        guard !portPart.isEmpty else { throw .missingPort(text) }
        guard portPart.utf8.allSatisfy(\.isDigit), portPart.count <= 5, let port = Int(portPart) else {
            throw .invalidPort(text, String(portPart))
        }
        guard port <= 65535 else { throw .portOutOfRange(text, port) }
        if text.hasPrefix("[") {
            guard isIPLiteral(hostPart, family: AF_INET6) else { throw .invalidHost(text, String(hostPart)) }
            return ListenAddress(host: String(hostPart), family: .ipv6, port: port)
        }
        if hostPart == "localhost" { return ListenAddress(host: "127.0.0.1", family: .ipv4, port: port) }
        guard isIPLiteral(hostPart, family: AF_INET) else { throw .invalidHost(text, String(hostPart)) }
        return ListenAddress(host: String(hostPart), family: .ipv4, port: port)
    }

    private init(host: String, family: Family, port: Int) {
        self.host = host
        self.family = family
        self.port = port
    }
}

private func isIPLiteral(_ host: Substring, family: Int32) -> Bool {
    var storage = in6_addr()  // large enough for either family
    return inet_pton(family, String(host), &storage) == 1
}

/// Why a listen address was refused, phrased for a usage message.
public enum ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingPort(String)
    case emptyHost(String)
    case invalidPort(String, String)
    case portOutOfRange(String, Int)
    case invalidHost(String, String)
    case unclosedBracket(String)

    public var description: String {
        switch self {
        case .missingPort(let text): "listen address '\(text)' has no port; expected HOST:PORT, e.g. 127.0.0.1:9090"
        case .emptyHost(let text): "listen address '\(text)' has no host; use 0.0.0.0 for every interface"
        case .invalidPort(let text, let port): "listen address '\(text)': port '\(port)' is not a number"
        case .portOutOfRange(let text, let port): "listen address '\(text)': port \(port) is outside 0...65535"
        case .invalidHost(let text, let host):
            "listen address '\(text)': host '\(host)' is not an IPv4 literal, a bracketed IPv6 literal or localhost"
        case .unclosedBracket(let text): "listen address '\(text)' opens '[' without closing it"
        }
    }
}
