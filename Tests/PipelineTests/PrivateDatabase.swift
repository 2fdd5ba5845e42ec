import Foundation
import Postgres
import TestSupport

/// A database of its own on the test server, for tests that need an empty schema or a table
/// no other test writes to (the outbox sweep claims every old row it finds). Dropped by `drop()`.
final class PrivateDatabase {
    let name: String
    let url: String
    private let admin: PostgresConnection

    init(_ prefix: String) throws {
        let serverURL = try TestEnvironment.databaseURL
        admin = try PostgresConnection(url: serverURL)
        name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try admin.query("CREATE DATABASE \(name)")
        guard let slash = serverURL.range(of: "/", options: .backwards) else { throw PostgresError.client("no database in \(serverURL)") }
        url = serverURL[..<slash.lowerBound] + "/\(name)"
    }

    /// An outage, as clients see it: no new session is accepted (superusers included), and
    /// `terminateSessions` ends the open ones.
    func allowConnections(_ allowed: Bool) throws {
        try admin.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS \(allowed)")
    }

    func terminateSessions() throws {
        try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name])
    }

    /// Ends every session on it first: a relay or a test may still hold one.
    func drop() {
        _ = try? admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
