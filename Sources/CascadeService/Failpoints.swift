import Foundation
import Postgres
import Synchronization

/// Named places where a test makes the service crash, fail or stall on purpose, to prove what
/// the service does about it (docs/RELIABILITY.md). Inert unless the environment sets
/// `CASCADE_FAILPOINTS=point=rule[,point=rule…]` (FailpointRule says what a rule is); then
/// start-up logs what is armed, and each firing is logged before it acts. Not set, a point
/// costs one load of an empty dictionary.
package enum Failpoints {
    /// The points the service reaches, in the order a report meets them.
    package enum Point: String, Sendable, CaseIterable {
        /// A worker, after taking a batch and before applying it.
        case workerApply = "worker-apply"
        /// Before the batch transaction's BEGIN.
        case beforeBatchTransaction = "before-batch-tx"
        /// Inside the batch transaction: after its first round trip (the locks), before the
        /// writes and COMMIT.
        case batchWrite = "batch-write"
        /// After the batch's COMMIT, before its offsets are marked for the next Kafka commit.
        case afterCommitBeforeMark = "after-db-commit-before-mark"
        /// After offsets are marked, before they are committed to Kafka.
        case afterMarkBeforeKafkaCommit = "after-mark-before-kafka-commit"
        /// In the relay: the broker's answer to a produce has arrived, before the relay counts it.
        case relayAfterProduce = "relay-after-produce-before-delivery-report"
        /// In the relay: deliveries counted, before their rows are deleted.
        case relayAfterDelivery = "relay-after-delivery-before-delete"
        /// In a sweep: rows claimed, before they are produced.
        case sweep
        /// In the rebalance callback, before a revoke's steps.
        case duringRevoke = "during-revoke"
        /// On a stop, after in-flight batches were told to finish and before they have.
        case duringShutdown = "during-shutdown"

        /// Whether the step can throw, so an `error` rule means something there.
        var canFail: Bool {
            switch self {
            case .beforeBatchTransaction, .batchWrite, .relayAfterDelivery, .sweep: true
            default: false
            }
        }
    }

    private static let configured = parse(ProcessInfo.processInfo.environment["CASCADE_FAILPOINTS"])
    private static let armed: [Point: FailpointRule] = configured.armed
    private static let hits = Mutex<[Point: (hits: Int, fired: Int)]>([:])

    /// Parses the variable; what it cannot read is returned as problems, and then nothing is
    /// armed: a half-applied fault plan would prove the wrong thing.
    static func parse(_ text: String?) -> (armed: [Point: FailpointRule], problems: [String]) {
        guard let text, !text.isEmpty else { return ([:], []) }
        var armed: [Point: FailpointRule] = [:], problems: [String] = []
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let point = Point(rawValue: String(parts[0])) else {
                problems.append("'\(entry)': expected point=rule, the point one of \(Point.allCases.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            switch FailpointRule.parse(parts[1]) {
            case .failure(let problem): problems.append("'\(entry)': \(problem.reason)")
            case .success(let rule):
                if case .error = rule.action, !point.canFail {
                    problems.append("'\(entry)': \(point.rawValue) cannot fail with an error; kill, hang or delay it")
                } else if armed.updateValue(rule, forKey: point) != nil {
                    problems.append("'\(entry)': \(point.rawValue) is given twice")
                }
            }
        }
        return problems.isEmpty ? (armed, []) : ([:], problems)
    }

    /// Says at start-up what is armed: a failpoint left set in production must be visible.
    static func logArmed() {
        for problem in configured.problems { Log.error("CASCADE_FAILPOINTS ignored", ["problem": problem]) }
        if !armed.isEmpty, let text = ProcessInfo.processInfo.environment["CASCADE_FAILPOINTS"] {
            Log.warning("failpoints armed (testing only)", ["failpoints": text])
        }
    }

    /// A step that cannot fail: kill, hang and delay act here.
    package static func reach(_ point: Point) {
        guard !armed.isEmpty, let rule = armed[point], shouldFire(point, rule) else { return }
        act(point, rule)
    }

    /// A step that can fail: an `error` rule throws the PostgreSQL error it names.
    package static func check(_ point: Point) throws {
        guard !armed.isEmpty, let rule = armed[point], shouldFire(point, rule) else { return }
        if case .error(let sqlState) = rule.action {
            throw PostgresError(sqlState: sqlState, message: "injected by failpoint \(point.rawValue)")
        }
        act(point, rule)
    }

    private static func shouldFire(_ point: Point, _ rule: FailpointRule) -> Bool {
        let fire = hits.withLock { counts in
            var entry = counts[point] ?? (0, 0)
            entry.hits += 1
            let fire = rule.fires(hit: entry.hits, firedBefore: entry.fired, draw: Double.random(in: 0..<100))
            if fire { entry.fired += 1 }
            counts[point] = entry
            return fire
        }
        if fire { Log.warning("failpoint fired", ["failpoint": point.rawValue, "action": "\(rule.action)"]) }
        return fire
    }

    private static func act(_ point: Point, _ rule: FailpointRule) {
        switch rule.action {
        case .kill:
            kill(getpid(), SIGKILL)
            while true { pause() }  // SIGKILL is delivered before this returns; never run on
        case .hang:
            while true { Thread.sleep(forTimeInterval: 3600) }
        case .delay(let duration):
            Thread.sleep(forTimeInterval: duration.seconds)
        case .error:
            break  // only `check` throws
        }
    }
}
