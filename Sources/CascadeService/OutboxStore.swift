import CascadeDomain
import Foundation
import Postgres

/// A row claimed from the outbox for publishing.
struct OutboxRow: Sendable {
    let id: Int64
    let message: OutboxMessage
}

enum OutboxStore {
    static func insertStatement(_ messages: [OutboxMessage]) -> PipelineStatement {
        PipelineStatement("""
            INSERT INTO outbox (topic, key, value, headers)
            SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::jsonb[])
            RETURNING id
            """, [PostgresArray(messages.map { $0.topic }), PostgresArray.bytea(messages.map { $0.key }),
                  PostgresArray.bytea(messages.map { $0.value }), PostgresArray(messages.map { encodeHeaders($0.headers) })])
    }

    /// Claims up to `limit` rows in id order. SKIP LOCKED lets several relays share the table
    /// without waiting on each other; the claim lasts until the caller's transaction ends.
    /// Rows younger than `olderThanSeconds`, or `excluding` (in flight here), are normally on
    /// their way through a relay's hand-off; leaving them alone avoids publishing them twice.
    private static func claimStatement(limit: Int, olderThanSeconds: Double, excluding: [Int64]) -> PipelineStatement {
        PipelineStatement("""
            SELECT id, topic, key, value, headers FROM outbox
            WHERE created_at < clock_timestamp() - make_interval(secs => $2) AND id <> ALL($3::bigint[])
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit, olderThanSeconds, PostgresArray(excluding)])
    }

    private static func rows(_ result: PostgresRows) throws -> [OutboxRow] {
        try result.rows.map { row in
            OutboxRow(id: try row.int("id"), message: OutboxMessage(
                topic: try row.string("topic"), key: try row.optionalBytes("key"), value: try row.bytes("value"),
                headers: try decodeHeaders(try row.string("headers"))))
        }
    }

    /// BEGIN and claim in one round trip; the caller ends the transaction.
    static func claimInNewTransaction(_ db: PostgresConnection, limit: Int, olderThanSeconds: Double,
                                      excluding: [Int64] = []) throws -> [OutboxRow] {
        let results = try db.pipeline([PipelineStatement("BEGIN"),
                                       claimStatement(limit: limit, olderThanSeconds: olderThanSeconds, excluding: excluding)])
        return try rows(results[1])
    }

    /// Deletes what was delivered and commits, in one round trip.
    static func deleteAndCommit(_ db: PostgresConnection, ids: [Int64]) throws {
        var statements: [PipelineStatement] = []
        if !ids.isEmpty { statements.append(PipelineStatement("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray(ids)])) }
        statements.append(PipelineStatement("COMMIT"))
        _ = try db.pipeline(statements)
    }

    static func delete(_ db: PostgresConnection, ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try db.query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray(ids)])
    }

    /// `[{"name": …, "value": …}]`, with `base64` instead of `value` for bytes that are not UTF-8
    /// and neither for a null header, so operators can read the table with psql.
    static func encodeHeaders(_ headers: [OutboxHeader]) -> PostgresJSON {
        let items: [JSONValue] = headers.map { header in
            guard let value = header.value else { return ["name": .string(header.name)] }
            if let text = String(validating: value, as: UTF8.self) { return ["name": .string(header.name), "value": .string(text)] }
            return ["name": .string(header.name), "base64": .string(Data(value).base64EncodedString())]
        }
        return PostgresJSON(JSONValue.array(items).description)
    }

    static func decodeHeaders(_ text: String) throws -> [OutboxHeader] {
        guard case .array(let items) = try JSONParser.parse(text) else { throw PostgresError.client("outbox headers are not an array") }
        return try items.map { item in
            guard let name = item["name"]?.stringValue else { throw PostgresError.client("outbox header without a name") }
            if let value = item["value"]?.stringValue { return OutboxHeader(name, value) }
            if let encoded = item["base64"]?.stringValue, let data = Data(base64Encoded: encoded) { return OutboxHeader(name, Array(data)) }
            return OutboxHeader(name, nil)
        }
    }
}
