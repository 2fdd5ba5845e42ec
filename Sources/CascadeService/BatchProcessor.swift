import CascadeDomain
import Foundation
import Kafka
import Postgres

/// Turns a polled batch into one committed transaction. Bad input never fails a batch: it is
/// planned as a rejection. If the database refuses a batch for a reason retrying cannot fix
/// (some value it will not store), the reports are applied one by one so only the culprit is
/// dead-lettered.
final class BatchProcessor {
    private let db: PostgresConnection
    private let planner: CompletionPlanner
    private let limits: ReportLimits
    private let uuids = TimeOrderedUUIDs()

    init(db: PostgresConnection, planner: CompletionPlanner, limits: ReportLimits) {
        self.db = db
        self.planner = planner
        self.limits = limits
    }

    /// Throws only errors worth retrying (lost connection, serialization, deadlock).
    func process(_ messages: [KafkaMessage]) throws -> AppliedBatch {
        let raws = messages.map(RawReport.init)
        let inputs = raws.map(validate)
        var mismatches = 0
        for (raw, input) in zip(raws, inputs) {
            if case .report(let report) = input, ReportValidation.keyDiffers(raw, from: report.jobId) { mismatches += 1 }
        }
        var applied = try applyOrIsolate(messages, inputs)
        applied.keyMismatches = mismatches
        return applied
    }

    private func applyOrIsolate(_ messages: [KafkaMessage], _ inputs: [PlannedInput]) throws -> AppliedBatch {
        do {
            return try apply(inputs)
        } catch let error as PostgresError where !error.isRetriable {
            Log.warning("batch refused by the database; applying its reports one at a time", ["error": "\(error)"])
            var combined = AppliedBatch(effects: BatchEffects(), outbox: [])
            for (message, input) in zip(messages, inputs) {
                let applied: AppliedBatch
                do {
                    applied = try apply([input])
                } catch let single as PostgresError where !single.isRetriable {
                    applied = try apply([deadLetter(message, input, reason: "the database refused this report: \(single)")])
                }
                combined.append(applied)
            }
            return combined
        }
    }

    private func apply(_ inputs: [PlannedInput]) throws -> AppliedBatch {
        let reports = inputs.compactMap { if case .report(let r) = $0 { r } else { nil } }
        return try BatchStore(db: db).apply(reports) { snapshot in
            let now = Date()
            return planner.plan(inputs, snapshot: snapshot, now: now, newId: { uuids.make(at: now) })
        }
    }

    private func validate(_ raw: RawReport) -> PlannedInput {
        switch ReportValidation.validate(raw, limits: limits) {
        case .success(let report): return .report(report)
        case .failure(let rejection): return .rejected(raw, rejection)
        }
    }

    private func deadLetter(_ message: KafkaMessage, _ input: PlannedInput, reason: String) -> PlannedInput {
        switch input {
        case .rejected: return input
        case .report(let r):
            return .rejected(RawReport(message), ReportRejection(reason, jobId: r.jobId, modelId: r.modelId,
                                                                  modelVersion: r.modelVersion, requestId: r.requestId))
        }
    }
}

extension RawReport {
    init(_ message: KafkaMessage) {
        self.init(key: message.key, value: message.value, headers: message.headers.map { ($0.name, $0.value) },
                  source: ReportSource(topic: message.topic, partition: message.partition, offset: message.offset))
    }
}
