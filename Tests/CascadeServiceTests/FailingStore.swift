import CascadeDomain
@testable import CascadeService
import Foundation
import Kafka
import Synchronization

/// A BatchStoring that keeps jobs in memory and fails on demand: `failure` sees each call's
/// reports and returns the error to throw, if any. Every call is recorded.
final class FailingStore: BatchStoring, Sendable {
    private let jobs: Mutex<[String: Job]>
    private let failure: @Sendable (_ call: Int, _ reports: [CompletionReport]) -> (any Error)?
    let calls = Mutex<[[String]]>([])

    init(startedJobs ids: [String], failure: @escaping @Sendable (_ call: Int, _ reports: [CompletionReport]) -> (any Error)?) {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        jobs = Mutex(Dictionary(uniqueKeysWithValues: ids.map {
            ($0, Job(id: $0, modelId: "A", modelVersion: "v1", type: .inference, status: .started, createdAt: t0, startedAt: t0))
        }))
        self.failure = failure
    }

    func apply(_ reports: [CompletionReport], _ plan: (BatchSnapshot) -> BatchEffects) throws -> AppliedBatch {
        let call = calls.withLock { $0.append(reports.map(\.jobId)); return $0.count }
        if let error = failure(call, reports) { throw error }
        let effects = plan(BatchSnapshot(jobs: jobs.withLock { $0 }))
        jobs.withLock { for job in effects.completedJobs { $0[job.id] = job } }
        return AppliedBatch(effects: effects, outbox: [])
    }

    static func report(_ jobId: String, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: "reports", partition: 0, offset: offset, key: Array(jobId.utf8),
                     value: Array(#"{"model_id":"A","model_version":"v1","job_id":"\#(jobId)","status":"success"}"#.utf8),
                     headers: [], timestampMs: nil)
    }
}
