import CascadeDomain
import Foundation
import Postgres

/// One outbox row: the messages one transaction committed, published together and deleted
/// together once the broker has acknowledged every one of them.
struct OutboxBatch: Sendable {
    let id: Int64
    let messages: [OutboxMessage]
}

enum OutboxStore {
    static func insertStatement(_ messages: [OutboxMessage]) -> PipelineStatement {
        PipelineStatement("INSERT INTO outbox (message_count, messages) VALUES ($1, $2::bytea) RETURNING id",
                          [messages.count, PostgresBytes(OutboxFraming.encode(messages))])
    }

    /// Claims up to `limit` rows in id order. SKIP LOCKED lets several relays share the table
    /// without waiting on each other; the claim lasts until the caller's transaction ends.
    /// Rows younger than `olderThanSeconds`, or `excluding` (in flight here), are normally on
    /// their way through a relay's hand-off; leaving them alone avoids publishing them twice.
    private static func claimStatement(limit: Int, olderThanSeconds: Double, excluding: [Int64]) -> PipelineStatement {
        PipelineStatement("""
            SELECT id, messages FROM outbox
            WHERE created_at < clock_timestamp() - make_interval(secs => $2) AND id <> ALL($3::bigint[])
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
            """, [limit, olderThanSeconds, PostgresArray(excluding)])
    }

    /// A claimed row: its messages, or its bytes when they do not decode.
    enum ClaimedRow {
        case decoded(OutboxBatch)
        case undecodable(id: Int64, bytes: [UInt8], error: OutboxFraming.DecodingError)
    }

    /// BEGIN and claim in one round trip; the caller ends the transaction. A row that does not
    /// decode is returned as such, so it cannot stop the rows after it.
    static func claimInNewTransaction(_ db: PostgresConnection, limit: Int, olderThanSeconds: Double,
                                      excluding: [Int64] = []) throws -> [ClaimedRow] {
        let results = try db.pipeline([PipelineStatement("BEGIN"),
                                       claimStatement(limit: limit, olderThanSeconds: olderThanSeconds, excluding: excluding)])
        return try results[1].rows.map { row in
            let id = try row.int("id")
            let bytes = try row.bytes("messages")
            do throws(OutboxFraming.DecodingError) {
                return .decoded(OutboxBatch(id: id, messages: try OutboxFraming.decode(bytes)))
            } catch {
                return .undecodable(id: id, bytes: bytes, error: error)
            }
        }
    }

    /// Parks what the rows park and deletes them; `inTransaction` adds the COMMIT of the
    /// caller's transaction, otherwise parking and deleting get a transaction of their own
    /// (a row must never be gone while its parked messages are not yet stored).
    static func settle(_ db: PostgresConnection, _ rows: [SettledRow], extra: [PipelineStatement] = [],
                       inTransaction: Bool) throws {
        var statements = extra
        for row in rows {
            for p in row.parking { statements.append(ParkedStore.insertStatement(p.parked, from: ParkOrigin(outboxRow: p.row, position: p.position))) }
        }
        if !rows.isEmpty { statements.append(deleteStatement(rows.map(\.id))) }
        if inTransaction {
            statements.append(PipelineStatement("COMMIT"))
        } else if statements.count > 1 {
            statements = [PipelineStatement("BEGIN")] + statements + [PipelineStatement("COMMIT")]
        }
        guard !statements.isEmpty else { return }
        do {
            _ = try db.pipeline(statements)
        } catch {
            if statements.count > 1, db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
    }

    private static func deleteStatement(_ ids: [Int64]) -> PipelineStatement {
        PipelineStatement("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray(ids)])
    }
}
