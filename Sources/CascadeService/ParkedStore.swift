import CascadeDomain
import Foundation
import Postgres

/// A parked message as stored: where it came from and why it waits.
public struct ParkedRecord: Sendable {
    public let id: Int64
    public let topic: String?
    public let eventId: String?
    public let size: Int
    public let reason: String
    public let outboxRow: Int64?
    public let position: Int?
    public let parkedAt: Date
    /// The message itself; nil when its outbox row could not be decoded (then `undecodable`
    /// holds the row's bytes and there is nothing to re-send until the row is repaired).
    public let message: OutboxMessage?
    public let undecodable: [UInt8]?
}

/// Where parked messages come from, for the `parked_messages` row.
struct ParkOrigin: Sendable {
    let outboxRow: Int64?
    let position: Int?
}

enum ParkedStore {
    static func insertStatement(_ parked: ParkedMessage, from origin: ParkOrigin = ParkOrigin(outboxRow: nil, position: nil))
        -> PipelineStatement {
        let eventId = parked.message.header("event-id").flatMap { String(validating: $0, as: UTF8.self) }
        return PipelineStatement("""
            INSERT INTO parked_messages (topic, event_id, size, message, reason, outbox_row, position)
            VALUES ($1, $2, $3, $4::bytea, $5, $6, $7) ON CONFLICT DO NOTHING
            """, [parked.message.topic, eventId, parked.message.size, PostgresBytes(OutboxFraming.encode([parked.message])),
                  parked.reason, origin.outboxRow, origin.position])
    }

    /// An outbox row whose bytes do not decode is moved here whole, so the sweep can go on.
    static func insertUndecodableStatement(row id: Int64, bytes: [UInt8], reason: String) -> PipelineStatement {
        PipelineStatement("""
            INSERT INTO parked_messages (topic, size, message, reason, outbox_row) VALUES (NULL, $1, $2::bytea, $3, $4)
            ON CONFLICT DO NOTHING
            """, [bytes.count, PostgresBytes(bytes), reason, id])
    }

    /// Oldest first; `ids` empty means all of them.
    static func list(_ db: PostgresConnection, ids: [Int64] = [], limit: Int = 1000) throws -> [ParkedRecord] {
        let rows = try db.query("""
            SELECT id, topic, event_id, size, message, reason, outbox_row, position, parked_at FROM parked_messages
            WHERE cardinality($1::bigint[]) = 0 OR id = ANY($1::bigint[]) ORDER BY id LIMIT $2
            """, [PostgresArray(ids), limit])
        return try rows.rows.map { row in
            let bytes = try row.bytes("message")
            let topic = try row.optionalString("topic")
            let message = topic == nil ? nil : try? OutboxFraming.decode(bytes).first
            return ParkedRecord(
                id: try row.int("id"), topic: topic, eventId: try row.optionalString("event_id"), size: Int(try row.int("size")),
                reason: try row.string("reason"), outboxRow: try row.optionalInt("outbox_row"),
                position: try row.optionalInt("position").map(Int.init), parkedAt: try row.date("parked_at"),
                message: message, undecodable: message == nil ? bytes : nil)
        }
    }

    static func delete(_ db: PostgresConnection, id: Int64) throws {
        try db.query("DELETE FROM parked_messages WHERE id = $1", [id])
    }

    static func count(_ db: PostgresConnection) throws -> Int64 {
        try db.query("SELECT count(*) AS n FROM parked_messages").first!.int("n")
    }
}
