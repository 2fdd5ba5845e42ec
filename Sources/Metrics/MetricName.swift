/// The rules Prometheus puts on metric names, as pure checks so they can be table-tested
/// (the registry turns a problem into a precondition failure, which a test cannot observe).
public enum MetricName {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == .underscore || first == .colon else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == .underscore || $0 == .colon }
    }

    /// Why `name` cannot name a metric of `type`, or nil when it can. Counters must end in
    /// `_total`: the convention every Prometheus client follows, enforced so a slip shows up in tests.
    public static func problem(_ name: String, type: MetricType) -> String? {
        if !isValid(name) { return "metric name '\(name)' does not match [a-zA-Z_:][a-zA-Z0-9_:]*" }
        if type == .counter, !name.hasSuffix("_total") { return "counter name '\(name)' does not end in _total" }
        return nil
    }
}

/// The rules Prometheus puts on label names.
public enum LabelName {
    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__` (reserved for Prometheus itself).
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.utf8.first, isLetter(first) || first == .underscore else { return false }
        guard !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == .underscore }
    }

    /// Why `names` cannot label a family of `type`, or nil when they can: each must be valid,
    /// none repeated, and a histogram's labels cannot include `le`, which its buckets use.
    public static func problem(_ names: [String], type: MetricType) -> String? {
        if let bad = names.first(where: { !isValid($0) }) { return "label name '\(bad)' is not valid" }
        if Set(names).count != names.count { return "label names \(names) repeat a name" }
        if type == .histogram, names.contains("le") { return "label 'le' is reserved for histogram buckets" }
        return nil
    }
}

private func isLetter(_ c: UInt8) -> Bool { (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) }
private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

private extension UInt8 {
    static let underscore = UInt8(ascii: "_")
    static let colon = UInt8(ascii: ":")
}
