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

        var id: Int64 {
            switch self {
            case .decoded(let batch): batch.id
            case .undecodable(let id, _, _): id
            }
        }
    }

    /// What one claim found.
    struct ClaimedPage {
        /// The rows to publish: a prefix of the table in row order, locked until the claim's
        /// transaction ends.
        var rows: [ClaimedRow]
        /// Nothing else in the table matched: the claim read it to its end (or its bound). When
        /// false, more rows wait: the next page, or rows another relay holds.
        var reachedEnd: Bool
    }

    /// Claims up to `limit` rows in id order, until `tx` ends, with `FOR UPDATE SKIP LOCKED` so
    /// several relays share the table without waiting on each other. Rows younger than
    /// `olderThan`, or `excluding` (in flight here), are normally on their way through a
    /// relay's hand-off; leaving them alone avoids publishing them twice.
    ///
    /// Only a prefix is returned: the rows before the first one that another transaction holds
    /// (another relay's sweep). Publishing past that row would put its messages behind newer
    /// ones for the same key; the caller tries again once the other relay is done. A row that
    /// does not decode is returned as such, so it cannot stop the rows after it.
    static func claim(in tx: PostgresTransaction, limit: Int, olderThan: Duration, upTo bound: Int64? = nil,
                      excluding: [Int64]) throws -> ClaimedPage {
        // `unclaimed` sees the rows SKIP LOCKED passed over: they are still in the snapshot.
        // Both walk the primary key from its start: `claimed` stops after `limit` rows, `unclaimed`
        // at the first row past them (a live sweep over young rows alone reads them all: the
        // rows in flight, a few batches' worth).
        let eligible = "created_at < statement_timestamp() - make_interval(secs => $2) AND id <> ALL($3::bigint[]) AND id <= $4"
        let result = try tx.send([PipelineStatement("""
            WITH claimed AS (
                SELECT id, messages FROM outbox WHERE \(eligible) ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),
            unclaimed AS (
                SELECT min(id) AS first FROM (
                    SELECT id FROM outbox WHERE \(eligible) AND id NOT IN (SELECT id FROM claimed) ORDER BY id LIMIT 1) next)
            SELECT u.first AS unclaimed, c.id, c.messages
            FROM unclaimed u LEFT JOIN claimed c ON u.first IS NULL OR c.id < u.first
            ORDER BY c.id
            """, [limit, olderThan.seconds, PostgresArray(excluding), bound ?? Int64.max])])[0]
        var page = ClaimedPage(rows: [], reachedEnd: false)
        for row in result.rows {
            if try row.optionalInt("unclaimed") == nil { page.reachedEnd = true }
            guard let id = try row.optionalInt("id") else { continue }
            let bytes = try row.bytes("messages")
            do throws(OutboxFraming.DecodingError) {
                page.rows.append(.decoded(OutboxBatch(id: id, messages: try OutboxFraming.decode(bytes))))
            } catch {
                page.rows.append(.undecodable(id: id, bytes: bytes, error: error))
            }
        }
        return page
    }

    /// The last row id now, 0 when the table is empty: where a catching-up relay stops.
    static func lastId(in tx: PostgresTransaction) throws -> Int64 {
        try tx.query("SELECT coalesce(max(id), 0) AS id FROM outbox").first!.int("id")
    }

    /// Parks what the rows park and deletes them, committing `tx`.
    static func settle(_ rows: [SettledRow], in tx: PostgresTransaction, extra: [PipelineStatement] = []) throws {
        try tx.commit(with: extra + parkAndDelete(rows))
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
