import CascadeDomain
import Foundation
import Kafka
import Postgres

/// Applies batches on `count` threads, each with its own PostgreSQL connection and its own
/// transactions, while the consumer thread keeps polling. A partition always goes to the same
/// worker, so reports of one job (one key, so one partition) are applied in order.
final class BatchWorkers: @unchecked Sendable {
    private let count: Int
    private let settings: ServiceSettings
    private let onApplied: @Sendable (AppliedBatch) -> Void
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var queues: [[[KafkaMessage]]]
    private var busy: [Bool]
    private var applied: [TopicPartition: Int64] = [:]
    private var stopping = false
    private var running = 0
    /// Seconds the workers spent applying batches, for the utilisation in the status line.
    private var busySeconds = 0.0

    /// Batches a worker may have waiting; beyond that the consumer holds messages back.
    private let queueCapacity = 2
    /// Reports per transaction at most.
    private var maxBatch: Int { max(1, settings.batchSize) }

    init(count: Int, settings: ServiceSettings, onApplied: @escaping @Sendable (AppliedBatch) -> Void) {
        self.count = max(1, count)
        self.settings = settings
        self.onApplied = onApplied
        queues = Array(repeating: [], count: max(1, count))
        busy = Array(repeating: false, count: max(1, count))
    }

    func start() {
        for index in 0..<count {
            condition.withLock { running += 1 }
            startServiceThread("cascade-work-\(index)") { [self] in work(index) }
        }
    }

    /// Queues the messages on their workers, in order. Returns those that did not fit, which
    /// the caller must offer again (before anything it polls later) to keep partition order.
    func submit(_ messages: [KafkaMessage]) -> [KafkaMessage] {
        var perWorker = Array(repeating: [KafkaMessage](), count: count)
        for message in messages { perWorker[worker(for: message)].append(message) }
        var accepted = Array(repeating: 0, count: count)  // a prefix of each worker's share
        condition.withLock {
            for (index, share) in perWorker.enumerated() {
                while accepted[index] < share.count && queues[index].count < queueCapacity {
                    let end = min(accepted[index] + maxBatch, share.count)
                    queues[index].append(Array(share[accepted[index]..<end]))
                    accepted[index] = end
                }
            }
            condition.broadcast()
        }
        var rejected: [KafkaMessage] = []
        for (index, share) in perWorker.enumerated() where accepted[index] < share.count {
            rejected += share[accepted[index]...]
        }
        // Per-partition order is what matters, and each partition lives in one share.
        return rejected
    }

    /// Waits until a worker that `messages` belong to can take a batch, or `timeout` passes.
    func waitForRoom(for messages: [KafkaMessage], timeout: TimeInterval) -> Bool {
        let needed = Set(messages.map(worker(for:)))
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while needed.allSatisfy({ queues[$0].count >= queueCapacity }) {
                if !condition.wait(until: deadline) { return !needed.allSatisfy { queues[$0].count >= queueCapacity } }
            }
            return true
        }
    }

    /// Seconds spent applying since the last call, summed over workers.
    func takeBusySeconds() -> Double {
        condition.withLock {
            defer { busySeconds = 0 }
            return busySeconds
        }
    }

    /// The highest applied offset per partition since the last call.
    func takeApplied() -> [TopicPartition: Int64] {
        condition.withLock {
            defer { applied = [:] }
            return applied
        }
    }

    /// Blocks until every queued batch is applied (or abandoned while stopping).
    func waitUntilIdle() {
        condition.withLock {
            while queues.contains(where: { !$0.isEmpty }) || busy.contains(true) { condition.wait() }
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
        while true {
            let batch: [KafkaMessage]? = condition.withLock {
                while queues[index].isEmpty && !stopping { condition.wait() }
                guard !queues[index].isEmpty else { return nil }
                busy[index] = true
                return queues[index].removeFirst()
            }
            guard let batch else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            let effects = apply(batch, processor: &processor)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            condition.withLock {
                busySeconds += elapsed
                if effects != nil {
                    for message in batch where message.offset > applied[message.topicPartition] ?? -1 {
                        applied[message.topicPartition] = message.offset
                    }
                }
                busy[index] = false
                condition.broadcast()
            }
            if let effects { onApplied(effects) }
        }
    }

    /// Applies one batch, retrying retriable failures with backoff (reconnecting when the
    /// connection was lost). Returns nil only when stopping cut the retries short: those
    /// reports are not marked, so they are redelivered.
    private func apply(_ batch: [KafkaMessage], processor: inout BatchProcessor?) -> AppliedBatch? {
        var backoff = 0.05
        while true {
            do {
                if processor == nil {
                    let db = try PostgresConnection(url: settings.databaseURL)
                    processor = BatchProcessor(db: db, planner: settings.planner,
                                               limits: settings.limits)
                }
                return try processor!.process(batch)
            } catch {
                if (error as? PostgresError)?.kind == .connectionLost { processor = nil }
                if condition.withLock({ stopping }) { return nil }
                Log.warning("batch failed; retrying", ["error": "\(error)", "retry_in_s": String(format: "%.2f", backoff)])
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, 5)
            }
        }
    }
}
