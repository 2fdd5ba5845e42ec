import CascadeDomain
import Foundation
import Kafka
import Synchronization
import ServiceThreads

/// The poll loop's driver: it carries out what `ConsumerLoop` decides. It polls reports, hands
/// each partition's share to its batch worker (one transaction per batch there), and marks and
/// commits offsets only for what the workers committed. Runs on its own thread; every Kafka
/// call here blocks.
public final class CompletionConsumer: Sendable {
    private let settings: ServiceSettings
    private let relay: OutboxRelay?
    private let stopRequest = Latch<Void>()
    private let finished = Latch<Void>()
    private let ending: Latch<ServiceEnding>
    private let tallies = Mutex(Counters())
    private let telemetry: ServiceTelemetry

    public struct Counters: Sendable {
        public var batches = 0
        public var reports = 0
        public var byCode: [Int: Int] = [:]
        /// Reports whose message key was not their job id (applied all the same).
        public var keyMismatches = 0
    }

    /// `failure` is opened with a reason when the member cannot go on (CascadeRuntime).
    init(settings: ServiceSettings, relay: OutboxRelay?, ending: Latch<ServiceEnding>, telemetry: ServiceTelemetry) {
        self.settings = settings
        self.telemetry = telemetry
        self.relay = relay
        self.ending = ending
    }

    public var counters: Counters { tallies.withLock { $0 } }

    func start() {
        startServiceThread("cascade-consume") { [self] in
            do {
                try run()
            } catch {
                // Nothing is lost: offsets only follow commits.
                ending.open(.failure("the poll loop failed: \(error)"))
            }
            finished.open()
        }
    }

    /// Asks the loop to finish its batches, commit, and leave the group; waits for it.
    func stop() {
        stopRequest.open()
        finished.wait()
    }

    private func run() throws {
        let workers = BatchWorkers(count: settings.workers, settings: settings, ending: ending,
                                   metrics: telemetry.metrics) { [self] applied in
            record(applied)
            relay?.handOff(applied.outbox)
        }
        workers.start()
        defer { workers.stop() }
        let loop = Mutex(ConsumerLoop(settings: loopSettings, now: .now))
        // Set right after creation: rebalance callbacks run inside poll, on this thread.
        nonisolated(unsafe) var consumerRef: KafkaConsumer?
        let consumer = try KafkaConsumer(config: settings.consumerConfig()) { event in
            let actions = loop.withLock { loop in
                switch event {
                case .assigned(let partitions): loop.handle(.assigned(partitions))
                case .revoked(let partitions), .lost(let partitions): loop.handle(.revoked(partitions))
                }
            }
            Log.info(event.isAssignment ? "partitions assigned" : "partitions revoked",
                     ["partitions": event.partitions.map(\.description).joined(separator: ",")])
            // Nil once run() has ended: librdkafka's destroy closes an unclosed consumer and
            // calls this again; there is nothing left to hand back then.
            guard let consumer = consumerRef else { return }
            self.telemetry.metrics.recordRebalance(event)
            if event.isAssignment && !event.partitions.isEmpty { self.relay?.partitionsAssigned() }
            if !event.isAssignment { Failpoints.reach(.duringRevoke) }
            do { for action in actions { _ = try self.perform(action, consumer, workers) } } catch {
                Log.warning("rebalance step failed", ["error": "\(error)"])
            }
        }
        consumerRef = consumer
        defer { consumerRef = nil }  // breaks the consumer → callback → consumer cycle
        try consumer.subscribe([settings.topics.reports])
        Log.info("consuming", ["topic": settings.topics.reports, "group": settings.groupId,
                               "batch_size": "\(settings.batchSize)", "workers": "\(settings.workers)"])

        while loop.withLock({ $0.phase }) != .stopped {
            let event: ConsumerLoop.Event = stopRequest.isOpen ? .stopRequested
                : .turn(now: .now, pendingBytes: workers.pendingFootprint)
            var actions = loop.withLock { $0.handle(event) }
            while !actions.isEmpty {
                if let next = try perform(actions.removeFirst(), consumer, workers) { actions += loop.withLock { $0.handle(next) } }
            }
        }
    }

    private var loopSettings: ConsumerLoop.Settings {
        ConsumerLoop.Settings(batchSize: settings.batchSize, linger: .milliseconds(settings.batchLingerMs),
                              pendingLimit: settings.pendingBytesLimit, commitInterval: settings.commitInterval,
                              statusInterval: settings.statusInterval)
    }

