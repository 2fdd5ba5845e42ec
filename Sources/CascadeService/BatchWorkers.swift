import CascadeDomain
import Foundation
import Kafka
import Postgres
import ServiceThreads

/// Applies batches on `count` threads, each with its own PostgreSQL connection and its own
/// transactions, while the consumer thread keeps polling. A partition always goes to the same
/// worker, so reports of one job (one key, so one partition) are applied in order.
///
/// Each worker keeps its own FIFO of polled messages and takes up to a batch at a time. A
/// message is split to its worker once: re-offering held messages on every poll copied (and
/// atomically retained) thousands of them a millisecond, 5 % of a drain's CPU.
final class BatchWorkers: @unchecked Sendable {  // because every mutable field is guarded by `condition`
    private let count: Int
    private let settings: ServiceSettings
    private let onApplied: @Sendable (AppliedBatch) -> Void
    /// Opened with a reason when a batch meets a failure nothing here can fix.
    private let ending: Latch<ServiceEnding>
    /// Opens a worker's store (its own database connection); a test passes one that fails on demand.
    private let makeStore: @Sendable () throws -> any BatchStoring
    private let metrics: ServiceMetrics?
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var pending: [[KafkaMessage]]
    private var pendingBytes = 0
    private var busy: [Bool]
    /// When each busy worker's time was last counted (its batch's start, or the last take).
    private var countedUntil: [ContinuousClock.Instant?]
    /// Batches each worker has finished, to wait for the ones in progress at some moment.
    private var finished: [Int]
    private var applied: [TopicPartition: Int64] = [:]
    private var stopping = false
    /// Set by a stop: a batch that fails gives up instead of retrying.
    private var abandoning = false
    /// Partitions being revoked: a failing batch holding any of them stops retrying, drops their
    /// reports (the next owner consumes them from the committed offset) and hands the rest back
    /// to the head of its queue, so a revoke never waits for a database that is away.
    private var revoking: Set<TopicPartition> = []
    /// Set when a batch is given up (a stop, or a failure nothing can fix): no worker takes
    /// another batch, because a later batch of the same partition, applied and marked, would
    /// carry the committed offset past the reports given up and lose them.
    private var halted = false
    private var running = 0
    /// Seconds the workers spent applying batches since the last take, for the utilisation.
    private var busySeconds = 0.0
    /// When each worker last made progress: took a batch, tried one again, finished one, or
    /// was handed work while idle. Liveness fails when a worker holding work stops moving.
    private var lastProgress: [ContinuousClock.Instant]
    /// The batch each worker is applying, for the age of the oldest report not yet applied.
    private var inProgress: [[KafkaMessage]]
    /// Per partition: one past the last applied offset, and that report's timestamp.
    private var appliedPositions: [TopicPartition: (next: Int64, timestampMs: Int64?)] = [:]

    /// Reports per transaction at most.
    private var maxBatch: Int { max(1, settings.batchSize) }

    init(count: Int, settings: ServiceSettings, ending: Latch<ServiceEnding>,
         makeStore: (@Sendable () throws -> any BatchStoring)? = nil, metrics: ServiceMetrics? = nil,
         onApplied: @escaping @Sendable (AppliedBatch) -> Void) {
        self.count = max(1, count)
        self.settings = settings
        self.ending = ending
        self.makeStore = makeStore ?? { [url = settings.databaseURL] in BatchStore(db: try PostgresConnection(url: url)) }
        self.onApplied = onApplied
        self.metrics = metrics
        pending = Array(repeating: [], count: max(1, count))
        busy = Array(repeating: false, count: max(1, count))
        countedUntil = Array(repeating: nil, count: max(1, count))
        finished = Array(repeating: 0, count: max(1, count))
        lastProgress = Array(repeating: .now, count: max(1, count))
        inProgress = Array(repeating: [], count: max(1, count))
    }

    func start() {
        for index in 0..<count {
            condition.withLock { running += 1 }
            startServiceThread("cascade-work-\(index)") { [self] in work(index) }
        }
    }

    /// Queues the messages on their workers, in order.
    func submit(_ messages: [KafkaMessage]) {
        guard !messages.isEmpty else { return }
        condition.withLock {
            let now = ContinuousClock.now
            for message in messages {
                let index = worker(for: message)
                // An idle worker handed work starts its stall clock now, not at its last batch.
                if pending[index].isEmpty && !busy[index] { lastProgress[index] = now }
                pending[index].append(message)
                pendingBytes += Self.footprint(message)
            }
            condition.broadcast()
        }
    }

    /// Messages polled and not yet taken by a worker.
    var pendingCount: Int { condition.withLock { pending.reduce(0) { $0 + $1.count } } }

    /// Memory the pending messages hold, roughly: their bytes plus the arrays and struct.
    var pendingFootprint: Int { condition.withLock { pendingBytes } }

    static func footprint(_ message: KafkaMessage) -> Int { (message.value?.count ?? 0) + (message.key?.count ?? 0) + 160 }

