import CascadeDomain
import Foundation
import Kafka
import Postgres
import Synchronization

/// Publishes outbox rows with the idempotent producer and deletes a row only after the broker
/// acknowledged every message in it. A crash anywhere re-sends (never loses) a message; a
/// re-send is byte-identical, so its `event-id` is the same.
///
/// A row holds every message of one committed batch (OutboxFraming). Two paths lead here. Rows
/// this process just committed are handed over in memory, so the common case costs one DELETE
/// and no reading back. A sweep claims rows that are older than `sweepAgeSeconds` (left by a
/// crash, a failed delivery, or an overflowing hand-off queue) with `FOR UPDATE SKIP LOCKED`, so
/// several members can sweep one table. A row with one refused message is swept whole, so the
/// others in it are published again: consumers already see re-sends, keyed by `event-id`.
public final class OutboxRelay: @unchecked Sendable {
    private let settings: ServiceSettings
    private let producer: KafkaProducer
    private let wakeUp = DispatchSemaphore(value: 0)
    private let state = Mutex(RelayState())
    private let finished = DispatchSemaphore(value: 0)
    /// Called with every message after its delivery (the demo prints them).
    private let onPublished: (@Sendable (OutboxMessage) -> Void)?

    /// Messages waiting in memory at most; beyond that their rows wait in the table for a sweep.
    static let handOffCapacity = 50_000
    static let sweepAgeSeconds = 5.0
    static let sweepIntervalSeconds = 1.0

    struct RelayState {
        var stopping = false
        var published = 0
        var failedDeliveries = 0
        var handedOff: [OutboxBatch] = []
        /// Rows sent and not yet fully reported; a sweep must not claim these.
        var inFlight: [Int64: InFlightRow] = [:]
        /// Rows whose every message was delivered, not yet deleted.
        var delivered: [Int64] = []

        /// Settles `count` messages of row `id`; a row is done when all of them are.
        mutating func settle(_ id: Int64, count: Int, delivered ok: Bool) {
            guard var row = inFlight[id] else { return }
            row.unsettled -= count
            if ok { published += count } else { failedDeliveries += count; row.refused = true }
            if row.unsettled > 0 { inFlight[id] = row; return }
            inFlight[id] = nil
            if !row.refused { delivered.append(id) }
        }
    }

    struct InFlightRow {
        var unsettled: Int
        var refused = false
    }

    /// Delivered rows are deleted in bulk once this many are waiting, or after deleteInterval.
    static let deleteBatch = 8
    static let deleteIntervalSeconds = 0.05
    /// Rows one sweep claims at most.
    static let sweepRowLimit = 16

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
        startServiceThread("cascade-relay") { [self] in
            run()
            finished.signal()
        }
    }

    /// Rows of a committed transaction, to publish now.
    func handOff(_ rows: [OutboxBatch]) {
        guard !rows.isEmpty else { return }
        state.withLock { s in
            var waiting = s.handedOff.reduce(0) { $0 + $1.messages.count }
            for row in rows where waiting + row.messages.count <= Self.handOffCapacity {
                s.handedOff.append(row)
                waiting += row.messages.count
            }
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
                for row in batch { s.inFlight[row.id] = InFlightRow(unsettled: row.messages.count) }
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
                    if swept == Self.sweepRowLimit { continue }  // more waiting
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

    private func send(_ row: OutboxBatch) throws {
        var sent = 0
        do {
            for message in row.messages {
                try producer.send(outgoing(message)) { [self] result in
                    let ok: Bool
                    if case .success = result { ok = true } else { ok = false }
                    let wake = state.withLock { s in
                        s.settle(row.id, count: 1, delivered: ok)
                        return s.delivered.count >= Self.deleteBatch || s.stopping
                    }
                    if ok { onPublished?(message) } else {
                        Log.warning("outbox message not delivered; a later sweep retries its row",
                                    ["row": "\(row.id)", "topic": message.topic, "error": "\(result)"])
                    }
                    if wake { wakeUp.signal() }
                }
                sent += 1
            }
        } catch {
            // What was not sent counts as refused: the row stays for a sweep.
            state.withLock { $0.settle(row.id, count: row.messages.count - sent, delivered: false) }
            throw error
        }
    }

    private func outgoing(_ message: OutboxMessage) -> OutgoingMessage {
        OutgoingMessage(topic: message.topic, key: message.key, value: message.value,
                        headers: message.headers.map { KafkaHeader($0.name, $0.value) })
    }

    /// One claim–produce–delete cycle over old rows, in one transaction of two round trips.
    private func sweep(_ db: PostgresConnection) throws -> Int {
        do {
            let inFlight = state.withLock { Array($0.inFlight.keys) + $0.delivered }
            let rows = try OutboxStore.claimInNewTransaction(db, limit: Self.sweepRowLimit, olderThanSeconds: Self.sweepAgeSeconds,
                                                             excluding: inFlight)
            if !rows.isEmpty {
                Log.info("publishing outbox rows left behind", ["rows": "\(rows.count)",
                                                                "messages": "\(rows.reduce(0) { $0 + $1.messages.count })"])
            }
            let delivered = rows.isEmpty ? [] : try produce(rows)
            try OutboxStore.deleteAndCommit(db, ids: delivered)
            return rows.count
        } catch {
            if db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
    }

    /// Sends and waits: the sweep's rows are claimed inside a transaction that must end.
    /// Returns the ids of the rows whose every message the broker acknowledged.
    private func produce(_ rows: [OutboxBatch]) throws -> [Int64] {
        let messages = rows.flatMap(\.messages)
        let results = try producer.sendAndWait(messages.map(outgoing), timeout: .seconds(40))
        var delivered: [Int64] = []
        var failures: [String] = []
        var published = 0
        var index = 0
        for row in rows {
            var refused = false
            for message in row.messages {
                switch results[index] {
                case .success:
                    published += 1
                    onPublished?(message)
                case .failure(let error):
                    refused = true
                    failures.append("\(message.topic): \(error)")
                }
                index += 1
            }
            if !refused { delivered.append(row.id) }
        }
        state.withLock {
            $0.published += published
            $0.failedDeliveries += failures.count
        }
        if let first = failures.first {
            Log.warning("some outbox messages were not delivered; a later sweep retries their rows",
                        ["failed": "\(failures.count)", "first_error": first])
        }
        return delivered
    }
}
