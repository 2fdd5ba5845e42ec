import CascadeDomain
import Foundation
import Kafka
import Postgres

/// The benchmark's PG-bound ceiling: the same SQL a drain runs per batch (the batch
/// transaction, then the relay's claim and delete of the outbox rows it wrote), applied in a
/// tight loop with no Kafka at all.
public struct DatabaseBaseline {
    let processor: BatchProcessor
    let db: PostgresConnection
    let relayBatchSize: Int

    public init(db: PostgresConnection, settings: ServiceSettings) {
        self.db = db
        processor = BatchProcessor(db: db, planner: CompletionPlanner(topics: settings.topics, depthLimit: settings.depthLimit),
                                   limits: settings.limits)
        relayBatchSize = settings.relayBatchSize
    }

    /// Applies one batch and publishes nothing: the outbox rows it wrote are claimed and deleted
    /// as the relay would after their delivery reports. Returns the reports applied.
    @discardableResult
    public func apply(_ batch: [KafkaMessage]) throws -> Int {
        let effects = try processor.process(batch)
        var remaining = effects.outbox.count
        while remaining > 0 {
            let claimed = try db.withTransaction { tx -> Int in
                let rows = try OutboxStore.claim(tx, limit: relayBatchSize)
                try OutboxStore.delete(tx, ids: rows.map(\.id))
                return rows.count
            }
            if claimed == 0 { break }
            remaining -= claimed
        }
        return effects.results.count
    }
}
