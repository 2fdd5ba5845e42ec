import Kafka

/// The poll loop's policy with no I/O: events go in, actions come out, and `CompletionConsumer`
/// carries the actions out. Back-pressure, the commit cadence, liveness, the status line, the
/// order of a revoke and the order of a stop are all decided here, so a transcript test checks
/// them without a broker or a database.
struct ConsumerLoop {
    struct Settings {
        var batchSize: Int
        var linger: Duration
        /// Bytes of polled reports waiting for the workers, at most; past it polling stops.
        var pendingLimit: Int
        var commitInterval: Duration
        var statusInterval: Duration
        var livenessInterval: Duration = .seconds(1)
        /// How long the queues may stay full before fetching pauses.
        var stallBeforePause: Duration = .seconds(1)
        /// A poll's wait for a first message; it bounds how late the loop sees a stop.
        var pollTimeout: Duration = .milliseconds(100)
    }

    enum Phase: Equatable { case running, paused, stopped }

    enum Event: Equatable {
        /// The top of each turn: the time, and what the workers' queues hold.
        case turn(now: ContinuousClock.Instant, pendingBytes: Int)
        /// The wait asked for by `waitForRoom` ended, with room or without.
        case roomWaitEnded(room: Bool)
        case assigned([TopicPartition])
        /// Revoked or lost: in either case nothing of these partitions may be applied after.
        case revoked([TopicPartition])
        case stopRequested
    }

    enum Action: Equatable {
        case poll(max: Int, timeout: Duration, linger: Duration)
        case waitForRoom(timeout: Duration)
        case pause([TopicPartition])
        case resume([TopicPartition])
        /// Drop polled, unstarted reports of these partitions (nil: all); their next owner
        /// consumes them from the committed offset.
        case discardPending([TopicPartition]?)
        /// Retrying batches of these partitions (nil: all) give up, unmarked, so redelivered: a
        /// stop or a revoke must not wait for a database that is away.
        case abandonRetries([TopicPartition]?)
        /// Wait for the batches in progress that hold these partitions (nil: all) to finish.
        case awaitBatchesInProgress([TopicPartition]?)
        /// Mark what the workers applied, for the next commit.
        case markApplied
        case commit(synchronously: Bool)
        case reportLiveness
        /// The status line, with the time since the last one (for utilisation).
        case logStatus(elapsed: Duration)
        /// Leave the group (the consumer commits marked offsets before it releases partitions).
        case close
    }

    let settings: Settings
    private(set) var phase: Phase = .running
    private(set) var assignment: Set<TopicPartition> = []
    private var lastCommit: ContinuousClock.Instant
    private var lastLiveness: ContinuousClock.Instant
    private var lastStatus: ContinuousClock.Instant

    init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        // The first turn reports liveness and commits at once; the status waits an interval.
        lastCommit = now - settings.commitInterval
        lastLiveness = now - settings.livenessInterval
        lastStatus = now
    }

    mutating func handle(_ event: Event) -> [Action] {
        guard phase != .stopped else { return [] }
        switch event {
        case let .turn(now, pendingBytes):
            let fetch: [Action] = pendingBytes < settings.pendingLimit
                ? poll(linger: settings.linger) + resumeIfPaused()
                : [.waitForRoom(timeout: settings.stallBeforePause)]
            return fetch + housekeeping(now)

        case .roomWaitEnded(let room):
            if room { return [] }
            // Still full after a while: the workers are stalled (the database is down, say).
            // Fetching pauses but polling goes on, so membership and rebalances stay alive.
            var actions: [Action] = []
            if phase == .running {
                phase = .paused
                actions.append(.pause(sorted(assignment)))
            }
            return actions + poll(linger: .zero)

        case .assigned(let partitions):
            assignment.formUnion(partitions)
            return phase == .paused ? [.pause(partitions)] : []

        case .revoked(let partitions):
            assignment.subtract(partitions)
            // Unstarted reports go back; batches in progress finish and are marked, so that
            // the consumer commits them before it lets the partitions go, unless they are
            // retrying (the database is away): those leave the revoked partitions' reports
            // unmarked for the next owner and keep the rest.
            return [.discardPending(partitions), .abandonRetries(partitions), .awaitBatchesInProgress(partitions), .markApplied]

        case .stopRequested:
            phase = .stopped
            return [.discardPending(nil), .abandonRetries(nil), .awaitBatchesInProgress(nil), .markApplied,
                    .commit(synchronously: true), .close]
        }
    }

    private func poll(linger: Duration) -> [Action] {
        [.poll(max: settings.batchSize, timeout: settings.pollTimeout, linger: linger)]
    }

    private mutating func resumeIfPaused() -> [Action] {
        guard phase == .paused else { return [] }
        phase = .running
        return [.resume(sorted(assignment))]
    }

    /// Marks every turn; commits, liveness and status at their own cadence. Offsets go to the
    /// broker at most every commitInterval: a redelivery after a crash is a duplicate by rule,
    /// so committing less often costs nothing but a few repeated answers.
    private mutating func housekeeping(_ now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = [.markApplied]
        if now - lastCommit >= settings.commitInterval {
            actions.append(.commit(synchronously: false))
            lastCommit = now
        }
        if now - lastLiveness >= settings.livenessInterval {
            actions.append(.reportLiveness)
            lastLiveness = now
        }
        if now - lastStatus >= settings.statusInterval {
            actions.append(.logStatus(elapsed: now - lastStatus))
            lastStatus = now
        }
        return actions
    }

    private func sorted(_ partitions: Set<TopicPartition>) -> [TopicPartition] {
        partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}
