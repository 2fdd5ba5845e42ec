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

    /// Ends every session on it first: a relay or a test may still hold one.
    func drop() {
        _ = try? admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
