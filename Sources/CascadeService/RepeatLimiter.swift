/// One line per distinct message per interval: an unreachable broker made librdkafka report
/// the same failure hundreds of times a minute (1,780 lines in 45 s). The first of a kind is
/// written at once; repeats within the interval are counted, and the next one written after it
/// says how many were suppressed.
struct RepeatLimiter {
    enum Decision: Equatable {
        case write(suppressedBefore: Int)
        case suppress
    }

    let interval: Duration
    private var seen: [String: (lastWritten: ContinuousClock.Instant, suppressed: Int)] = [:]
    /// Kinds remembered at most; past it the oldest are forgotten (a flood of distinct lines
    /// must not grow memory).
    static let capacity = 1024

    init(interval: Duration) { self.interval = interval }

    var rememberedKinds: Int { seen.count }

    mutating func admit(_ message: String, at now: ContinuousClock.Instant) -> Decision {
        let kind = Self.kind(of: message)
        if var entry = seen[kind], now - entry.lastWritten < interval {
            entry.suppressed += 1
            seen[kind] = entry
            return .suppress
        }
        let suppressed = seen[kind]?.suppressed ?? 0
        if seen.count >= Self.capacity, seen[kind] == nil,
           let oldest = seen.min(by: { $0.value.lastWritten < $1.value.lastWritten })?.key {
            seen[oldest] = nil
        }
        seen[kind] = (now, 0)
        return .write(suppressedBefore: suppressed)
    }

    /// Lines that differ only in numbers (timings, counts, ports) are one kind.
    static func kind(of message: String) -> String {
        var kind = ""
        kind.reserveCapacity(message.utf8.count)
        var lastWasDigit = false
        for scalar in message.unicodeScalars {
            let digit = scalar.properties.numericType != nil && scalar.isASCII
            if digit { if !lastWasDigit { kind.append("#") } } else { kind.unicodeScalars.append(scalar) }
            lastWasDigit = digit
        }
        return kind
    }
}
