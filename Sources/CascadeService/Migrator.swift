import Postgres

/// Applies the schema migrations that are missing. Safe to run from many processes at once:
/// an advisory lock serialises them and each migration commits with its version row.
public enum Migrator {
    /// An arbitrary constant that names Cascade's migration lock.
    static let lockKey: Int64 = 0x6361_7363_6164_65

    /// Returns the versions applied by this call (empty when the schema was current).
    /// `upTo` stops at an earlier version (tests of a migration start from the one before).
    @discardableResult
    public static func migrate(_ db: PostgresConnection, upTo: Int = .max) throws -> [Int] {
        try db.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY, name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT clock_timestamp())
            """)
        try db.query("SELECT pg_advisory_lock($1)", [lockKey])
        defer { _ = try? db.query("SELECT pg_advisory_unlock($1)", [lockKey]) }
        let done = Set(try db.query("SELECT version FROM schema_migrations").rows.map { try $0.int("version") })
        var applied: [Int] = []
        for migration in Schema.migrations where !done.contains(Int64(migration.version)) && migration.version <= upTo {
            try db.withTransaction { tx in
                try tx.execute(script: migration.sql)
                try tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
            }
            applied.append(migration.version)
        }
        return applied
    }

    public static var latestVersion: Int { Schema.migrations.map(\.version).max() ?? 0 }
}
