import Foundation

/// Named places where a test makes the service misbehave on purpose, to prove what the
/// service does about it (a wedged worker must fail liveness). Inert unless the environment
/// sets `CASCADE_FAILPOINTS=name=action[,name=action…]`; then start-up logs what is armed.
///
/// Actions: `hang` blocks the thread that reaches the point for good.
enum Failpoints {
    enum Action: String, Sendable { case hang }

    /// The points the service reaches.
    enum Point: String, Sendable, CaseIterable {
        /// A worker, after taking a batch and before applying it.
        case workerApply = "worker-apply"
    }

    private static let armed: [Point: Action] = parse(ProcessInfo.processInfo.environment["CASCADE_FAILPOINTS"]).armed

    /// Parses the variable; what it cannot read is returned as problems, never half-applied.
    static func parse(_ text: String?) -> (armed: [Point: Action], problems: [String]) {
        guard let text, !text.isEmpty else { return ([:], []) }
        var armed: [Point: Action] = [:], problems: [String] = []
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let point = Point(rawValue: parts[0]), let action = Action(rawValue: parts[1]) else {
                problems.append("cannot read failpoint '\(entry)': expected one of \(Point.allCases.map(\.rawValue)) = hang")
                continue
            }
            armed[point] = action
        }
        return problems.isEmpty ? (armed, []) : ([:], problems)
    }

    /// Says at start-up what is armed: a failpoint left set in production must be visible.
    static func logArmed() {
        let (armed, problems) = parse(ProcessInfo.processInfo.environment["CASCADE_FAILPOINTS"])
        for problem in problems { Log.error("CASCADE_FAILPOINTS ignored", ["problem": problem]) }
        if !armed.isEmpty {
            Log.warning("failpoints armed (testing only)", ["failpoints": armed.map { "\($0.key.rawValue)=\($0.value.rawValue)" }.sorted().joined(separator: ",")])
        }
    }

    static func reach(_ point: Point) {
        guard !armed.isEmpty, let action = armed[point] else { return }
        switch action {
        case .hang:
            while true { Thread.sleep(forTimeInterval: 3600) }
        }
    }
}
