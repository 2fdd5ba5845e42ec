import CascadeDomain
import Foundation
import Kafka
import Postgres
import Synchronization
import ServiceThreads

/// Publishes outbox rows with the idempotent producer and deletes a row only after every
/// message in it was acknowledged or parked. A crash anywhere re-sends (never loses) a message;
/// a re-send is byte-identical, so its `event-id` is the same.
///
/// A row holds every message of one committed batch (OutboxFraming). Two paths lead here. Rows
/// this process just committed are handed over in memory, so the common case costs one DELETE
/// and no reading back. A sweep claims rows in row order with `FOR UPDATE SKIP LOCKED`, so
/// several members can sweep one table: live, rows older than `sweepAge` (left by a crash);
/// at start, on an assignment, after a delivery failure or a full hand-off queue, every row up
/// to a bound, until it has caught up (RelayState). Messages for one key therefore reach the broker in the order of their rows.
///
/// A message refused for good (too large, invalid, not authorized) is parked with its reason in
/// the transaction that deletes its row, so it never holds back the rest of its row, later rows
/// or the sweep. A transient failure keeps the whole row for a sweep (RowDisposition).
public final class OutboxRelay: Sendable {
    private let settings: ServiceSettings
    private let producer: KafkaProducer
    private let wakeUp = DispatchSemaphore(value: 0)
    private let state = Mutex(RelayState())
    private let finished = Latch<Void>()
    /// Opened with a reason when a round fails for a reason retrying cannot fix.
    private let ending: Latch<ServiceEnding>
    /// Called with every message after its delivery (the demo prints them).
    private let onPublished: (@Sendable (OutboxMessage) -> Void)?
    private let metrics: ServiceMetrics?

    /// Messages waiting in memory at most; beyond that their rows wait in the table for a sweep.
    static let handOffCapacity = 50_000
    /// Rows younger than this are on their way through some relay's hand-off; a sweep leaves them.
    static let sweepAge: Duration = .seconds(5)

    init(settings: ServiceSettings, producer: KafkaProducer, ending: Latch<ServiceEnding>,
         onPublished: (@Sendable (OutboxMessage) -> Void)? = nil, metrics: ServiceMetrics? = nil) {
        self.metrics = metrics
        self.settings = settings
        self.producer = producer
        self.ending = ending
        self.onPublished = onPublished
    }

    public var publishedCount: Int { state.withLock { $0.published } }
    /// Deliveries that failed for a reason that may pass; those rows stay for a later sweep.
    public var failedDeliveryCount: Int { state.withLock { $0.failedDeliveries } }
    /// Publishing the table in row order until it has caught up (RelayState).
    public var isCatchingUp: Bool { state.withLock { $0.catchingUp } }
    /// Messages refused for good and parked (`cascade parked list`).
    public var parkedCount: Int { state.withLock { $0.parked } }

    /// Starts the relay thread. It opens its own database connection there.
    public func start() {
        startServiceThread("cascade-relay") { [self] in
            run()
            finished.open()
        }
    }

    /// Rows of a committed transaction, to publish now.
    func handOff(_ rows: [OutboxBatch]) {
        guard !rows.isEmpty else { return }
        state.withLock { $0.handOff(rows, capacity: Self.handOffCapacity) }
        wakeUp.signal()
    }

    /// Partitions were assigned to this member: rows their last owner left (stopped or crashed)
    /// go out before anything new for the same keys (RelayState).
    func partitionsAssigned() {
        state.withLock { $0.fallBehind(purge: false) }
        wakeUp.signal()
    }

    /// Publishes what is left (bounded by `timeout`) and stops.
    public func stop(timeout: Duration = .seconds(20)) {
        state.withLock { $0.stopping = true }
        wakeUp.signal()
        if finished.wait(timeout: timeout) == nil {
            Log.warning("outbox relay did not finish in time; unpublished rows stay in the outbox for the next start")
        }
    }

