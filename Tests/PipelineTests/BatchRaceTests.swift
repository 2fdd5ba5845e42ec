import CascadeDomain
import CascadeService
import Foundation
import Postgres
import TestSupport
import XCTest

/// Two members can apply one report at once (a rebalance hands its partition over while the old
/// owner is still writing). Jobs are read without row locks, so the guard is the completing
/// UPDATE: a member whose read went stale before its write must write nothing at all, or the
/// report's downstream jobs and messages would exist twice. Each race here is run in order: the
/// other member's work happens inside this member's plan, between its read and its write.
final class BatchRaceTests: XCTestCase {
    private var database: PrivateDatabase!
    private var f: PipelineFixture!
    private let planner = CompletionPlanner()

    override func setUpWithError() throws {
        // Its own database, so that the outbox holds only this test's rows.
        database = try PrivateDatabase("batchrace")
        f = try PipelineFixture(databaseURL: database.url, createTopics: false)
    }

    override func tearDownWithError() throws {
        f?.close()
        database?.drop()
    }

    func testTheMemberThatLosesTheRaceWritesNothingAndItsRetryIsADuplicate() throws {
        let source = try f.model("src"), target = try f.model("dst")
        try f.subscribe(source, target)
        let job = try f.startedJob(source)
        let report = try completion(of: job, offset: 7)
        let first = try member(), second = try member()

        var winner: Result<AppliedBatch, any Error>?
        XCTAssertThrowsError(try first.apply([report]) { snapshot in
            winner = Result { try second.apply([report], plan(report)) }
            return plan(report)(snapshot)
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .serializationFailure, "\(error)")
            XCTAssertTrue("\(error)".contains("1 of 1 job(s) changed under the batch before its write"), "\(error)")
        }
        let won = try XCTUnwrap(winner).get()
        XCTAssertEqual(won.effects.createdJobs.count, 1)
        XCTAssertEqual(won.outbox.count, 1)

        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 1,
                       "only the winner's downstream job")
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM outbox"), 1, "only the winner's messages")

