import Synchronization

/// Every metric the service exposes, rendered for `GET /metrics` in the Prometheus text
/// format 0.0.4. Registration happens at start-up; updates go straight to the returned
/// metric (no registry lock); `render()` may run on any thread while they happen.
///
/// A name registered twice, an invalid name or label name, or a counter not ending in
/// `_total` is a programming error and stops the process (see `MetricName.problem`).
public final class MetricsRegistry: Sendable {
    /// The Content-Type of `render()`'s output.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// One registered family: its header, and how to write its samples at scrape time.
    private struct Entry: Sendable {
        let name: String
        let help: String
        let type: MetricType
        let writeSamples: @Sendable (inout ExpositionWriter) -> Void
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// A counter without labels; its name must end in `_total`.
    public func counter(_ name: String, help: String) -> Counter {
        let counter = Counter()
        register(name, help, .counter) { counter.write(name, labels: [], to: &$0) }
        return counter
    }

    /// Counters told apart by `labelNames`; the name must end in `_total`.
    public func counter(_ name: String, help: String, labelNames: [String]) -> Family<Counter> {
        family(name, help, .counter, labelNames, Counter.init) { $0.write(name, labels: $1, to: &$2) }
    }

    /// A gauge without labels.
    public func gauge(_ name: String, help: String) -> Gauge {
        let gauge = Gauge()
        register(name, help, .gauge) { gauge.write(name, labels: [], to: &$0) }
        return gauge
    }

    /// Gauges told apart by `labelNames`.
    public func gauge(_ name: String, help: String, labelNames: [String]) -> Family<Gauge> {
        family(name, help, .gauge, labelNames, Gauge.init) { $0.write(name, labels: $1, to: &$2) }
    }

    /// A histogram over `buckets`: finite upper bounds, strictly increasing (`+Inf` is added).
    public func histogram(_ name: String, help: String, buckets: [Double]) -> Histogram {
        let bounds = Self.upperBounds(buckets)
        let histogram = Histogram(upperBounds: bounds)
        register(name, help, .histogram) { histogram.write(name, labels: [], to: &$0) }
        return histogram
    }

    /// Histograms over the same `buckets`, told apart by `labelNames` (which cannot include `le`).
    public func histogram(_ name: String, help: String, labelNames: [String], buckets: [Double]) -> Family<Histogram> {
        let bounds = Self.upperBounds(buckets)
        return family(name, help, .histogram, labelNames, { Histogram(upperBounds: bounds) }) {
            $0.write(name, labels: $1, to: &$2)
        }
    }

    /// A family whose samples are computed at scrape time (e.g. per-partition lag read from a
    /// consumer): `render()` calls `samples` outside any registry lock, on the scraping thread.
    /// Samples are written in the order returned, each as the name plus its `suffix`, with its
    /// labels, which the closure is trusted to keep valid (they are not checked at scrape time).
    public func collect(_ name: String, help: String, type: MetricType,
                        _ samples: @escaping @Sendable () -> [Sample]) {
        register(name, help, type) { writer in
            for sample in samples() { writer.sample(name + sample.suffix, labels: sample.labels, sample.value) }
        }
    }

    /// Every family in registration order, each with its HELP and TYPE even before it has a
    /// sample, so a scrape shows every documented metric.
    public func render() -> String {
        // Copied out so that collect closures, which may be slow or take their own locks, run
        // without the registry's lock held.
        let snapshot = entries.withLock { $0 }
        var writer = ExpositionWriter()
        for entry in snapshot {
            writer.header(entry.name, help: entry.help, type: entry.type)
            entry.writeSamples(&writer)
        }
        return writer.text
    }

    private func family<Child>(_ name: String, _ help: String, _ type: MetricType, _ labelNames: [String],
                               _ makeChild: @escaping @Sendable () -> Child,
                               write: @escaping @Sendable (Child, [Label], inout ExpositionWriter) -> Void) -> Family<Child> {
        if let problem = LabelName.problem(labelNames, type: type) { preconditionFailure("\(name): \(problem)") }
        let family = Family(labelNames: labelNames, makeChild: makeChild)
        register(name, help, type) { writer in
            for (labels, child) in family.sortedChildren() { write(child, labels, &writer) }
        }
        return family
    }

    private func register(_ name: String, _ help: String, _ type: MetricType,
                          writeSamples: @escaping @Sendable (inout ExpositionWriter) -> Void) {
        if let problem = MetricName.problem(name, type: type) { preconditionFailure(problem) }
        entries.withLock { entries in
            precondition(!entries.contains { $0.name == name }, "metric \(name) is registered twice")
            entries.append(Entry(name: name, help: help, type: type, writeSamples: writeSamples))
        }
    }

    private static func upperBounds(_ buckets: [Double]) -> [Double] {
        if let problem = Histogram.problem(buckets) { preconditionFailure(problem) }
        return Histogram.upperBounds(buckets)
    }
}