    /// The driver of RelaySchedule: send what was handed over, then the step it names.
    private func run() {
        var db: PostgresConnection?
        var schedule = RelaySchedule(now: .now)
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
        var behindAfterFailure = false
        while true {
            let (handedOff, purge, snapshot) = state.withLock { s in
                defer { s.purgeDue = false }
                let snapshot = RelaySchedule.Snapshot(now: .now, sentRows: !s.handedOff.isEmpty, settledRows: s.settled.count,
                                                      inFlightRows: s.inFlight.count + s.handedOff.count, stopping: s.stopping,
                                                      catchingUp: s.catchingUp)
                return (s.takeHandedOff(), s.purgeDue, snapshot)
            }
            // A start or an assignment also begins behind (RelayState); only a failure is news.
            if purge && !behindAfterFailure {
                behindAfterFailure = true
                Log.warning("outbox relay fell behind (a delivery failed or the hand-off queue was full); publishing the outbox in row order until it has caught up")
            } else if !snapshot.catchingUp && behindAfterFailure {
                behindAfterFailure = false
                Log.info("outbox relay caught up; publishing rows as they are committed again")
            }
            // Anything still queued behind the failure would overtake it: fail it now, and its
            // rows are swept in order with the rest.
            if purge { producer.purgeQueued() }
            do {
                if db == nil { db = try PostgresConnection(url: settings.databaseURL) }
                // Sending never waits for the broker: deliveries come back on the producer's
                // thread, and the rows they settle are deleted in bulk.
                try send(handedOff)
                switch schedule.next(snapshot) {
                case .delete:
                    try deleteSettled(db!)
                    schedule.deleted(at: .now)
                case .flush:
                    try producer.flush(timeoutMs: 10_000)
                case .sweep:
                    let (claimed, settled) = try sweep(db!, catchingUp: snapshot.catchingUp)
                    schedule.swept(at: .now, claimed: claimed, settled: settled, stopping: snapshot.stopping)
                case .wait(let duration):
                    if duration > .zero { _ = wakeUp.wait(timeout: .now() + .milliseconds(duration.milliseconds)) }
                case .finish:
                    return
                }
                backoff.reset()
            } catch {
                // Rows of a failed round stay in the table; a sweep publishes them later.
                metrics?.recordDatabaseError(error)
                if snapshot.stopping { return }
                switch FailurePolicy.disposition(of: error, isolatable: false, backoff: &backoff) {
                case .retry(let wait):
                    Log.warning("outbox relay round failed; retrying", ["error": "\(error)", "retry_in_s": String(format: "%.2f", wait.seconds)])
                    Thread.sleep(forTimeInterval: wait.seconds)
                case .isolate, .fatal:
                    ending.open(.failure("the outbox relay failed for a reason retrying cannot fix: \(error)"))
                    return
                }
            }
        }
    }

    private func deleteSettled(_ db: PostgresConnection) throws {
        let rows = state.withLock { s in defer { s.settled = [] }; return s.settled }
        do {
            if !rows.isEmpty { try Failpoints.check(.relayAfterDelivery) }
            try OutboxStore.settle(rows, on: db)
        } catch {
            state.withLock { $0.settled += rows }  // deleted next time (or swept: re-sent, same bytes)
            throw error
        }
        noteParked(rows.flatMap(\.parking))
    }

    /// Each row is registered as in flight just before it is sent, so a send that throws leaves
    /// the rows after it unregistered: in the table, where the catching-up sweep finds them. If
    /// the relay fell behind meanwhile, the rest are held instead, ahead of rows held since.
    private func send(_ rows: [OutboxBatch]) throws {
        for (index, row) in rows.enumerated() {
            let live = state.withLock { s in
                if s.beginSending(row) { return true }
                s.holdUnsent(rows[index...])
                return false
            }
            guard live else { return }
            try send(row)
        }
    }

    private func send(_ row: OutboxBatch) throws {
        for (position, message) in row.messages.enumerated() {
            do {
                try producer.send(outgoing(message)) { [self] result in
                    Failpoints.reach(.relayAfterProduce)
                    let outcome = Self.outcome(of: result)
                    let wake = state.withLock { s in
                        let wasCatchingUp = s.catchingUp
                        s.record(outcome, row: row.id, position: position)
                        return s.settled.count >= RelaySchedule.deleteBatch || s.stopping || s.catchingUp != wasCatchingUp
                    }
                    if case .delivered = outcome { onPublished?(message) }
                    if case .failed = outcome {
                        Log.warning("outbox message not delivered; a later sweep retries its row",
                                    ["row": "\(row.id)", "topic": message.topic, "error": "\(result)"])
                    }
                    if wake { wakeUp.signal() }
                }
            } catch where error.isPermanentRefusal {
                // librdkafka refused it before sending (too large for message.max.bytes, say).
                state.withLock { $0.record(.refused(error), row: row.id, position: position) }
            } catch {
                // What was not sent counts as failed: the row stays for a sweep.
                state.withLock { s in
                    for rest in position..<row.messages.count { s.record(.failed, row: row.id, position: rest) }
                }
                throw error
            }
        }
    }

    private static func outcome(of result: DeliveryResult) -> MessageOutcome {
        switch result {
        case .success: .delivered
        case .failure(let error): error.isPermanentRefusal ? .refused(error) : .failed
        }
    }

    private func outgoing(_ message: OutboxMessage) -> OutgoingMessage {
        OutgoingMessage(topic: message.topic, key: message.key, value: message.value,
                        headers: message.headers.map { KafkaHeader($0.name, $0.value) })
    }

