import CascadeDomain
import Foundation
import Kafka
import Postgres
import Synchronization

/// The poll loop: batches of reports in, one transaction per batch, offsets committed after
/// the transaction. Runs on its own thread; every Kafka and PostgreSQL call here blocks.
public final class CompletionConsumer: @unchecked Sendable {
    private let settings: ServiceSettings
    private let relay: OutboxRelay?
    private let stopping = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let tallies = Mutex(Counters())
    /// Messages polled but not yet committed to the database; a revoke drops its partitions'
    /// share so that the new owner, not us, applies them.
    private var inFlight: [KafkaMessage] = []

    public struct Counters: Sendable {
        public var batches = 0
        public var reports = 0
        public var byCode: [Int: Int] = [:]
        public var lag: [TopicPartition: Int64] = [:]
    }

    public init(settings: ServiceSettings, relay: OutboxRelay?) {
        self.settings = settings
        self.relay = relay
    }

    public var counters: Counters { tallies.withLock { $0 } }

    public func start() {
        let thread = Thread { [self] in
            do {
                try run()
            } catch {
                Log.error("consumer stopped on an error", ["error": "\(error)"])
            }
            finished.signal()
        }
        thread.name = "cascade-consumer"
        thread.start()
    }

    /// Asks the loop to finish its batch, commit, and leave the group; waits for it.
    public func stop() {
        stopping.withLock { $0 = true }
        finished.wait()
    }

    private var isStopping: Bool { stopping.withLock { $0 } }

    private func run() throws {
        var db = try connectWithRetry()
        try Migrator.migrate(db)
        let processor = { (db: PostgresConnection) in
            BatchProcessor(db: db, planner: CompletionPlanner(topics: self.settings.topics, depthLimit: self.settings.depthLimit),
                           limits: self.settings.limits)
        }
        var batches = processor(db)
        let consumer = try KafkaConsumer(config: settings.consumerConfig()) { [unowned self] event in
            switch event {
            case .assigned(let partitions):
                Log.info("partitions assigned", ["partitions": partitions.map(\.description).joined(separator: ",")])
            case .revoked(let partitions), .lost(let partitions):
                let gone = Set(partitions)
                inFlight.removeAll { gone.contains($0.topicPartition) }
                Log.info("partitions revoked", ["partitions": partitions.map(\.description).joined(separator: ",")])
            }
        }
        try consumer.subscribe([settings.topics.reports])
        Log.info("consuming", ["topic": settings.topics.reports, "group": settings.groupId, "batch_size": "\(settings.batchSize)"])

        var lastStatus = Date()
        var lastCommit = Date.distantPast
        while !isStopping {
            inFlight = try consumer.poll(maxMessages: settings.batchSize, timeoutMs: 100, lingerMs: settings.batchLingerMs)
            var backoff = 0.05
            while !inFlight.isEmpty {
                do {
                    let effects = try batches.process(inFlight)
                    for message in inFlight { consumer.markProcessed(message) }
                    record(effects)
                    inFlight = []
                    relay?.nudge()
                    // Offsets go to the broker at most every commitInterval: a redelivery after a
                    // crash is a duplicate by rule, so committing less often costs nothing but
                    // saves the broker one request per small batch.
                    if Date().timeIntervalSince(lastCommit) >= settings.commitIntervalSeconds {
                        try consumer.commit(synchronously: false)
                        lastCommit = Date()
                    }
                } catch {
                    // Retriable by construction (see BatchProcessor). Keep the group membership
                    // alive: pause fetching, keep polling, and try again with the same messages.
                    Log.warning("batch failed; retrying", ["error": "\(error)", "retry_in_s": String(format: "%.2f", backoff)])
                    let assigned = Array(consumer.assignment)
                    try? consumer.pause(assigned)
                    let until = Date().addingTimeInterval(backoff)
                    while Date() < until {
                        // Pausing purges fetched messages, but anything still returned is ours
                        // to apply: dropping it would let a later commit skip it.
                        inFlight += try consumer.poll(maxMessages: settings.batchSize, timeoutMs: 50)
                    }
                    try? consumer.resume(Array(consumer.assignment))
                    backoff = min(backoff * 2, 5)
                    if !db.isConnected || (error as? PostgresError)?.kind == .connectionLost {
                        if let fresh = try? PostgresConnection(url: settings.databaseURL) {
                            db = fresh
                            batches = processor(db)
                        }
                    }
                    if isStopping { break }
                }
            }
            if inFlight.isEmpty, Date().timeIntervalSince(lastCommit) >= settings.commitIntervalSeconds {
                try consumer.commit(synchronously: false)  // a no-op when nothing new is marked
                lastCommit = Date()
            }
            if Date().timeIntervalSince(lastStatus) >= settings.statusIntervalSeconds {
                lastStatus = Date()
                logStatus(consumer)
            }
        }
        Log.info("stopping: committing and leaving the group")
        try consumer.commit(synchronously: true)
        try consumer.close()
    }

    private func record(_ effects: BatchEffects) {
        tallies.withLock { c in
            c.batches += 1
            c.reports += effects.results.count
            for result in effects.results { c.byCode[result.code, default: 0] += 1 }
        }
    }

    private func logStatus(_ consumer: KafkaConsumer) {
        let lag = consumer.lag()
        let c = tallies.withLock { c in c.lag = lag; return c }
        Log.info("status", [
            "batches": "\(c.batches)", "reports": "\(c.reports)",
            "codes": c.byCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            "lag": "\(lag.values.reduce(0, +))",
            "outbox_published": "\(relay?.publishedCount ?? 0)",
        ])
    }

    private func connectWithRetry() throws -> PostgresConnection {
        var delay = 0.2
        while true {
            do { return try PostgresConnection(url: settings.databaseURL) } catch {
                if isStopping { throw error }
                Log.warning("cannot reach PostgreSQL; retrying", ["error": "\(error)"])
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 5)
            }
        }
    }
}
