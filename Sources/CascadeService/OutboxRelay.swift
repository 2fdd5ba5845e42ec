import CascadeDomain
import Foundation
import Kafka
import Postgres
import Synchronization

/// Publishes outbox rows with the idempotent producer and deletes them only after the broker
/// acknowledged them. A crash anywhere re-sends (never loses) a message; a re-send is
/// byte-identical, so its `event-id` is the same.
///
/// Two paths lead here. Rows this process just committed are handed over in memory, so the
/// common case costs one DELETE and no reading back. A sweep claims rows that are older than
/// `sweepAgeSeconds` (left by a crash, a failed delivery, or an overflowing hand-off queue)
/// with `FOR UPDATE SKIP LOCKED`, so several members can sweep one table.
public final class OutboxRelay: @unchecked Sendable {
    private let settings: ServiceSettings
    private let producer: KafkaProducer
    private let wakeUp = DispatchSemaphore(value: 0)
    private let state = Mutex(RelayState())
    private let finished = DispatchSemaphore(value: 0)
    /// Called with every message after its delivery (the demo prints them).
    private let onPublished: (@Sendable (OutboxMessage) -> Void)?

    /// Rows waiting in memory at most; beyond that they wait in the table for a sweep.
    static let handOffCapacity = 50_000
    static let sweepAgeSeconds = 5.0
    static let sweepIntervalSeconds = 1.0

    struct RelayState {
        var stopping = false
        var published = 0
        var failedDeliveries = 0
        var handedOff: [OutboxRow] = []
        /// Sent and not yet reported; a sweep must not claim these.
        var inFlight = Set<Int64>()
        /// Reported delivered and not yet deleted.
        var delivered: [Int64] = []
    }

    /// Delivered rows are deleted in bulk once this many are waiting, or after deleteInterval.
    static let deleteBatch = 1000
    static let deleteIntervalSeconds = 0.05

    public init(settings: ServiceSettings, producer: KafkaProducer, onPublished: (@Sendable (OutboxMessage) -> Void)? = nil) {
        self.settings = settings
        self.producer = producer
        self.onPublished = onPublished
    }

    public var publishedCount: Int { state.withLock { $0.published } }
    /// Deliveries the broker refused; those rows stay for a later sweep.
    public var failedDeliveryCount: Int { state.withLock { $0.failedDeliveries } }

    /// Starts the relay thread. It opens its own database connection there.
    public func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "cascade-outbox-relay"
        thread.start()
    }

    /// Rows of a committed transaction, to publish now.
    func handOff(_ rows: [OutboxRow]) {
        guard !rows.isEmpty else { return }
        state.withLock { s in
            let room = max(0, Self.handOffCapacity - s.handedOff.count)
            s.handedOff += rows.prefix(room)
        }
        wakeUp.signal()
    }

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
        var lastSweep = Date.distantPast
        var lastDelete = Date()
        while true {
            let (stopping, batch, deliveredCount, inFlightCount) = state.withLock { s in
                let batch = s.handedOff
                s.handedOff = []
                for row in batch { s.inFlight.insert(row.id) }
                return (s.stopping, batch, s.delivered.count, s.inFlight.count)
            }
            do {
                if db == nil { db = try PostgresConnection(url: settings.databaseURL) }
                // Sending never waits for the broker: deliveries come back on the producer's
                // thread, and the rows they cover are deleted in bulk below.
                for row in batch { try send(row) }
                let deleteDue = deliveredCount >= Self.deleteBatch
                    || (deliveredCount > 0 && (Date().timeIntervalSince(lastDelete) >= Self.deleteIntervalSeconds || stopping))
                if deleteDue {
                    let ids = state.withLock { s in defer { s.delivered = [] }; return s.delivered }
                    do {
                        try OutboxStore.delete(db!, ids: ids)
                    } catch {
                        state.withLock { $0.delivered += ids }  // deleted next time (or swept: re-sent, same bytes)
                        throw error
                    }
                    lastDelete = Date()
                } else if stopping && inFlightCount > 0 {
                    try producer.flush(timeoutMs: 10_000)
                } else if stopping || Date().timeIntervalSince(lastSweep) >= Self.sweepIntervalSeconds {
                    let swept = try sweep(db!)
                    lastSweep = Date()
                    if swept == settings.relayBatchSize { continue }  // more waiting
                    if stopping { return }
                } else if batch.isEmpty {
                    let wait = deliveredCount > 0 ? Self.deleteIntervalSeconds : Self.sweepIntervalSeconds
                    _ = wakeUp.wait(timeout: .now() + wait)
                }
                backoff = 0.1
            } catch {
                // Rows of a failed round stay in the table; a sweep publishes them later.
                if stopping { return }
                Log.warning("outbox relay round failed; retrying", ["error": "\(error)", "retry_in_s": "\(backoff)"])
                if let pg = error as? PostgresError, pg.kind == .connectionLost { db = nil }
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
    }

    private func send(_ row: OutboxRow) throws {
        let message = OutgoingMessage(topic: row.message.topic, key: row.message.key, value: row.message.value,
                                      headers: row.message.headers.map { KafkaHeader($0.name, $0.value) })
        do {
            try producer.send(message) { [self] result in
                let ok: Bool
                if case .success = result { ok = true } else { ok = false }
                let wake = state.withLock { s in
                    s.inFlight.remove(row.id)
                    if ok {
                        s.delivered.append(row.id)
                        s.published += 1
                    } else {
                        s.failedDeliveries += 1
                    }
                    return s.delivered.count >= Self.deleteBatch || s.stopping
                }
                if ok { onPublished?(row.message) } else {
                    Log.warning("outbox row not delivered; a later sweep retries it", ["topic": row.message.topic, "error": "\(result)"])
                }
                if wake { wakeUp.signal() }
            }
        } catch {
            state.withLock { _ = $0.inFlight.remove(row.id) }
            throw error
        }
    }

    /// One claim–produce–delete cycle over old rows, in one transaction of two round trips.
    private func sweep(_ db: PostgresConnection) throws -> Int {
        do {
            let inFlight = state.withLock { Array($0.inFlight) + $0.delivered }
            let rows = try OutboxStore.claimInNewTransaction(db, limit: settings.relayBatchSize, olderThanSeconds: Self.sweepAgeSeconds,
                                                             excluding: inFlight)
            if !rows.isEmpty { Log.info("publishing outbox rows left behind", ["rows": "\(rows.count)"]) }
            let delivered = rows.isEmpty ? [] : try produce(rows)
            try OutboxStore.deleteAndCommit(db, ids: delivered)
            return rows.count
        } catch {
            if db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
    }

    /// Sends and waits: the sweep's rows are claimed inside a transaction that must end.
    /// Returns the ids whose messages the broker acknowledged.
    private func produce(_ rows: [OutboxRow]) throws -> [Int64] {
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
        state.withLock {
            $0.published += delivered.count
            $0.failedDeliveries += failures.count
        }
        if let first = failures.first {
            Log.warning("some outbox rows were not delivered; a later sweep retries them",
                        ["failed": "\(failures.count)", "first_error": first])
        }
        return delivered
    }
}
