/// Liveness and readiness, decided from facts the service records as it runs; no I/O, so
/// every rule is a unit test.
///
/// - Liveness asks "would a restart help?": it fails only when the poll loop, or a worker that
///   holds work, has stopped making progress for `stallTimeout`. A worker retrying through a
///   database outage makes progress (each attempt counts), so an outage alone never fails it.
/// - Readiness asks "is this member doing its job now?": joined to its group, the broker and
///   PostgreSQL reached within `unreachableAfter`, and not stopping.
public struct ServiceHealth: Sendable {
    struct Settings: Sendable {
        var stallTimeout: Duration = .seconds(60)
        var unreachableAfter: Duration = .seconds(5)
    }

    enum Dependency: String, Sendable, CaseIterable {
        case kafka, postgres
    }

    public struct Verdict: Sendable, Equatable {
        public var healthy: Bool { reasons.isEmpty }
        /// Why it is not healthy, each a sentence for the probe's response body.
        public var reasons: [String]
    }

    let settings: Settings
    /// nil until the poll loop first turns: start-up is bounded on its own (`--broker-wait`).
    private var lastLoopTurn: ContinuousClock.Instant?
    /// The oldest last-progress instant among workers that hold work; nil when none does.
    private var oldestWorkerProgress: ContinuousClock.Instant?
    private(set) var joined = false
    private(set) var stopping = false
    private var lastReached: [Dependency: ContinuousClock.Instant] = [:]

    /// Both count as reached at `now`: the probes start with the service and correct this within
    /// a second, and start-up itself fails when it cannot reach them.
    init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        for dependency in Dependency.allCases { lastReached[dependency] = now }
    }

    mutating func loopTurned(at now: ContinuousClock.Instant, joined: Bool, oldestWorkerProgress: ContinuousClock.Instant?) {
        lastLoopTurn = now
        self.joined = joined
        self.oldestWorkerProgress = oldestWorkerProgress
    }

    mutating func reached(_ dependency: Dependency, at now: ContinuousClock.Instant) {
        lastReached[dependency] = now
    }

    mutating func beginStopping() { stopping = true }

    /// How long a dependency has gone unreached, when that is longer than `unreachableAfter`.
    func unreachable(_ dependency: Dependency, now: ContinuousClock.Instant) -> Duration? {
        let since = now - (lastReached[dependency] ?? now)
        return since > settings.unreachableAfter ? since : nil
    }

    func liveness(now: ContinuousClock.Instant) -> Verdict {
        var reasons: [String] = []
        if let lastLoopTurn, now - lastLoopTurn > settings.stallTimeout {
            let loopIdle = now - lastLoopTurn
            reasons.append("the poll loop has not turned for \(Self.wholeSeconds(loopIdle)) s (stall timeout \(Self.wholeSeconds(settings.stallTimeout)) s)")
        }
        if let progress = oldestWorkerProgress, now - progress > settings.stallTimeout {
            reasons.append("a worker holding reports has made no progress for \(Self.wholeSeconds(now - progress)) s "
                + "(stall timeout \(Self.wholeSeconds(settings.stallTimeout)) s)")
        }
        return Verdict(reasons: reasons)
    }

    func readiness(now: ContinuousClock.Instant) -> Verdict {
        var reasons: [String] = []
        if stopping { reasons.append("stopping: draining in-flight work and leaving the group") }
        if !joined && !stopping { reasons.append("not joined to the consumer group yet") }
        for dependency in Dependency.allCases {
            guard let since = unreachable(dependency, now: now) else { continue }
            // The error itself is logged, not served: an unauthenticated port must not hand out
            // host names, users or connection strings.
            reasons.append("\(dependency.displayName) unreachable for \(Self.wholeSeconds(since)) s (the log says why)")
        }
        return Verdict(reasons: reasons)
    }

    static func wholeSeconds(_ d: Duration) -> Int64 { d.components.seconds }
}

extension ServiceHealth.Dependency {
    var displayName: String {
        switch self {
        case .kafka: "Kafka (the broker)"
        case .postgres: "PostgreSQL"
        }
    }
}
