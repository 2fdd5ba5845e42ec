import CascadeDomain
import Foundation
import Kafka
import Postgres
import Synchronization

/// Publishes outbox rows with the idempotent producer and deletes them only after the broker
/// acknowledged them. A crash anywhere re-sends (never loses) a message; a re-send is
/// byte-identical, so its `event-id` is the same.
public final class OutboxRelay: @unchecked Sendable {
    private let settings: ServiceSettings
    private let producer: KafkaProducer
    private let wakeUp = DispatchSemaphore(value: 0)
    private let state = Mutex(RelayState())
    private let finished = DispatchSemaphore(value: 0)
    /// Called with every message after its delivery (the demo prints them).
    private let onPublished: (@Sendable (OutboxMessage) -> Void)?

    struct RelayState {
        var stopping = false
        var published = 0
        var failedDeliveries = 0
    }

    public init(settings: ServiceSettings, producer: KafkaProducer, onPublished: (@Sendable (OutboxMessage) -> Void)? = nil) {
        self.settings = settings
        self.producer = producer
        self.onPublished = onPublished
    }

    public var publishedCount: Int { state.withLock { $0.published } }

    /// Starts the relay thread. It opens its own database connection there.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "cascade-outbox-relay"
        thread.start()
    }

    /// New rows were committed: publish now rather than at the next tick.
    public func nudge() { wakeUp.signal() }

    /// Publishes what is left (bounded by `timeout`) and stops.
    public func stop(timeout: TimeInterval = 20) {
        state.withLock { $0.stopping = true }
        wakeUp.signal()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            Log.warning("outbox relay did not finish in time; unpublished rows stay in the outbox for the next start")
        }
    }

    private func run() {
        var db: PostgresConnection?
        var backoff = 0.1
        while true {
            let stopping = state.withLock { $0.stopping }
            do {
                if db == nil { db = try PostgresConnection(url: settings.databaseURL) }
                let published = try publishRound(db!)
                backoff = 0.1
                if published == settings.relayBatchSize { continue }  // more waiting: no pause
                if stopping { return }
                _ = wakeUp.wait(timeout: .now() + 0.2)
            } catch {
                if stopping { return }
                Log.warning("outbox relay round failed; retrying", ["error": "\(error)", "retry_in_s": "\(backoff)"])
                if let pg = error as? PostgresError, pg.kind == .connectionLost { db = nil }
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
    }

    /// One claim–produce–delete cycle in one transaction, in two round trips:
    /// (BEGIN + claim) before producing, (delete + COMMIT) after the delivery reports.
    private func publishRound(_ db: PostgresConnection) throws -> Int {
        let rows: [OutboxRow]
        do {
            rows = try OutboxStore.claimInNewTransaction(db, limit: settings.relayBatchSize)
        } catch {
            if db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
        guard !rows.isEmpty else {
            try db.query("COMMIT")
            return 0
        }
        do {
            let results = try producer.sendAndWait(rows.map { row in
                OutgoingMessage(topic: row.message.topic, key: row.message.key, value: row.message.value,
                                headers: row.message.headers.map { KafkaHeader($0.name, $0.value) })
            }, timeout: .seconds(40))
            var delivered: [Int64] = []
            var failures: [String] = []
            for (row, result) in zip(rows, results) {
                switch result {
                case .success:
                    delivered.append(row.id)
                    onPublished?(row.message)
                case .failure(let error):
                    failures.append("\(row.message.topic): \(error)")
                }
            }
            try OutboxStore.deleteAndCommit(db, ids: delivered)
            state.withLock {
                $0.published += delivered.count
                $0.failedDeliveries += failures.count
            }
            if let first = failures.first {
                Log.warning("some outbox rows were not delivered; they stay for the next round",
                            ["failed": "\(failures.count)", "first_error": first])
            }
            return delivered.count
        } catch {
            if db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
    }
}
