/// Where a database URL points, for a log line: user, host, port and database, never the
/// password (a secret never reaches a log).
enum DatabaseAddress {
    /// `postgres://user:secret@host:5432/db?sslmode=require` → `postgres://user@host:5432/db`;
    /// a libpq `key=value` string keeps every pair but `password`; nil (the `PG*` variables)
    /// says so.
    static func redacted(_ url: String?) -> String {
        guard let url, !url.isEmpty else { return "(libpq PG* variables)" }
        if let scheme = url.range(of: "://") {
            var rest = url[scheme.upperBound...]
            if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                let user = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                rest = user.isEmpty ? rest[rest.index(after: at)...] : Substring(user + "@" + rest[rest.index(after: at)...])
            }
            return String(url[..<scheme.upperBound]) + rest
        }
        return url.split(separator: " ").filter { !$0.lowercased().hasPrefix("password=") }.joined(separator: " ")
    }
}
