import CivilCalendar
import Foundation

/// How a parameter travels: SQL NULL, PostgreSQL's text format, or its binary format.
public enum PostgresParameter: Sendable, Equatable {
    case null
    case text(String)
    case binary([UInt8])
}

/// A value bound as a query parameter. Values are never spliced into SQL; the statement casts
/// where the type is not obvious (`$1::jsonb`, `$2::text[]`).
public protocol PostgresBindable: Sendable {
    var postgresParameter: PostgresParameter { get }
}

extension String: PostgresBindable { public var postgresParameter: PostgresParameter { .text(self) } }
extension Int: PostgresBindable { public var postgresParameter: PostgresParameter { .text(String(self)) } }
extension Int64: PostgresBindable { public var postgresParameter: PostgresParameter { .text(String(self)) } }
extension Int32: PostgresBindable { public var postgresParameter: PostgresParameter { .text(String(self)) } }
extension Double: PostgresBindable { public var postgresParameter: PostgresParameter { .text(String(self)) } }
extension Bool: PostgresBindable { public var postgresParameter: PostgresParameter { .text(self ? "t" : "f") } }
/// uuid, in the binary format: its 16 bytes (the statement's context must make the parameter
/// a uuid, as a uuid column or `$n::uuid` does).
extension UUID: PostgresBindable {
    public var postgresParameter: PostgresParameter { .binary(withUnsafeBytes(of: uuid) { Array($0) }) }
}

extension Date: PostgresBindable { public var postgresParameter: PostgresParameter { .text(PostgresTimestamp.format(self)) } }

extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    public var postgresParameter: PostgresParameter { self?.postgresParameter ?? .null }
}

/// A JSON document bound as text, for `$n::jsonb`.
public struct PostgresJSON: PostgresBindable, Equatable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var postgresParameter: PostgresParameter { .text(text) }
}

/// timestamptz in the text format; sessions are pinned to UTC so the server answers in it.
public enum PostgresTimestamp {
    public static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = Int(micros - seconds * 1_000_000)
        return CivilCalendar.timestamp(seconds: seconds, fraction: fraction, fractionDigits: 6, separator: " ", suffix: "+00")
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM]`, which PostgreSQL emits for timestamptz.
    public static func parse(_ text: String) -> Date? {
        // Read in place: copying the text into an array first was an allocation per timestamp,
        // two or three per report (callgrind).
        var text = text
        return text.withUTF8(parse(utf8:))
    }

    private static func parse(utf8 b: UnsafeBufferPointer<UInt8>) -> Date? {
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<from + len {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
              let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2) else { return nil }
        var i = 19
        var micros = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(b[i] - 48); digits += 1 }
                i += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offsetSeconds = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num(i + 1, 2) else { return nil }
            var om = 0
            if i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let m = num(i + 4, 2) { om = m }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        }
        let days = CivilCalendar.days(year: y, month: mo, day: d)
        let total = Double(days * 86_400 + h * 3600 + mi * 60 + s - offsetSeconds) + Double(micros) / 1_000_000
        return Date(timeIntervalSince1970: total)
    }
}

/// bytea. Bound in the binary format, so the bytes travel as they are: hex text doubled the
/// size of a batch's outbox row and cost both sides a pass over it.
public struct PostgresBytes: PostgresBindable, Equatable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var postgresParameter: PostgresParameter { .binary(bytes) }

    /// Parses the hex form PostgreSQL answers with (bytea_output = hex, the default).
    public static func parse(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { utf8 -> [UInt8]? in
            guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else { return nil }
            var valid = true
            let bytes = [UInt8](unsafeUninitializedCapacity: (utf8.count - 2) / 2) { buffer, initialized in
                var i = 2, o = 0
                while i < utf8.count {
                    let hi = hexValue[Int(utf8[i])], lo = hexValue[Int(utf8[i + 1])]
                    if hi > 15 || lo > 15 { valid = false; break }
                    buffer[o] = hi << 4 | lo
                    i += 2
                    o += 1
                }
                initialized = o
            }
            return valid ? bytes : nil
        }
    }
}


/// Hex digit values by ASCII code; 0xFF marks a non-digit.
private let hexValue: [UInt8] = (0..<256).map { c in
    switch c {
    case 48...57: UInt8(c - 48)
    case 97...102: UInt8(c - 87)
    case 65...70: UInt8(c - 55)
    default: 0xFF
    }
}
