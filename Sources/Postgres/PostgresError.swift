/// A PostgreSQL or libpq failure, classified by SQLSTATE so callers know whether to retry.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case serializationFailure   // 40001
        case deadlock               // 40P01
        case connectionLost         // class 08, 57P01..57P03, or libpq lost the socket
        case uniqueViolation        // 23505
        case foreignKeyViolation    // 23503
        case checkViolation         // 23514
        case notNullViolation       // 23502
        case invalidInput           // class 22 (bad text for a type, for example)
        case programLimitExceeded   // class 54 (a value too large to store, for example)
        case temporarilyUnavailable // class 53 (out of disk, memory, connections), 58, 57014 (statement timeout), 55P03 (lock timeout)
        case client                 // misuse or a decoding error on our side
        case other
    }

    public let kind: Kind
    /// Five-character SQLSTATE, nil when the failure never reached the server.
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let constraint: String?

    public init(kind: Kind, sqlState: String?, message: String, detail: String? = nil, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
    }

    public init(sqlState: String?, message: String, detail: String? = nil, constraint: String? = nil) {
        self.init(kind: Self.classify(sqlState), sqlState: sqlState, message: message, detail: detail, constraint: constraint)
    }

    /// Serialization failures, deadlocks, lost connections and exhausted resources succeed
    /// when the work is redone, later.
    public var isRetriable: Bool {
        kind == .serializationFailure || kind == .deadlock || kind == .connectionLost || kind == .temporarilyUnavailable
    }

    /// A connection attempt that waiting cannot cure: credentials refused by the server, or a
    /// malformed connection string. Workers retry every connection failure all the same (a
    /// password may be fixed while they run); a start-up wait gives up at once.
    public var isPermanentConnectFailure: Bool {
        kind == .connectionLost && sqlState == nil && ConnectFailure.isPermanent(message)
    }

    public static func client(_ message: String) -> PostgresError {
        PostgresError(kind: .client, sqlState: nil, message: message)
    }

    public static func classify(_ sqlState: String?) -> Kind {
        guard let s = sqlState else { return .connectionLost }
        switch s {
        case "40001": return .serializationFailure
        case "40P01": return .deadlock
        case "23505": return .uniqueViolation
        case "23503": return .foreignKeyViolation
        case "23514": return .checkViolation
        case "23502": return .notNullViolation
        case "57P01", "57P02", "57P03": return .connectionLost
        case "57014", "55P03": return .temporarilyUnavailable
        default:
            if s.hasPrefix("08") { return .connectionLost }
            if s.hasPrefix("22") { return .invalidInput }
            if s.hasPrefix("54") { return .programLimitExceeded }
            if s.hasPrefix("53") || s.hasPrefix("58") { return .temporarilyUnavailable }
            return .other
        }
    }

    public var description: String {
        var text = sqlState.map { "\($0) \(message)" } ?? message
        if let detail { text += " (\(detail))" }
        return text
    }
}
