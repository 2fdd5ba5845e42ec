/// The Prometheus text exposition format 0.0.4, as pure text formatting: the registry decides
/// what to say, this decides how it is spelled.
/// https://prometheus.io/docs/instrumenting/exposition_formats/
struct ExpositionWriter {
    private(set) var text = ""

    mutating func header(_ name: String, help: String, type: MetricType) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    mutating func sample(_ name: String, labels: [Label] = [], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, label) in labels.enumerated() {
                if i > 0 { text += "," }
                text += "\(label.name)=\"\(Self.escapeLabelValue(label.value))\""
            }
            text += "}"
        }
        text += " \(Self.format(value))\n"
    }

    /// Integers without an exponent where the double holds them exactly (`12`, not `12.0` or
    /// `1.2e1`), infinities and NaN as Prometheus spells them, any other value in the shortest
    /// form that reads back to the same double (Swift's `description`).
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        // Below 2^63 every integral double converts to Int64 exactly.
        if value == value.rounded(.towardZero), abs(value) < 9.223_372_036_854_775_808e18 {
            return String(Int64(value))
        }
        return value.description
    }

    /// HELP text escapes only backslash and newline (quotes are literal there).
    static func escapeHelp(_ help: String) -> String {
        escape(help, quotes: false)
    }

    /// A label value escapes backslash, double quote and newline.
    static func escapeLabelValue(_ value: String) -> String {
        escape(value, quotes: true)
    }

    // By unicode scalar, not Character: "\r\n" is one Character, and its newline must still be escaped.
    private static func escape(_ text: String, quotes: Bool) -> String {
        func needsEscape(_ c: Unicode.Scalar) -> Bool { c == "\\" || c == "\n" || (quotes && c == "\"") }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var escaped = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if needsEscape(c) { escaped.append("\\") }
            escaped.append(c == "\n" ? "n" : c)
        }
        return String(escaped)
    }
}