        // FailurePolicy retries a serialization failure; the retry reads fresh rows.
        let retry = try first.apply([report], plan(report))
        XCTAssertEqual(retry.effects.completedJobs.count, 0)
        XCTAssertEqual(retry.effects.createdJobs.count, 0)
        XCTAssertEqual(retry.effects.results.map(\.duplicate), [true])
        XCTAssertEqual(retry.effects.results.first?.triggeredEvents, won.effects.results.first?.triggeredEvents,
                       "the duplicate repeats the winner's outcome")
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 1)
    }

    /// A job read as pending and started by someone else before the write: completing it from
    /// the stale read would overwrite the start time it was given, so the write fails instead.
    func testAJobStartedAfterItWasReadIsPlannedAgain() throws {
        let source = try f.model("src")
        let job = try f.registry.createJob(id: UUID().uuidString.lowercased(), modelId: source, version: "v1",
                                           type: .inference, status: .pending, input: nil)
        let report = try completion(of: job, offset: 8)
        let store = try member()
        try f.db.query("SET lock_timeout = '10s'")
        let startedAt = "2026-01-02 03:04:05.678+00"

        XCTAssertThrowsError(try store.apply([report]) { snapshot in
            XCTAssertEqual(snapshot.jobs[job.id]?.status, .pending)
            do {
                try self.f.db.query("UPDATE jobs SET status = 'started', started_at = $2::timestamptz WHERE job_id = $1",
                                    [job.id, startedAt])
            } catch { XCTFail("starting the job: \(error)") }
            return plan(report)(snapshot)
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .serializationFailure, "\(error)")
        }
        XCTAssertEqual(try f.job(job.id)?.status, .started, "nothing of the failed write is kept")

        let retry = try store.apply([report], plan(report))
        XCTAssertEqual(retry.effects.completedJobs.map(\.id), [job.id])
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE job_id = $1 AND status = 'success' AND started_at = $2::timestamptz",
                                   [job.id, startedAt]), 1, "completed with the start time it was given")
    }

    /// The other member completes the job while this member's write waits on its row: once
    /// it commits, the waiting UPDATE re-reads the row, no longer matches, and fails whole.
    func testAWriteWaitingOnTheWinnersRowFailsOnceTheWinnerCommits() throws {
        let (job, report) = try jobWithASubscription()
        let winner = try holdingTheRow(of: job)
        let outcome = try applyWhileBlocked(report, by: winner)
        try winner.query("COMMIT")
        XCTAssertThrowsError(try outcome.wait()) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .serializationFailure, "\(error)")
        }
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 0,
                       "the waiting member inserted nothing")
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM outbox"), 0)
        XCTAssertEqual(try f.job(job.id)?.output, ["by": "the winner"])
    }

    /// The same wait, but the other transaction rolls back: the row still matches, and the
    /// waiting write goes through.
    func testAWriteWaitingOnARowThatIsRolledBackGoesThrough() throws {
        let (job, report) = try jobWithASubscription()
        let other = try holdingTheRow(of: job)
        let outcome = try applyWhileBlocked(report, by: other)
        try other.query("ROLLBACK")
        let applied = try outcome.wait()
        XCTAssertEqual(applied.effects.completedJobs.map(\.id), [job.id])
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 1)
    }

    private func jobWithASubscription() throws -> (Job, CompletionReport) {
        let source = try f.model("src"), target = try f.model("dst")
        try f.subscribe(source, target)
        let job = try f.startedJob(source)
        return (job, try completion(of: job, offset: 9))
    }

    /// Another session that has completed the job and not committed yet.
    private func holdingTheRow(of job: Job) throws -> PostgresConnection {
        let other = try PostgresConnection(url: database.url)
        try other.query("BEGIN")
        try other.query(#"UPDATE jobs SET status = 'success', output = '{"by": "the winner"}', completed_at = now() WHERE job_id = $1"#, [job.id])
        return other
    }

    /// Applies `report` on a thread of its own and returns once its write is seen waiting on
    /// `holder`'s row lock.
    private func applyWhileBlocked(_ report: CompletionReport, by holder: PostgresConnection) throws -> Outcome {
        let holderPid = try holder.query("SELECT pg_backend_pid() AS pid").first!.int("pid")
        let work = HandedOver(store: try member(), plan: plan(report))
        let outcome = Outcome()
        Thread.detachNewThread { outcome.finish(Result { try work.store.apply([report], work.plan) }) }
        XCTAssertTrue(try eventually(timeout: 20) {
            try self.f.count("SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [holderPid]) == 1
        }, "the write never waited on the row")
        return outcome
    }

    /// A store and a plan given to one other thread; this one does not touch them after.
    private struct HandedOver: @unchecked Sendable {  // used by one thread at a time: the handover is the thread's start
        let store: BatchStore
        let plan: (BatchSnapshot) -> BatchEffects
    }

    /// A bounded wait for the other thread's result.
    private final class Outcome: @unchecked Sendable {  // the condition guards `result`
        private let condition = NSCondition()
        private var result: Result<AppliedBatch, any Error>?

        func finish(_ result: Result<AppliedBatch, any Error>) {
            condition.withLock { self.result = result; condition.broadcast() }
        }

        func wait() throws -> AppliedBatch {
            try condition.withLock {
                let deadline = Date().addingTimeInterval(30)
                while result == nil { if !condition.wait(until: deadline) { break } }
                guard let result else { throw PostgresError.client("the write did not finish within 30 s") }
                return try result.get()
            }
        }
    }

    /// A member's store. A lock wait past 10 s fails the test instead of hanging it, should a
    /// lock ever be taken where these races expect none.
    private func member() throws -> BatchStore {
        let db = try PostgresConnection(url: database.url)
        try db.query("SET lock_timeout = '10s'")
        return BatchStore(db: db)
    }

    private func plan(_ report: CompletionReport) -> (BatchSnapshot) -> BatchEffects {
        { [planner] snapshot in planner.plan([.report(report)], snapshot: snapshot, now: Date()) }
    }

    private func completion(of job: Job, offset: Int64) throws -> CompletionReport {
        let value = #"{"model_id":"\#(job.modelId)","model_version":"\#(job.modelVersion)","job_id":"\#(job.id)","status":"success","output":{"uri":"s3://out"}}"#
        let raw = RawReport(key: Array(job.id.utf8), value: Array(value.utf8), headers: [],
                            source: ReportSource(topic: f.topics.reports, partition: 0, offset: offset))
        return try ReportValidation.validate(raw).get()
    }
}
