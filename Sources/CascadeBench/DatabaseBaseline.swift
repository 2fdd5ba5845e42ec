import CascadeDomain
import CascadeService
import Foundation
import Kafka
import Postgres

/// The benchmark's PG-bound ceiling: the same SQL a drain runs per batch (the batch
/// transaction, then the relay's delete of the outbox rows it wrote), applied in a tight loop
/// with no Kafka at all. One per thread, never shared: it owns a connection, which is not
/// Sendable, so this is `@unchecked` only to be handed to `concurrentPerform`.
struct DatabaseBaseline: @unchecked Sendable {
    let processor: BatchProcessor
    let db: PostgresConnection

    init(db: PostgresConnection, settings: ServiceSettings) {
        self.db = db
        processor = BatchProcessor(store: BatchStore(db: db), planner: settings.planner,
                                   limits: settings.limits)
    }

    /// Applies one batch and publishes nothing: the outbox rows it wrote are deleted as the
    /// relay does after their delivery reports. Returns the reports applied.
    @discardableResult
    func apply(_ batch: [KafkaMessage]) throws -> Int {
        let applied = try processor.process(batch)
        try OutboxStore.settle(applied.outbox.map { SettledRow(id: $0.id) }, on: db)
        return applied.effects.results.count
    }
}
