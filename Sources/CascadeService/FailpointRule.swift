import Foundation

/// One armed failpoint: what it does, and when. Read from `CASCADE_FAILPOINTS` entries of the
/// form `point=action[:argument][@N][*M][%P]`, the suffixes in any order:
/// - `kill` (SIGKILL of this process), `hang` (the thread blocks for good),
///   `error[:SQLSTATE]` (the step throws a PostgreSQL error with that code; 40001 if none),
///   `delay:<n>ms|<n>s` (the step waits);
/// - `@N`: first fires at the Nth time the point is reached (default 1);
/// - `*M`: fires at most M times (default: every time from then on);
/// - `%P`: fires with probability P percent each time it is eligible (default 100).
struct FailpointRule: Equatable, Sendable {
    enum Action: Equatable, Sendable {
        case kill, hang
        case error(sqlState: String)
        case delay(Duration)
    }

    var action: Action
    var firstHit = 1
    var maxFirings: Int?
    var percent = 100.0

    /// Whether the `hit`th arrival (1-based) fires, given how many firings came before and a
    /// uniform draw in 0..<100.
    func fires(hit: Int, firedBefore: Int, draw: Double) -> Bool {
        guard hit >= firstHit else { return false }
        if let maxFirings, firedBefore >= maxFirings { return false }
        return draw < percent
    }

    /// Parses everything after `point=`; a failure says which part is unreadable.
    static func parse(_ text: Substring) -> Result<FailpointRule, Problem> {
        let suffixStart = text.firstIndex { "@*%".contains($0) } ?? text.endIndex
        let head = text[..<suffixStart]
        let (name, argument) = head.firstIndex(of: ":").map { (head[..<$0], Optional(head[head.index(after: $0)...])) } ?? (head, nil)
        var rule: FailpointRule
        switch (name, argument) {
        case ("kill", nil): rule = FailpointRule(action: .kill)
        case ("hang", nil): rule = FailpointRule(action: .hang)
        case ("error", nil): rule = FailpointRule(action: .error(sqlState: "40001"))
        case ("error", let code?):
            guard code.count == 5, code.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) }) else {
                return .failure(Problem("'\(code)' is not a five-character SQLSTATE"))
            }
            rule = FailpointRule(action: .error(sqlState: String(code)))
        case ("delay", let length?):
            guard let duration = Self.duration(length) else { return .failure(Problem("'\(length)' is not a delay such as 500ms or 2s")) }
            rule = FailpointRule(action: .delay(duration))
        default:
            return .failure(Problem("'\(head)' is not an action: kill, hang, error[:SQLSTATE] or delay:<n>ms|<n>s"))
        }
        var rest = text[suffixStart...]
        var seen = Set<Character>()
        while let mark = rest.first {
            let end = rest.dropFirst().firstIndex { "@*%".contains($0) } ?? rest.endIndex
            let value = rest[rest.index(after: rest.startIndex)..<end]
            guard seen.insert(mark).inserted else { return .failure(Problem("'\(mark)' is given twice")) }
            switch mark {
            case "@":
                guard let n = Int(value), n >= 1 else { return .failure(Problem("'@\(value)' needs a whole number from 1")) }
                rule.firstHit = n
            case "*":
                guard let n = Int(value), n >= 1 else { return .failure(Problem("'*\(value)' needs a whole number from 1")) }
                rule.maxFirings = n
            default:
                guard let p = Double(value), p > 0, p <= 100 else { return .failure(Problem("'%\(value)' needs a percentage in (0, 100]")) }
                rule.percent = p
            }
            rest = rest[end...]
        }
        return .success(rule)
    }

    private static func duration(_ text: Substring) -> Duration? {
        if text.hasSuffix("ms"), let n = Int(text.dropLast(2)), n >= 0 { return .milliseconds(n) }
        // At most a day, in whole milliseconds: a typo such as 1e17s must be refused, not trap.
        if text.hasSuffix("s"), let n = Double(text.dropLast()), n >= 0, n <= 86_400 { return .milliseconds(Int64((n * 1000).rounded())) }
        return nil
    }

    struct Problem: Error, Equatable, Sendable {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
