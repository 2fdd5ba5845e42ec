import CascadeDomain
import Foundation
import Postgres

/// One outbox row: every message of one committed batch, published together and deleted
/// together once each of them is delivered or parked.
package struct OutboxBatch: Sendable {
    package let id: Int64
    package let messages: [OutboxMessage]
}

package enum OutboxStore {
    static func insertStatement(_ messages: [OutboxMessage]) -> PipelineStatement {
        PipelineStatement("INSERT INTO outbox (message_count, messages) VALUES ($1, $2::bytea) RETURNING id",
                          [messages.count, PostgresBytes(OutboxFraming.encode(messages))])
    }

    /// A claimed row: its messages, or its bytes when they do not decode.
    enum ClaimedRow {
        case decoded(OutboxBatch)
        case undecodable(id: Int64, bytes: [UInt8], error: OutboxFraming.DecodingError)
    }

    /// Claims up to `limit` rows in id order, until `tx` ends. SKIP LOCKED lets several relays
    /// share the table without waiting on each other. Rows younger than `olderThan`, or
    /// `excluding` (in flight here), are normally on their way through a relay's hand-off;
    /// leaving them alone avoids publishing them twice. A row that does not decode is returned
    /// as such, so it cannot stop the rows after it.
    static func claim(in tx: PostgresTransaction, limit: Int, olderThan: Duration, excluding: [Int64]) throws -> [ClaimedRow] {
        let rows = try tx.send([PipelineStatement("""
            SELECT id, messages FROM outbox
            WHERE created_at < clock_timestamp() - make_interval(secs => $2) AND id <> ALL($3::bigint[])
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit, olderThan.seconds, PostgresArray(excluding)])])[0]
        return try rows.rows.map { row in
            let id = try row.int("id")
            let bytes = try row.bytes("messages")
            do throws(OutboxFraming.DecodingError) {
                return .decoded(OutboxBatch(id: id, messages: try OutboxFraming.decode(bytes)))
            } catch {
                return .undecodable(id: id, bytes: bytes, error: error)
            }
        }
    }

    /// Parks what the rows park and deletes them, committing `tx`. Rows `postponing` (kept for
    /// failures that may pass) get a fresh age, so the next sweeps reach the rows behind them
    /// instead of re-sending these first every time.
    static func settle(_ rows: [SettledRow], in tx: PostgresTransaction, extra: [PipelineStatement] = [],
                       postponing: [Int64] = []) throws {
        var statements = extra + parkAndDelete(rows)
        if !postponing.isEmpty {
            statements.append(PipelineStatement("UPDATE outbox SET created_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
                                                [PostgresArray(postponing)]))
        }
        try tx.commit(with: statements)
    }

    /// The same outside a sweep: a transaction of its own when something is parked (a row must
    /// never be gone while its parked messages are not stored), a lone DELETE otherwise.
    package static func settle(_ rows: [SettledRow], on db: PostgresConnection) throws {
        let statements = parkAndDelete(rows)
        if statements.count == 1 { _ = try db.pipeline(statements) } else if !statements.isEmpty {
            _ = try db.withTransaction { try $0.commit(with: statements) }
        }
    }

    private static func parkAndDelete(_ rows: [SettledRow]) -> [PipelineStatement] {
        var statements: [PipelineStatement] = []
        for row in rows {
            for p in row.parking { statements.append(ParkedStore.insertStatement(p.parked, from: ParkOrigin(outboxRow: p.row, position: p.position))) }
        }
        if !rows.isEmpty {
            statements.append(PipelineStatement("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray(rows.map(\.id))]))
        }
        return statements
    }
}
