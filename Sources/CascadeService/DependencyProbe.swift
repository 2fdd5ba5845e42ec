import Foundation
import Kafka
import Postgres

/// Asks the broker and PostgreSQL, about once a second, whether they answer, and records it
/// in `ServiceTelemetry` for readiness, the status line and `cascade_dependency_reachable`.
/// Traffic cannot tell: an idle member touches neither, and a member paused by an outage
/// stops asking. Its own thread, its own admin client and its own database connection, so a
/// dependency that hangs delays only the probe (readiness then fails for want of an answer).
/// The same database round trip reads the outbox's size and age.
final class DependencyProbe: Sendable {
    private let settings: ServiceSettings
    private let telemetry: ServiceTelemetry
    private let stopRequest = Latch<Void>()
    private let finished = Latch<Void>()
    private let started = Latch<Void>()
    static let interval: Duration = .seconds(1)

    init(settings: ServiceSettings, telemetry: ServiceTelemetry) {
        self.settings = settings
        self.telemetry = telemetry
    }

    func start() {
        started.open()
        startServiceThread("cascade-probe") { [self] in
            run()
            finished.open()
        }
    }

    /// Waits for the thread only if it was started (a failed start never starts it).
    func stop() {
        stopRequest.open()
        if started.isOpen { finished.wait() }
    }

    private func run() {
        var admin: KafkaAdmin?
        var db: PostgresConnection?
        repeat {
            do {
                if admin == nil { admin = try KafkaAdmin(config: settings.adminConfig()) }
                _ = try admin!.partitionCount(settings.topics.reports, timeoutMs: 2_000)
                telemetry.reached(.kafka)
            } catch {
                telemetry.missed(.kafka, problem: "\(error)")
            }
            do {
                if db == nil { db = try PostgresConnection(url: settings.databaseURL) }
                telemetry.outboxStats(try Self.outboxStats(db!))
                telemetry.reached(.postgres)
            } catch {
                telemetry.missed(.postgres, problem: "\(error)")
                db = nil  // a fresh connection next time: the old session may be gone
            }
        } while stopRequest.wait(timeout: Self.interval) == nil
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
