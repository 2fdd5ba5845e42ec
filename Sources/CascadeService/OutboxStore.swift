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

    /// BEGIN and claim in one round trip; the caller ends the transaction.
    static func claimInNewTransaction(_ db: PostgresConnection, limit: Int, olderThanSeconds: Double,
                                      excluding: [Int64] = []) throws -> [OutboxBatch] {
        let results = try db.pipeline([PipelineStatement("BEGIN"),
                                       claimStatement(limit: limit, olderThanSeconds: olderThanSeconds, excluding: excluding)])
        return try results[1].rows.map { row in
            let id = try row.int("id")
            do {
                return OutboxBatch(id: id, messages: try OutboxFraming.decode(try row.bytes("messages")))
            } catch {
                throw PostgresError.client("outbox row \(id): \(error)")
            }
        }
    }

    /// Deletes what was delivered and commits, in one round trip.
    static func deleteAndCommit(_ db: PostgresConnection, ids: [Int64]) throws {
        var statements: [PipelineStatement] = []
        if !ids.isEmpty { statements.append(deleteStatement(ids)) }
        statements.append(PipelineStatement("COMMIT"))
        _ = try db.pipeline(statements)
    }

    static func delete(_ db: PostgresConnection, ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        _ = try db.pipeline([deleteStatement(ids)])
    }

    private static func deleteStatement(_ ids: [Int64]) -> PipelineStatement {
        PipelineStatement("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [PostgresArray(ids)])
    }
}
