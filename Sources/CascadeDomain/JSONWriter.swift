import Foundation

/// Writes JSON straight to UTF-8 bytes. The messages Cascade sends per report are built with it
/// rather than as `JSONValue` trees: the trees' allocations and reference counting showed in
/// the drain's profile.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Per open container, innermost in bit 0: whether its next member needs a comma first.
    /// Bits, not an array of flags: the array's copy-on-write checks on every member showed
    /// in callgrind. The writer builds Cascade's own messages, a few levels deep; `value`
    /// writes a nested JSONValue of any depth without using these.
    private var needsComma: UInt64 = 0
    private var depth = 0
    private var afterKey = false

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Writes after the bytes already in `buffer`, for JSON framed inside a larger message:
    /// no buffer of its own to allocate and copy over.
    public static func write(appendingTo buffer: inout [UInt8], _ body: (inout JSONWriter) -> Void) {
        var w = JSONWriter(capacity: 0)
        swap(&w.bytes, &buffer)
        body(&w)
        swap(&w.bytes, &buffer)
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A key that is a literal of the code: its bytes are copied as they are. Escaping each one
    /// cost about 400 instructions, some 8,000 per report over the ~20 keys of its messages.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { utf8 in
            assert(!utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }, "a key literal that needs escaping")
            bytes.append(contentsOf: utf8)
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A key that comes from data, escaped as any string.
    public mutating func key(named name: String) {
        separate()
        JSONValue.writeString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String?) {
        separate()
        if let value { JSONValue.writeString(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    public mutating func int<T: BinaryInteger>(_ value: T) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    public mutating func value(_ value: JSONValue?) {
        separate()
        if let value { value.write(to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    /// A UUID as a lowercase string, without going through `uuidString`'s formatter.
    public mutating func uuid(_ id: UUID) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        id.appendLowercasedText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func member(_ name: StaticString, _ text: String?) { key(name); string(text) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        precondition(depth < 64, "JSONWriter nests containers at most 64 deep")
        bytes.append(bracket)
        needsComma <<= 1
        depth += 1
    }

    private mutating func close(_ bracket: UInt8) {
        precondition(depth > 0, "JSONWriter closed a container it never opened")
        bytes.append(bracket)
        needsComma >>= 1
        depth -= 1
    }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        if needsComma & 1 != 0 { bytes.append(UInt8(ascii: ",")) }
        needsComma |= 1
    }
}

extension UUID {
    /// The canonical lowercase form. `uuidString` formats through vfprintf and `lowercased()`
    /// copies it again; both showed in a drain's profile at two ids per report.
    public var lowercasedText: String { String(decoding: lowercasedBytes, as: UTF8.self) }

    /// `lowercasedText` as UTF-8, for a header value: one allocation where the String and
    /// its bytes were three.
    public var lowercasedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        appendLowercasedText(to: &out)
        return out
    }

    /// 36 bytes written on the stack and appended once: appending byte by byte through a table
    /// was about 6,000 instructions per report (callgrind), for three ids.
    func appendLowercasedText(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
            withUnsafeBytes(of: uuid) { raw in
                var at = 0
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        text[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    text[at] = hexDigit(raw[i] >> 4)
                    text[at + 1] = hexDigit(raw[i] & 0x0f)
                    at += 2
                }
            }
            out.append(contentsOf: text)
        }
    }
}

private func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble }
