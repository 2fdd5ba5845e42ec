/// A JSON document. Objects keep their keys in document order (so what we write reads the way
/// it was built) but compare without regard to order, which is what "the same output" means
/// when a duplicate report is recognised. Numbers keep their literal text, so large ids survive
/// a round trip, and compare by value.
public enum JSONValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func int<T: BinaryInteger>(_ value: T) -> JSONValue { .number(String(value)) }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        // Keys match by their UTF-8, as RFC 8259 says: String's == would also match canonically
        // equivalent keys ("K" and KELVIN SIGN).
        for member in members.reversed() where member.key.hasSameUTF8(as: key) { return member.value }
        return nil
    }

    public var isObject: Bool { if case .object = self { true } else { false } }
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var objectMembers: [(key: String, value: JSONValue)]? { if case .object(let m) = self { m } else { nil } }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b || (DecimalValue(literal: a).map { $0 == DecimalValue(literal: b) } ?? false)
        case let (.string(a), .string(b)): return a.hasSameUTF8(as: b)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            // Both sides as maps (the last of a repeated key wins, as lookups do), so that
            // equality stays symmetric for objects built with a key twice.
            func members(_ m: [(key: String, value: JSONValue)]) -> [[UInt8]: JSONValue] {
                Dictionary(m.map { (Array($0.key.utf8), $0.value) }, uniquingKeysWith: { $1 })
            }
            return members(a) == members(b)
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n):
            if let value = DecimalValue(literal: n) { hasher.combine(value) } else { hasher.combine(n) }
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let m):
            // Order-independent, to agree with ==.
            hasher.combine(m.count)
            hasher.combine(m.reduce(0) { $0 ^ $1.key.hashValue ^ ($1.value.hashValue &* 31) })
        }
    }

    /// Compact JSON text.
    public var description: String { String(decoding: jsonBytes, as: UTF8.self) }

    /// Compact JSON as UTF-8, the form messages are sent in. Written as bytes because String
    /// appends dominated the profile of a drain.
    public var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Copies runs that need no escaping in one go: a byte at a time was 2.5 % of a drain.
    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                appendEscaped(byte, to: &out)
                runStart = i + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        // Short forms for every escape the parser reads, so writing a value back never makes
        // it longer than it came: a downstream request's input stays within the report's size.
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        case 0..<0x20:
            out.append(contentsOf: "u00".utf8)
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        default: out.append(byte)  // the quote or the backslash itself
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements.map { (key: $0.0, value: $0.1) }) }
    public init(nilLiteral: ()) { self = .null }
}

extension String {
    /// Equal UTF-8 bytes: how JSON compares keys and strings (RFC 8259), where String's ==
    /// compares canonical equivalence. One pass over contiguous bytes: `utf8.elementsEqual`
    /// iterated through the view, about 8,000 instructions per report (callgrind), and
    /// `UnsafeBufferPointer.elementsEqual` is the generic iterator loop too.
    func hasSameUTF8(as other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var a = self, b = other
        return a.withUTF8 { x in b.withUTF8 { y in sameBytes(x, y) } }
    }
}

/// Equal-length buffers with equal bytes (the caller compared the lengths).
func sameBytes(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
    for i in 0..<x.count where x[i] != y[i] { return false }
    return true
}
