import Foundation
import Kafka
import Postgres
import ServiceThreads

/// Asks one dependency, about once a second, whether it answers, and records it in
/// `ServiceTelemetry` for readiness, the status line and `cascade_dependency_reachable`.
/// Traffic cannot tell: an idle member touches neither the broker nor the database, and a
/// member paused by an outage stops asking. Each dependency has its own thread and its own
/// client, so one that hangs delays only its own probe (readiness then fails for want of an
/// answer) and never the other's.
final class DependencyProbe: Sendable {
    private let dependency: ServiceHealth.Dependency
    private let telemetry: ServiceTelemetry
    /// One round: throws when the dependency did not answer. Runs on the probe's thread only.
    private let check: @Sendable () throws -> Void
    private let stopRequest = Latch<Void>()
    private let finished = Latch<Void>()
    private let started = Latch<Void>()
    static let interval: Duration = .seconds(1)

    private init(_ dependency: ServiceHealth.Dependency, telemetry: ServiceTelemetry, check: @escaping @Sendable () throws -> Void) {
        self.dependency = dependency
        self.telemetry = telemetry
        self.check = check
    }

    /// The broker: a metadata request on a client of the probe's own.
    static func kafka(_ settings: ServiceSettings, telemetry: ServiceTelemetry) -> DependencyProbe {
        // Made and used on the probe's thread only.
        nonisolated(unsafe) var admin: KafkaAdmin?
        return DependencyProbe(.kafka, telemetry: telemetry) {
            if admin == nil { admin = try KafkaAdmin(config: settings.adminConfig()) }
            _ = try admin!.partitionCount(settings.topics.reports, timeoutMs: 2_000)
        }
    }

    /// PostgreSQL: `SELECT 1` on a connection of the probe's own, then the outbox's size and age
    /// (which fail harmlessly before the first migration).
    static func postgres(_ settings: ServiceSettings, telemetry: ServiceTelemetry) -> DependencyProbe {
        nonisolated(unsafe) var db: PostgresConnection?
        return DependencyProbe(.postgres, telemetry: telemetry) {
            do {
                if db == nil { db = try PostgresConnection(url: settings.databaseURL) }
                try db!.query("SELECT 1")
            } catch {
                db = nil  // a fresh connection next time: the old session may be gone
                throw error
            }
            if let stats = try? outboxStats(db!) { telemetry.outboxStats(stats) }
        }
    }

    func start() {
        started.open()
        startServiceThread("cascade-probe-\(dependency.rawValue.prefix(2))") { [self] in
            var wasReachable = true
            repeat {
                do {
                    try check()
                    telemetry.reached(dependency)
                    if !wasReachable { Log.info("\(dependency.displayName) answers again") }
                    wasReachable = true
                } catch {
                    // The detail goes to the log, once per outage; /readyz says only how long.
                    if wasReachable { Log.warning("\(dependency.displayName) does not answer", ["error": "\(error)"]) }
                    wasReachable = false
                }
            } while stopRequest.wait(timeout: Self.interval) == nil
            finished.open()
        }
    }

    /// Stops the probe, waiting at most `timeout` for a round in progress (libpq's and
    /// librdkafka's own timeouts bound it); a stop never hangs on a dependency that hangs.
    func stop(timeout: Duration = .seconds(3)) {
        stopRequest.open()
        if started.isOpen { _ = finished.wait(timeout: timeout) }
    }

    /// One small query: the outbox holds a row per committed batch until the relay publishes it.
    static func outboxStats(_ db: PostgresConnection) throws -> ServiceTelemetry.OutboxStats {
        let row = try db.query("""
            SELECT count(*) AS rows, coalesce(sum(message_count), 0) AS messages,
                   coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8::text AS age
            FROM outbox
            """).first
        guard let row else { throw ServiceError.missingRow("outbox statistics") }
        return .init(rows: try row.int("rows"), messages: try row.int("messages"), oldestAgeSeconds: Double(try row.string("age")) ?? 0)
    }
}
