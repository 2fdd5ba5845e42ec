/// The `# TYPE` of a metric family.
public enum MetricType: String, Sendable {
    case counter, gauge, histogram, untyped
}

/// One label of a sample: `name="value"`.
public struct Label: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One line of a family computed at scrape time (see `MetricsRegistry.collect`).
public struct Sample: Sendable, Equatable {
    /// Appended to the family's name, for the `_bucket`, `_sum` and `_count` lines of a
    /// collected histogram; empty for counters and gauges.
    public var suffix: String
    public var labels: [Label]
    public var value: Double

    /// A sample with `labels` as (name, value) pairs, in the order they are written.
    public init(suffix: String = "", labels: [(String, String)] = [], _ value: Double) {
        self.suffix = suffix
        self.labels = labels.map { Label($0.0, $0.1) }
        self.value = value
    }
}
