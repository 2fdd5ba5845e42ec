/// The exact value of a JSON number literal, so that numbers compare by value: "1", "1.0" and
/// "10e-1" are one number, while "9007199254740993" and "9007199254740992" stay two (through
/// Double they would be one, and two different outputs would pass for a duplicate report).
struct DecimalValue: Hashable {
    let negative: Bool
    /// Significant digits (ASCII), without leading or trailing zeros; empty for zero.
    let digits: [UInt8]
    /// The value is digits × 10^exponent.
    let exponent: Int

    /// Nil when the text is no JSON number (no digit, two points, anything left over: "nan",
    /// "1.5.3", "1x") or its exponent does not fit an Int; such literals compare as text.
    init?(literal: String) {
        let bytes = Array(literal.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var digits: [UInt8] = [], exponent = 0, afterPoint = false
        while i < bytes.count, bytes[i] == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) {
            if bytes[i] == UInt8(ascii: ".") {
                guard !afterPoint else { return nil }
                afterPoint = true
            } else {
                digits.append(bytes[i])
                if afterPoint { exponent -= 1 }
            }
            i += 1
        }
        guard !digits.isEmpty else { return nil }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let written = Int(String(decoding: bytes[(i + 1)...], as: UTF8.self).replacingPlus()) else { return nil }
            let (sum, overflow) = exponent.addingReportingOverflow(written)
            guard !overflow else { return nil }
            exponent = sum
        } else if i < bytes.count {
            return nil
        }
        let firstSignificant = digits.firstIndex { $0 != UInt8(ascii: "0") } ?? digits.endIndex
        digits.removeSubrange(..<firstSignificant)
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            let (next, overflow) = exponent.addingReportingOverflow(1)
            guard !overflow else { return nil }
            exponent = next
        }
        self.negative = digits.isEmpty ? false : negative  // -0 is 0
        self.digits = digits
        self.exponent = digits.isEmpty ? 0 : exponent
    }
}

private extension String {
    /// Int("+5") is 5 already; this keeps the exponent's optional sign readable either way.
    func replacingPlus() -> String { hasPrefix("+") ? String(dropFirst()) : self }
}
