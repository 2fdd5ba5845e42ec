import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport

/// Started jobs of one source model, each with a report waiting on the reports topic (every
/// tenth a failure), and `subscriptions` active inference_complete subscriptions on the model:
/// what the crash, rebalance and fault tests drain and then check with `Oracle`.
struct Backlog {
    let jobs: [String]
    let successes: Set<String>
    let subscriptions: Int
    let sourceModel: String
    /// The reports, in job order; `publish` sends them (or a test sends them its own way).
    let reports: [OutgoingMessage]

    static func seed(_ f: PipelineFixture, count: Int, subscriptions: Int = 1, publish: Bool = true) throws -> Backlog {
        let source = try f.model("src")
        for i in 0..<subscriptions { try f.subscribe(source, try f.model("dst\(i)")) }
        try f.db.query("""
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
            SELECT $1 || '-' || i, $2, 'v1', 'inference', 'started', '{}'::jsonb, now() FROM generate_series(1, $3) AS i
            """, [f.id, source, count])
        let jobs = (1...count).map { "\(f.id)-\($0)" }
        var successes = Set<String>()
        let reports = jobs.enumerated().map { i, id -> OutgoingMessage in
            let failed = i % 10 == 9
            if !failed { successes.insert(id) }
            let body = failed
                ? #"{"model_id":"\#(source)","model_version":"v1","job_id":"\#(id)","status":"failure","error":{"i":\#(i)}}"#
                : #"{"model_id":"\#(source)","model_version":"v1","job_id":"\#(id)","status":"success","output":{"i":\#(i)}}"#
            return OutgoingMessage(topic: f.topics.reports, key: id, value: body)
        }
        let backlog = Backlog(jobs: jobs, successes: successes, subscriptions: subscriptions, sourceModel: source, reports: reports)
        if publish { try backlog.publish(reports, with: f.producer) }
        return backlog
    }

    func publish(_ messages: [OutgoingMessage], with producer: KafkaProducer) throws {
        for start in stride(from: 0, to: messages.count, by: 20_000) {
            for result in try producer.sendAndWait(Array(messages[start..<min(start + 20_000, messages.count)]), timeout: .seconds(120)) {
                _ = try result.get()
            }
        }
    }

    /// The bounds of this fixture's job ids ("<id>-…"), as a range the primary key's index
    /// serves (LIKE cannot use it under the C.UTF-8 collation, and the table grows run by run).
    func range(_ f: PipelineFixture) -> [any PostgresBindable] { ["\(f.id)-", "\(f.id)."] }

    /// Jobs of this backlog in a terminal state.
    func terminalCount(_ f: PipelineFixture) throws -> Int64 {
        try f.count("SELECT count(*) AS n FROM jobs WHERE job_id >= $1 AND job_id < $2 AND status IN ('success', 'failure')",
                    range(f))
    }

    /// Outbox rows holding this fixture's messages (topic names, framed into each row, start with its id).
    func unpublishedCount(_ f: PipelineFixture) throws -> Int64 {
        try f.count("SELECT count(*) AS n FROM outbox WHERE position(convert_to($1, 'UTF8') IN messages) > 0", ["\(f.id)."])
    }
}
