/// A value that only goes up (requests served, bytes written), reset only by a restart.
public final class Counter: Sendable {
    private let total = AtomicDouble(0)

    init() {}

    /// Adds `amount`, which must be zero or more (and not NaN): a counter that went down would
    /// read as a restart to `rate()`, so a negative amount is a programming error, and stops here.
    public func increment(by amount: Double = 1) {
        precondition(amount >= 0, "a counter cannot be incremented by \(amount)")
        total.add(amount)
    }

    /// Adds `amount`, which must be zero or more.
    public func increment(by amount: Int) {
        precondition(amount >= 0, "a counter cannot be incremented by \(amount)")
        total.add(Double(amount))
    }

    /// The total so far.
    public var value: Double { total.load() }

    func write(_ name: String, labels: [Label], to writer: inout ExpositionWriter) {
        writer.sample(name, labels: labels, value)
    }
}