    /// Waits until the pending messages hold less than `limit` bytes, or `timeout` passes.
    func waitForRoom(belowBytes limit: Int, timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(timeout.seconds)
        return condition.withLock {
            while pendingBytes >= limit {
                if !condition.wait(until: deadline) { return pendingBytes < limit }
            }
            return true
        }
    }

    /// Drops pending messages of partitions this member no longer owns (nil: all of them),
    /// unapplied and unmarked: whoever owns them next consumes them from the committed offset.
    func discardPending(of partitions: Set<TopicPartition>? = nil) {
        condition.withLock {
            for index in pending.indices {
                var kept: [KafkaMessage] = []
                for message in pending[index] {
                    if partitions?.contains(message.topicPartition) ?? true {
                        pendingBytes -= Self.footprint(message)
                    } else {
                        kept.append(message)
                    }
                }
                pending[index] = kept
            }
            if let partitions { partitions.forEach { appliedPositions[$0] = nil } } else { appliedPositions = [:] }
            condition.broadcast()
        }
    }

    /// Seconds spent applying since the last call, summed over workers.
    /// A batch still in progress counts up to now, and from now on for the next take: a batch
    /// that retried through a long outage once landed all at once in one interval, and the
    /// utilisation read 8.09.
    func takeBusySeconds() -> Double {
        condition.withLock {
            let now = ContinuousClock.now
            var total = busySeconds
            for index in countedUntil.indices {
                guard let since = countedUntil[index] else { continue }
                total += (now - since).seconds
                countedUntil[index] = now
            }
            busySeconds = 0
            return total
        }
    }

    /// The oldest last-progress instant among workers that hold work (a batch, or reports
    /// waiting); nil when none does, or when the workers were halted on purpose.
    func oldestProgressOfWorkersHoldingWork() -> ContinuousClock.Instant? {
        condition.withLock {
            guard !halted, !stopping else { return nil }
            return (0..<count).filter { busy[$0] || !pending[$0].isEmpty }.map { lastProgress[$0] }.min()
        }
    }

    /// For each partition: one past the last applied offset and that report's timestamp, and
    /// the timestamp of the oldest report in hand (being applied or waiting), for lag in seconds.
    func partitionProgress() -> (applied: [TopicPartition: (next: Int64, timestampMs: Int64?)], nextTimestampMs: [TopicPartition: Int64]) {
        condition.withLock {
            var next: [TopicPartition: Int64] = [:]
            // A partition's reports are in order on one worker: its batch first, then its queue.
            func note(_ message: KafkaMessage) {
                if next[message.topicPartition] == nil, let ts = message.timestampMs { next[message.topicPartition] = ts }
            }
            for index in 0..<count {
                inProgress[index].forEach(note)
                pending[index].forEach(note)
            }
            return (appliedPositions, next)
        }
    }

    /// The highest applied offset per partition since the last call.
    func takeApplied() -> [TopicPartition: Int64] {
        condition.withLock {
            defer { applied = [:] }
            return applied
        }
    }

    /// Blocks until the batches in progress now that hold any of `partitions` (nil: every
    /// batch in progress now) are finished; later ones do not count. With `discardPending`
    /// first, nothing of those partitions is applied after this returns. A batch of other
    /// partitions is not waited for: a revoke must not wait for a database that is away.
    func waitForBatchesInProgress(of partitions: Set<TopicPartition>? = nil) {
        condition.withLock {
            let waitedFor = (0..<count).filter { index in
                busy[index] && (partitions.map { p in inProgress[index].contains { p.contains($0.topicPartition) } } ?? true)
            }.map { ($0, finished[$0]) }
            while waitedFor.contains(where: { finished[$0.0] == $0.1 }) { condition.wait() }
            if let partitions { revoking.subtract(partitions) } else { revoking = [] }
        }
    }

    /// A batch failing from now on is given up, unmarked (its reports are redelivered to the
    /// partitions' next owner), instead of retried: a stop must not wait for a database.
    func abandonRetries() {
        condition.withLock {
            abandoning = true
            condition.broadcast()
        }
    }

