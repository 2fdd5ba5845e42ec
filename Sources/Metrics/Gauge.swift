/// A value that goes up and down (queue depth, connections open, the last batch's size).
public final class Gauge: Sendable {
    private let current = AtomicDouble(0)

    init() {}

    /// Replaces the value.
    public func set(_ value: Double) { current.store(value) }

    /// Adds `delta` (negative to subtract).
    public func add(_ delta: Double) { current.add(delta) }

    /// The value now.
    public var value: Double { current.load() }

    func write(_ name: String, labels: [Label], to writer: inout ExpositionWriter) {
        writer.sample(name, labels: labels, value)
    }
}
