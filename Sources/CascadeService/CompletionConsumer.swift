import CascadeDomain
import Foundation
import Kafka
import Synchronization

/// The poll loop: it polls reports, hands each partition's share to its batch worker (one
/// transaction per batch there), and marks and commits offsets only for what the workers
/// committed. Runs on its own thread; every Kafka and PostgreSQL call here blocks.
public final class CompletionConsumer: @unchecked Sendable {
    private let settings: ServiceSettings
    private let relay: OutboxRelay?
    private let stopping = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let tallies = Mutex(Counters())

    public struct Counters: Sendable {
        public var batches = 0
        public var reports = 0
        public var byCode: [Int: Int] = [:]
        /// Reports whose message key was not their job id (applied all the same).
        public var keyMismatches = 0
    }

    public init(settings: ServiceSettings, relay: OutboxRelay?) {
        self.settings = settings
        self.relay = relay
    }

    public var counters: Counters { tallies.withLock { $0 } }

    public func start() {
        startServiceThread("cascade-consume") { [self] in
            do {
                try run()
            } catch {
                // A member that cannot consume must not linger half alive: exit so the
                // orchestrator restarts it. Nothing is lost, since offsets only follow commits.
                Log.error("consumer stopped on an error; exiting", ["error": "\(error)"])
                exit(70)
            }
            finished.signal()
        }
    }

    /// Asks the loop to finish its batch, commit, and leave the group; waits for it.
    public func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func run() throws {
        // The schema is migrated by CascadeRuntime.start; each worker opens (and re-opens) its own connection.
        let workers = BatchWorkers(count: settings.workers, settings: settings) { [self] applied in
            record(applied)
            relay?.handOff(applied.outbox)
        }
        workers.start()
        defer { workers.stop() }
        var paused = false
        // Set right after creation; the revoke callback needs it to mark what the workers finished.
        var consumerRef: KafkaConsumer?
        func markApplied() {
            for (tp, offset) in workers.takeApplied() { consumerRef?.markProcessed(tp, offset: offset) }
        }

        let consumer = try KafkaConsumer(config: settings.consumerConfig()) { event in
            switch event {
            case .assigned(let partitions):
                Log.info("partitions assigned", ["partitions": partitions.map(\.description).joined(separator: ",")])
            case .revoked(let partitions), .lost(let partitions):
                // Messages no worker has started are left for the next owner; what the
                // workers are applying is finished, so it can be committed before the partitions go.
                workers.discardPending(of: Set(partitions))
                workers.waitForBatchesInProgress()
                markApplied()  // the consumer commits these before letting the partitions go
                Log.info("partitions revoked", ["partitions": partitions.map(\.description).joined(separator: ",")])
            }
        }
        consumerRef = consumer
        try consumer.subscribe([settings.topics.reports])
        Log.info("consuming", ["topic": settings.topics.reports, "group": settings.groupId,
                               "batch_size": "\(settings.batchSize)", "workers": "\(settings.workers)"])

        var lastStatus = Date()
        var lastCommit = Date.distantPast
        var lastHeartbeat = Date.distantPast
        // Polled messages waiting for their worker, in bytes, at most. One partition's fetched
        // messages arrive together, in runs of thousands, so this must hold several runs per
        // worker: otherwise a busy worker's run fills it and an idle worker starves (measured:
        // a 4,000-message cap kept the workers 70 % busy; this one, 96 %). Past it polling stops,
        // and a stall (the database is down) pauses fetching, so memory stays flat.
        let pendingLimit = settings.pendingBytesLimit
        while !isStopping {
            if workers.pendingFootprint < pendingLimit {
                workers.submit(try consumer.poll(maxMessages: settings.batchSize, timeoutMs: 100, lingerMs: settings.batchLingerMs))
                if paused {
                    try consumer.resume(Array(consumer.assignment))
                    paused = false
                    Log.info("workers caught up; fetching resumed", ["pending": "\(workers.pendingCount)"])
                }
            } else if !workers.waitForRoom(belowBytes: pendingLimit, timeout: 1) {
                // Normally room appears within milliseconds. Polling goes on while paused, so
                // the group membership and rebalance callbacks stay alive.
                if !paused {
                    try consumer.pause(Array(consumer.assignment))
                    paused = true
                    Log.warning("workers stalled with their queues full; fetching paused", ["pending": "\(workers.pendingCount)"])
                }
                // Pausing purges what was fetched, but anything still returned is ours.
                workers.submit(try consumer.poll(maxMessages: settings.batchSize, timeoutMs: 100))
            }
            markApplied()
            // Offsets go to the broker at most every commitInterval: a redelivery after a crash
            // is a duplicate by rule, so committing less often costs nothing.
            if Date().timeIntervalSince(lastCommit) >= settings.commitIntervalSeconds {
                do { try consumer.commit(synchronously: false) } catch {
                    Log.warning("offset commit failed; the next one covers it", ["error": "\(error)"])
                }
                lastCommit = Date()
            }
            if let path = settings.healthFile, Date().timeIntervalSince(lastHeartbeat) >= 1 {
                // A liveness probe checks this file's age: it stops changing when the loop hangs.
                _ = FileManager.default.createFile(atPath: path, contents: Data("\(Date().timeIntervalSince1970)\n".utf8))
                lastHeartbeat = Date()
            }
            if Date().timeIntervalSince(lastStatus) >= settings.statusIntervalSeconds {
                let utilisation = workers.takeBusySeconds() / (Date().timeIntervalSince(lastStatus) * Double(settings.workers))
                lastStatus = Date()
                logStatus(consumer, workerUtilisation: utilisation, pending: workers.pendingCount)
            }
        }
        // Reports polled but not started go back to the group: the next owner takes them from
        // the committed offset, so a shutdown waits for one batch per worker, not a backlog.
        Log.info("stopping: finishing in-flight batches, committing and leaving the group")
        workers.discardPending()
        workers.waitForBatchesInProgress()
        markApplied()
        try consumer.commit(synchronously: true)
        try consumer.close()
        consumerRef = nil  // breaks the consumer → callback → consumer cycle
    }

    private func record(_ applied: AppliedBatch) {
        let effects = applied.effects
        tallies.withLock { c in
            c.keyMismatches += applied.keyMismatches
            c.batches += 1
            c.reports += effects.results.count
            for result in effects.results { c.byCode[result.code, default: 0] += 1 }
        }
    }

    private func logStatus(_ consumer: KafkaConsumer, workerUtilisation: Double, pending: Int) {
        let lag = consumer.lag()
        let c = counters
        Log.info("status", [
            "batches": "\(c.batches)", "reports": "\(c.reports)",
            "codes": c.byCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "lag": "\(lag.values.reduce(0, +))",
            "outbox_published": "\(relay?.publishedCount ?? 0)",
            "outbox_failed_deliveries": "\(relay?.failedDeliveryCount ?? 0)",
            "outbox_parked": "\(relay?.parkedCount ?? 0)",
            "key_mismatches": "\(c.keyMismatches)",
            // Near 1: the database (or the workers' own CPU) is the limit; near 0: the input is.
            "worker_utilisation": String(format: "%.2f", workerUtilisation),
            // Polled and waiting for a worker: near its cap, the workers are the limit; near 0, the input.
            "pending": "\(pending)",
        ])
    }
}