    /// Each parked message is logged once, when its row is deleted.
    private func noteParked(_ parked: [ParkedAt]) {
        guard !parked.isEmpty else { return }
        state.withLock { $0.parked += parked.count }
        for p in parked {
            Log.warning("message parked: the broker refused it for good; `cascade parked list` shows it", [
                "topic": p.parked.message.topic, "outbox_row": "\(p.row)", "position": "\(p.position)",
                "bytes": "\(p.parked.message.size)", "reason": p.parked.reason,
            ])
        }
    }

    /// One claim–produce–settle cycle in row order, in one transaction of two round trips (a
    /// third when catching up begins, to read the bound):
    /// old rows when live, every row up to the bound when catching up (the round's snapshot
    /// says which). Returns how many rows it claimed and how many of those it deleted. A
    /// catching-up sweep that reads the table to its bound and delivers everything it read
    /// makes the relay live again.
    private func sweep(_ db: PostgresConnection, catchingUp: Bool) throws -> (claimed: Int, resolved: Int) {
        let (busy, changes, knownBound) = state.withLock { ($0.busyRows, $0.changes, $0.catchUpBound) }
        return try db.withTransaction { tx in
            var bound: Int64?
            if catchingUp {
                let read = try knownBound ?? OutboxStore.lastId(in: tx)
                state.withLock { $0.setBound(read, readAfter: changes) }
                bound = read
            }
            let page = try OutboxStore.claim(in: tx, limit: RelaySchedule.sweepRowLimit,
                                             olderThan: catchingUp ? .zero : Self.sweepAge, upTo: bound, excluding: busy)
            let claimed = page.rows
            state.withLock { $0.claimed(Set(claimed.map(\.id))) }
            var rows: [OutboxBatch] = []
            var quarantine: [PipelineStatement] = []
            var quarantined: [SettledRow] = []
            for row in claimed {
                switch row {
                case .decoded(let batch): rows.append(batch)
                case let .undecodable(id, bytes, error):
                    // Moved aside whole: one bad row must not stop the sweep for every row after it.
                    Log.error("outbox row does not decode; parked whole", ["outbox_row": "\(id)", "error": "\(error)"])
                    quarantine.append(ParkedStore.insertUndecodableStatement(row: id, bytes: bytes, reason: "undecodable outbox row: \(error)"))
                    quarantined.append(SettledRow(id: id, parking: []))
                }
            }
            if !rows.isEmpty {
                Log.info("publishing outbox rows left behind", ["rows": "\(rows.count)",
                                                                "messages": "\(rows.reduce(0) { $0 + $1.messages.count })"])
            }
            if !claimed.isEmpty { try Failpoints.check(.sweep) }
            let settled: [SettledRow]
            do {
                settled = try produce(rows)
            } catch {
                state.withLock { $0.fallBehind() }  // its deliveries may still land, after newer rows'
                throw error
            }
            try OutboxStore.settle(quarantined + settled, in: tx, extra: quarantine)
            let resolved = quarantined.count + settled.count
            state.withLock { s in
                s.parked += quarantined.count
                if resolved < claimed.count {
                    s.fallBehind()  // kept rows go first, in order, before anything newer
                } else if catchingUp && page.reachedEnd {
                    _ = s.catchUp(ifUnchangedSince: changes)
                }
            }
            noteParked(settled.flatMap(\.parking))
            return (claimed.count, resolved)
        }
    }

    /// Sends and waits: the sweep's rows are claimed inside a transaction that must end.
    /// Returns the rows to delete: every message delivered or refused for good.
    private func produce(_ rows: [OutboxBatch]) throws -> [SettledRow] {
        guard !rows.isEmpty else { return [] }
        let results = try producer.sendAndWait(rows.flatMap(\.messages).map(outgoing), timeout: .seconds(40))
        var settled: [SettledRow] = []
        var failures: [String] = []
        var published = 0
        var index = 0
        for row in rows {
            var outcomes: [MessageOutcome] = []
            for message in row.messages {
                let outcome = Self.outcome(of: results[index])
                outcomes.append(outcome)
                switch outcome {
                case .delivered: published += 1; onPublished?(message)
                case .failed: failures.append("\(message.topic): \(results[index])")
                case .refused: break
                }
                index += 1
            }
            if case .delete(let parking) = RowDisposition.of(row, outcomes: outcomes) {
                settled.append(SettledRow(id: row.id, parking: parking))
            }
        }
        state.withLock {
            $0.published += published
            $0.failedDeliveries += failures.count
        }
        if let first = failures.first {
            Log.warning("some outbox messages were not delivered; a later sweep retries their rows",
                        ["failed": "\(failures.count)", "first_error": first])
        }
        return settled
    }
}
