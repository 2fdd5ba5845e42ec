import Synchronization

/// A distribution (batch sizes, latencies): counts of observations at or below each bucket's
/// upper bound, plus their sum and count.
public final class Histogram: Sendable {
    /// The finite upper bounds, strictly increasing; the `+Inf` bucket is implicit.
    let upperBounds: [Double]
    // One lock per observe keeps the buckets, sum and count consistent with each other in a
    // scrape (`_count` always equals the `+Inf` bucket), which separate atomics would not.
    private let state: Mutex<Counts>

    struct Counts {
        /// Per bucket, not cumulative; the last element is the `+Inf` bucket.
        var buckets: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        state = Mutex(Counts(buckets: Array(repeating: 0, count: upperBounds.count + 1)))
    }

    /// Records `value` in the first bucket whose bound is at or above it (`le` is inclusive).
    /// NaN lands in `+Inf` only, and turns the sum into NaN.
    public func observe(_ value: Double) {
        let index = bucketIndex(value)
        state.withLock { counts in
            counts.buckets[index] += 1
            counts.sum += value
            counts.count += 1
        }
    }

    /// Records `value`, converted to Double.
    public func observe(_ value: Int) { observe(Double(value)) }

    /// A consistent copy of the counts.
    func snapshot() -> Counts { state.withLock { $0 } }

    func write(_ name: String, labels: [Label], to writer: inout ExpositionWriter) {
        let counts = snapshot()
        var cumulative: UInt64 = 0
        for (i, inBucket) in counts.buckets.enumerated() {
            cumulative += inBucket
            let le = i < upperBounds.count ? ExpositionWriter.format(upperBounds[i]) : "+Inf"
            writer.sample(name + "_bucket", labels: labels + [Label("le", le)], Double(cumulative))
        }
        writer.sample(name + "_sum", labels: labels, counts.sum)
        writer.sample(name + "_count", labels: labels, Double(counts.count))
    }

    // Binary search for the first bound >= value, else the +Inf bucket (where NaN ends up,
    // since every comparison with it is false).
    private func bucketIndex(_ value: Double) -> Int {
        var low = 0, high = upperBounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= upperBounds[mid] { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// Why `buckets` cannot be a histogram's bounds, or nil when they can: they must be
    /// strictly increasing and not NaN. A trailing `+Inf` is allowed (and dropped: it is implicit).
    static func problem(_ buckets: [Double]) -> String? {
        if buckets.contains(where: \.isNaN) { return "histogram buckets \(buckets) contain NaN" }
        if zip(buckets, buckets.dropFirst()).contains(where: { $0 >= $1 }) {
            return "histogram buckets \(buckets) are not strictly increasing"
        }
        return nil
    }

    /// The finite bounds of valid `buckets`.
    static func upperBounds(_ buckets: [Double]) -> [Double] {
        buckets.last == .infinity ? Array(buckets.dropLast()) : buckets
    }
}