    /// Carries out one action; returns the event it leads to, if any.
    private func perform(_ action: ConsumerLoop.Action, _ consumer: KafkaConsumer, _ workers: BatchWorkers) throws -> ConsumerLoop.Event? {
        switch action {
        case let .poll(max, timeout, linger):
            workers.submit(try consumer.poll(maxMessages: max, timeoutMs: timeout.milliseconds, lingerMs: linger.milliseconds))
        case .waitForRoom(let timeout):
            return .roomWaitEnded(room: workers.waitForRoom(belowBytes: settings.pendingBytesLimit, timeout: timeout))
        case .pause(let partitions):
            try consumer.pause(partitions)
            telemetry.fetchPaused(true)
            Log.warning("workers stalled with their queues full; fetching paused", ["pending": "\(workers.pendingCount)"])
        case .resume(let partitions):
            try consumer.resume(partitions)
            telemetry.fetchPaused(false)
            Log.info("workers caught up; fetching resumed", ["pending": "\(workers.pendingCount)"])
        case .discardPending(let partitions):
            workers.discardPending(of: partitions.map(Set.init))
        case .abandonRetries(nil):
            Log.info("stopping: finishing in-flight batches, committing and leaving the group")
            workers.abandonRetries()
            Failpoints.reach(.duringShutdown)
        case .abandonRetries(let partitions?):
            workers.abandonRetries(of: Set(partitions))
        case .awaitBatchesInProgress(let partitions):
            workers.waitForBatchesInProgress(of: partitions.map(Set.init))
        case .markApplied:
            for (tp, offset) in workers.takeApplied() { consumer.markProcessed(tp, offset: offset) }
        case .commit(let synchronously):
            Failpoints.reach(.afterMarkBeforeKafkaCommit)
            if synchronously { try consumer.commit(synchronously: true) } else {
                do { try consumer.commit(synchronously: false) } catch {
                    Log.warning("offset commit failed; the next one covers it", ["error": "\(error)"])
                }
            }
        case .reportLiveness:
            publishState(consumer, workers)
            // A liveness probe checks this file's age: it stops changing when the loop hangs
            // or a worker holding reports stops moving.
            if let path = settings.healthFile, telemetry.liveness().healthy {
                _ = FileManager.default.createFile(atPath: path, contents: Data("\(Date().timeIntervalSince1970)\n".utf8))
            }
        case .logStatus(let elapsed):
            let share = min(1, max(0, workers.takeBusySeconds() / (elapsed.seconds * Double(settings.workers))))
            telemetry.metrics.workerUtilisation.set(share)
            logStatus(consumer, utilisation: share, pending: workers.pendingCount)
        case .close:
            let closing = settings.closing { FileManager.default.fileExists(atPath: $0) }
            switch closing {
            case .dynamicLeave: break
            case .staticStay:
                Log.info("static member closing without leaving: its partitions wait session.timeout.ms for it",
                         ["instance_id": settings.instanceId ?? ""])
            case .staticLeave:
                Log.info("static member leaving the group: its partitions move now", ["instance_id": settings.instanceId ?? ""])
            }
            try consumer.close(leavingGroup: closing == .staticLeave)
        }
        return nil
    }

    /// What scrapes, probes and the status line read until the next tick: lag per partition
    /// in messages and seconds, membership, and whether the workers move.
    private func publishState(_ consumer: KafkaConsumer, _ workers: BatchWorkers) {
        let positions = consumer.positions()
        let progress = workers.partitionProgress()
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let lags = positions.map { tp, offsets in
            PartitionLag(tp, PartitionLag.Position(
                committed: offsets.committed, low: offsets.low, logEnd: offsets.high, appliedNext: progress.applied[tp]?.next,
                consumedNext: offsets.consumed, nextReportTimestampMs: progress.nextTimestampMs[tp], lastAppliedTimestampMs: progress.applied[tp]?.timestampMs ?? nil),
                nowMs: nowMs)
        }.sorted { ($0.topicPartition.topic, $0.topicPartition.partition) < ($1.topicPartition.topic, $1.topicPartition.partition) }
        var snapshot = ServiceTelemetry.LoopSnapshot()
        snapshot.lags = lags
        snapshot.assigned = consumer.assignment.count
        snapshot.pending = workers.pendingCount
        snapshot.fetchPaused = telemetry.isFetchPaused
        telemetry.loopTurned(joined: consumer.memberId != nil, oldestWorkerProgress: workers.oldestProgressOfWorkersHoldingWork(),
                             snapshot: snapshot)
    }

    private func record(_ applied: AppliedBatch) {
        let effects = applied.effects
        telemetry.metrics.record(effects, keyMismatches: applied.keyMismatches)
        tallies.withLock { c in
            c.keyMismatches += applied.keyMismatches
            c.batches += 1
            c.reports += effects.results.count
            for result in effects.results { c.byCode[result.code, default: 0] += 1 }
        }
    }

    private func logStatus(_ consumer: KafkaConsumer, utilisation: Double, pending: Int) {
        let lags = telemetry.lags
        let assigned = consumer.assignment.count
        let c = counters
        Log.info("status", [
            "batches": "\(c.batches)", "reports": "\(c.reports)",
            "codes": c.byCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
            // High watermark minus the group's committed offset. Unknown, not 0, before this
            // member owns partitions; partial until a fetch has seen each partition's watermark.
            "lag": assigned == 0 ? "unknown (nothing owned yet)" : "\(lags.reduce(0) { $0 + $1.messages })",
            "lag_partitions_known": "\(lags.count)/\(assigned)",
            // The oldest report not yet applied, over the partitions whose age is known.
            "lag_seconds": lags.compactMap(\.seconds).max().map { String(format: "%.1f", $0) } ?? "unknown",
            "kafka": reachability(.kafka),
            "database": reachability(.postgres),
            "outbox_published": "\(relay?.publishedCount ?? 0)",
            "outbox_failed_deliveries": "\(relay?.failedDeliveryCount ?? 0)",
            "outbox_parked": "\(relay?.parkedCount ?? 0)",
            "key_mismatches": "\(c.keyMismatches)",
            // Near 1: the database (or the workers' own CPU) is the limit; near 0: the input is.
            "worker_utilisation": String(format: "%.2f", utilisation),
            // Polled and waiting for a worker: near its cap, the workers are the limit; near 0, the input.
            "pending": "\(pending)",
        ])
    }
}

extension CompletionConsumer {
    /// "reachable", or how long the dependency probe has gone without an answer.
    fileprivate func reachability(_ dependency: ServiceHealth.Dependency) -> String {
        telemetry.unreachable(dependency).map { "unreachable for \(ServiceHealth.wholeSeconds($0)) s" } ?? "reachable"
    }
}

extension RebalanceEvent {
    var partitions: [TopicPartition] {
        switch self { case .assigned(let p), .revoked(let p), .lost(let p): p }
    }
    var isAssignment: Bool { if case .assigned = self { true } else { false } }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Int { Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000) }
}
