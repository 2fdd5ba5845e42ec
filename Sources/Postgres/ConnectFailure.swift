import Foundation

/// What a failed connection attempt says, made safe to log and classified for a start-up wait.
enum ConnectFailure {
    /// libpq repeats parts of a malformed connection string in its message (an unencoded `%`
    /// in a password comes back as `invalid percent-encoded token: "<password>"`), so every
    /// spelling of the URL's password is replaced before the message leaves this module.
    static func scrubbed(_ message: String, url: String?) -> String {
        var scrubbed = message
        for secret in passwords(in: url ?? "") where !secret.isEmpty {
            scrubbed = scrubbed.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return scrubbed
    }

    /// The password of a `postgres://user:password@host/db` URL, raw and percent-decoded, or of
    /// a `password=…` pair in a key=value string.
    static func passwords(in url: String) -> [String] {
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return [] }
            let raw = String(authority[authority.index(after: colon)..<at])
            return [raw, raw.removingPercentEncoding].compactMap { $0 }
        }
        return url.split(separator: " ").compactMap { pair -> String? in
            guard pair.lowercased().hasPrefix("password=") else { return nil }
            return String(pair.dropFirst("password=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
    }

    /// Failures that waiting cannot cure: the server answered and refused these credentials,
    /// or the connection string itself is malformed.
    static func isPermanent(_ message: String) -> Bool {
        ["password authentication failed", "no pg_hba.conf entry", "invalid URI", "invalid connection option",
         "invalid percent-encoded token", "missing \"=\" after", "invalid sslmode value", "unterminated quoted string"]
            .contains { message.contains($0) }
    }
}
