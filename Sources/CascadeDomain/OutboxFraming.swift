/// The bytes of one outbox row: every message a batch committed, framed one after another.
///
/// One row per batch instead of one per message: a batch of 500 reports wrote and later deleted
/// about 1,000 rows and index entries, which cost PostgreSQL more than the batch's job updates.
///
/// Layout (integers big-endian, so SQL's `int4send` writes them too; see migration 3):
/// a format byte (1), then per message: topic (u32 length, UTF-8), key (i32 length, -1 for
/// none), value (i32 length, -1 for a null value), header count (u32), and per header: name
/// (u32 length, UTF-8), value (i32 length, -1 for none). A null value was added without a new
/// format byte: no row could hold a value of 2^32 - 1 bytes, so -1 meant nothing before.
public enum OutboxFraming {
    public static let formatVersion: UInt8 = 1

    public struct DecodingError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public static func encode(_ messages: [OutboxMessage]) -> [UInt8] {
        var out: [UInt8] = [formatVersion]
        out.reserveCapacity(messages.reduce(1) { $0 + $1.size + $1.topic.utf8.count + 64 + 16 * $1.headers.count })
        for message in messages {
            appendField(Array(message.topic.utf8), to: &out)
            appendOptionalField(message.key, to: &out)
            appendOptionalField(message.value, to: &out)
            appendLength(message.headers.count, to: &out)
            for header in message.headers {
                appendField(Array(header.name.utf8), to: &out)
                appendOptionalField(header.value, to: &out)
            }
        }
        return out
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> [OutboxMessage] {
        var reader = Reader(bytes: bytes)
        let version = try reader.byte()
        guard version == formatVersion else { throw DecodingError(description: "unknown outbox format \(version)") }
        var messages: [OutboxMessage] = []
        while !reader.atEnd {
            let topic = try reader.text()
            let key = try reader.optionalField()
            let value = try reader.optionalField()
            let headerCount = try reader.length()
            var headers: [OutboxHeader] = []
            for _ in 0..<headerCount { headers.append(OutboxHeader(try reader.text(), try reader.optionalField())) }
            messages.append(OutboxMessage(topic: topic, key: key, value: value, headers: headers))
        }
        return messages
    }

    private static func appendLength(_ length: Int, to out: inout [UInt8]) {
        let value = UInt32(truncatingIfNeeded: length)
        out.append(UInt8(value >> 24)); out.append(UInt8((value >> 16) & 0xFF))
        out.append(UInt8((value >> 8) & 0xFF)); out.append(UInt8(value & 0xFF))
    }

    private static func appendField(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out.append(contentsOf: bytes)
    }

    private static func appendOptionalField(_ bytes: [UInt8]?, to out: inout [UInt8]) {
        guard let bytes else { return appendLength(-1, to: &out) }
        appendField(bytes, to: &out)
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() throws(DecodingError) -> UInt8 {
            guard offset < bytes.count else { throw DecodingError(description: "outbox row is empty") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func rawLength() throws(DecodingError) -> UInt32 {
            guard bytes.count - offset >= 4 else { throw DecodingError(description: "outbox row truncated at byte \(offset)") }
            defer { offset += 4 }
            return bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }

        mutating func length() throws(DecodingError) -> Int {
            let length = Int(try rawLength())
            guard length <= bytes.count - offset else { throw DecodingError(description: "outbox row truncated at byte \(offset)") }
            return length
        }

        mutating func field() throws(DecodingError) -> [UInt8] {
            let length = try length()
            defer { offset += length }
            return Array(bytes[offset..<offset + length])
        }

        mutating func optionalField() throws(DecodingError) -> [UInt8]? {
            if bytes.count - offset >= 4, bytes[offset..<offset + 4].allSatisfy({ $0 == 0xFF }) {
                offset += 4
                return nil
            }
            return try field()
        }

        mutating func text() throws(DecodingError) -> String {
            let raw = try field()
            guard let text = String(validating: raw, as: UTF8.self) else { throw DecodingError(description: "outbox text field is not UTF-8") }
            return text
        }
    }
}
