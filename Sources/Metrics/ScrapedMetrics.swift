/// The samples of a Prometheus text exposition, enough of the format for `cascade status` and
/// the benchmark to read a member's `/metrics`: `name{label="value",…} value` lines; comments
/// are skipped.
public struct ScrapedMetrics {
    public struct Sample: Equatable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    public let samples: [Sample]

    public init(parsing text: String) {
        samples = text.split(separator: "\n").compactMap { Self.sample(Substring($0)) }
    }

    /// The sum of a metric's samples whose labels include `matching`.
    public func sum(_ name: String, _ matching: [String: String] = [:]) -> Double? {
        let found = samples.filter { sample in sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value } }
        return found.isEmpty ? nil : found.reduce(0) { $0 + $1.value }
    }

    public func max(_ name: String) -> Double? { samples.filter { $0.name == name }.map(\.value).max() }

    /// Each value of `label` with its summed samples.
    public func byLabel(_ name: String, _ label: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in samples where s.name == name { out[s.labels[label] ?? "", default: 0] += s.value }
        return out
    }

    static func sample(_ line: Substring) -> Sample? {
        let line = Self.trimmed(line) { $0 == " " || $0 == "\t" }
        guard !line.isEmpty, !line.hasPrefix("#") else { return nil }
        var labels: [String: String] = [:]
        let name: String, rest: Substring
        if let brace = line.firstIndex(of: "{") {
            name = String(line[..<brace])
            var i = line.index(after: brace)
            // label="value" pairs, values with \\, \" and \n escapes.
            while i < line.endIndex, line[i] != "}" {
                guard let eq = line[i...].firstIndex(of: "="), line.index(after: eq) < line.endIndex,
                      line[line.index(after: eq)] == "\"" else { return nil }
                let key = String(Self.trimmed(line[i..<eq]) { $0 == "," || $0 == " " })
                var j = line.index(eq, offsetBy: 2), value = ""
                while j < line.endIndex, line[j] != "\"" {
                    if line[j] == "\\", line.index(after: j) < line.endIndex {
                        j = line.index(after: j)
                        value.append(line[j] == "n" ? "\n" : line[j])
                    } else {
                        value.append(line[j])
                    }
                    j = line.index(after: j)
                }
                guard j < line.endIndex else { return nil }
                labels[key] = value
                i = line.index(after: j)
                while i < line.endIndex, line[i] == "," || line[i] == " " { i = line.index(after: i) }
            }
            guard i < line.endIndex else { return nil }
            rest = line[line.index(after: i)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = String(line[..<space])
            rest = line[space...]
        }
        let fields = rest.split(separator: " ")
        guard let first = fields.first else { return nil }
        let value: Double? = switch first {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(first)
        }
        return value.map { Sample(name: name, labels: labels, value: $0) }
    }

    private static func trimmed(_ text: Substring, _ drop: (Character) -> Bool) -> Substring {
        var text = text
        while let first = text.first, drop(first) { text.removeFirst() }
        while let last = text.last, drop(last) { text.removeLast() }
        return text
    }
}
