import CascadeDomain
import Foundation
import Kafka

/// Turns a polled batch into one committed transaction. Bad input never fails a batch: it is
/// planned as a rejection. If the database refuses a batch's content (FailurePolicy: some value
/// it will not store, a stored row that breaks an invariant), the reports are applied one by
/// one so that only the culprit is dead-lettered.
package final class BatchProcessor {
    private let store: any BatchStoring
    private let planner: CompletionPlanner
    private let limits: ReportLimits
    private let uuids = TimeOrderedUUIDs()

    package init(store: any BatchStoring, planner: CompletionPlanner, limits: ReportLimits) {
        self.store = store
        self.planner = planner
        self.limits = limits
    }

    /// Throws what neither the batch nor its reports one by one could get past: transient
    /// failures (to retry), or a report that cannot even be dead-lettered (fatal).
    package func process(_ messages: [KafkaMessage]) throws -> AppliedBatch {
        let raws = messages.map(RawReport.init)
        let inputs = raws.map(validate)
        var mismatches = 0
        for (raw, input) in zip(raws, inputs) {
            if case .report(let report) = input, ReportValidation.keyDiffers(raw, from: report.jobId) { mismatches += 1 }
        }
        var applied = try applyOrIsolate(raws, inputs)
        applied.keyMismatches = mismatches
        return applied
    }

    private func applyOrIsolate(_ raws: [RawReport], _ inputs: [PlannerInput]) throws -> AppliedBatch {
        do {
            return try apply(inputs)
        } catch where FailurePolicy.classify(error) == .refusedContent {
            Log.warning("the database refused the batch's content; applying its reports one at a time", ["error": "\(error)"])
            var combined = AppliedBatch(effects: BatchEffects(), outbox: [])
            for (raw, input) in zip(raws, inputs) {
                let applied: AppliedBatch
                do {
                    applied = try apply([input])
                } catch where FailurePolicy.classify(error) == .refusedContent {
                    applied = try apply([deadLetter(raw, input, reason: "the database refused this report: \(error)")])
                }
                combined.append(applied)
            }
            return combined
        }
    }

    private func apply(_ inputs: [PlannerInput]) throws -> AppliedBatch {
        let reports = inputs.compactMap { if case .report(let r) = $0 { r } else { nil } }
        return try store.apply(reports) { snapshot in
            let now = Date()
            return planner.plan(inputs, snapshot: snapshot, now: now, newId: { uuids.make(at: now) })
        }
    }

    private func validate(_ raw: RawReport) -> PlannerInput {
        switch ReportValidation.validate(raw, limits: limits) {
        case .success(let report): return .report(report)
        case .failure(let rejection): return .rejected(raw, rejection)
        }
    }

    private func deadLetter(_ raw: RawReport, _ input: PlannerInput, reason: String) -> PlannerInput {
        switch input {
        case .rejected: return input
        case .report(let r):
            return .rejected(raw, ReportRejection(.refusedByDatabase, reason, jobId: r.jobId, modelId: r.modelId,
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