    /// Until `waitForBatchesInProgress(of:)` returns, a failing batch holding any of `partitions`
    /// stops retrying: their reports are dropped unmarked, the others go back to the head of
    /// the worker's queue, in order, and no worker halts.
    func abandonRetries(of partitions: Set<TopicPartition>) {
        condition.withLock {
            revoking.formUnion(partitions)
            condition.broadcast()
        }
    }

    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while running > 0 { condition.wait() }
        }
    }

    private func worker(for message: KafkaMessage) -> Int {
        Int(message.partition) % count
    }

    private func work(_ index: Int) {
        defer { condition.withLock { running -= 1; condition.broadcast() } }
        var processor: BatchProcessor?
        var backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(5))
        while true {
            let batch: [KafkaMessage]? = condition.withLock {
                while (pending[index].isEmpty || halted) && !stopping { condition.wait() }
                guard !pending[index].isEmpty, !stopping, !halted else { return nil }
                busy[index] = true
                countedUntil[index] = .now
                lastProgress[index] = .now
                let take = min(maxBatch, pending[index].count)
                let batch = Array(pending[index].prefix(take))
                pending[index].removeFirst(take)
                pendingBytes -= batch.reduce(0) { $0 + Self.footprint($1) }
                inProgress[index] = batch
                condition.broadcast()  // room for the consumer
                return batch
            }
            guard let batch else { return }
            Failpoints.reach(.workerApply)
            let started = ContinuousClock.now
            let outcome = apply(batch, worker: index, processor: &processor, backoff: &backoff)
            let effects: AppliedBatch? = if case .applied(let applied) = outcome { applied } else { nil }
            if effects != nil { Failpoints.reach(.afterCommitBeforeMark) }
            condition.withLock {
                switch outcome {
                case .applied: break
                case .givenUp: halted = true
                case .handedBack:
                    let kept = batch.filter { !revoking.contains($0.topicPartition) }
                    pending[index].insert(contentsOf: kept, at: 0)
                    pendingBytes += kept.reduce(0) { $0 + Self.footprint($1) }
                }
                busySeconds += (ContinuousClock.now - countedUntil[index]!).seconds
                countedUntil[index] = nil
                if effects != nil {
                    // Once per run of one partition, with the run's highest offset, not per
                    // message: hashing the topic per message showed in callgrind.
                    for message in Self.highestOfEachPartitionRun(batch) {
                        if message.offset > applied[message.topicPartition] ?? -1 { applied[message.topicPartition] = message.offset }
                        // Not for partitions on their way out: an entry would outlive the revoke.
                        if !revoking.contains(message.topicPartition), message.offset >= appliedPositions[message.topicPartition]?.next ?? 0 {
                            appliedPositions[message.topicPartition] = (message.offset + 1, message.timestampMs)
                        }
                    }
                }
                inProgress[index] = []
                lastProgress[index] = .now
                busy[index] = false
                finished[index] += 1
                condition.broadcast()
            }
            if let effects {
                metrics?.recordBatch(batch, duration: .now - started, committedAtMs: Int64(Date().timeIntervalSince1970 * 1000))
                onApplied(effects)
            }
        }
    }

    /// For each run of consecutive messages of one partition in `batch`, in order, its message
    /// with the highest offset (the last one, as batches keep each partition's order; the
    /// highest all the same if one ever did not).
    static func highestOfEachPartitionRun(_ batch: [KafkaMessage]) -> [KafkaMessage] {
        var highest: [KafkaMessage] = []
        for (i, message) in batch.enumerated() {
            if i > 0, batch[i - 1].topicPartition == message.topicPartition {
                if message.offset > highest[highest.count - 1].offset { highest[highest.count - 1] = message }
            } else {
                highest.append(message)
            }
        }
        return highest
    }

    private enum Outcome {
        case applied(AppliedBatch)
        /// A stop, or a fatal failure: unmarked, so redelivered; the worker halts.
        case givenUp
        /// A revoke took some of its partitions while it retried: the rest goes back to the queue.
        case handedBack
    }

    /// Applies one batch, as FailurePolicy says: a transient failure is retried with backoff
    /// (a lost session resets itself on the next statement) until it succeeds, a stop gives it
    /// up or a revoke takes one of its partitions; anything the processor could not get past
    /// stops the member.
    private func apply(_ batch: [KafkaMessage], worker index: Int, processor: inout BatchProcessor?, backoff: inout Backoff) -> Outcome {
        let partitions = Set(batch.map(\.topicPartition))
        /// Why retrying must end now, if it must (under the lock).
        func interrupted() -> Outcome? {
            if abandoning || stopping { return .givenUp }
            return revoking.isDisjoint(with: partitions) ? nil : .handedBack
        }
        while true {
            condition.withLock { lastProgress[index] = .now }  // each attempt is progress, an outage's too
            do {
                if processor == nil {
                    processor = BatchProcessor(store: try makeStore(), planner: settings.planner, limits: settings.limits)
                }
                let applied = try processor!.process(batch)
                backoff.reset()
                return .applied(applied)
            } catch {
                metrics?.recordDatabaseError(error)
                if let outcome = condition.withLock(interrupted) { return outcome }
                switch FailurePolicy.disposition(of: error, isolatable: false, backoff: &backoff) {
                case .retry(let wait):
                    let lost = (error as? PostgresError)?.kind == .connectionLost
                    Log.warning(lost ? "database connection lost; retrying the batch" : "batch failed; retrying",
                                ["error": "\(error)", "retry_in_s": String(format: "%.2f", wait.seconds)])
                    let deadline = Date().addingTimeInterval(wait.seconds)
                    let stop = condition.withLock {
                        while interrupted() == nil && Date() < deadline { _ = condition.wait(until: deadline) }
                        return interrupted()
                    }
                    if let stop { return stop }  // not one more attempt: a reconnect to a database away can take minutes
                case .isolate, .fatal:
                    ending.open(.failure("a batch failed for a reason retrying cannot fix: \(error)"))
                    return .givenUp
                }
            }
        }
    }
}
