import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// Crashes and rebalances in the middle of a backlog: every report must take effect exactly
/// once, and every downstream request must reach the broker (re-sends allowed, with the same
/// event-id).
final class EffectivelyOnceTests: XCTestCase {
    private var f: PipelineFixture!

    override func setUpWithError() throws { f = try PipelineFixture() }
    override func tearDown() { f?.close() }

    /// Seeds `count` started jobs of a model with one trigger_output subscription and publishes
    /// a report for each (every tenth a failure). Returns the jobs and which succeeded.
    private func backlog(_ count: Int) throws -> (jobs: [String], successes: Set<String>) {
        let source = try f.model("src"), target = try f.model("dst")
        try f.subscribe(source, target)
        try f.db.query("""
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
            SELECT $1 || '-' || i, $2, 'v1', 'inference', 'started', '{}'::jsonb, now() FROM generate_series(1, $3) AS i
            """, [f.id, source, count])
        let jobs = (1...count).map { "\(f.id)-\($0)" }
        var successes = Set<String>()
        let messages = jobs.enumerated().map { i, id -> OutgoingMessage in
            let failed = i % 10 == 9
            if !failed { successes.insert(id) }
            let body = failed
                ? #"{"model_id":"\#(source)","model_version":"v1","job_id":"\#(id)","status":"failure","error":{"i":\#(i)}}"#
                : #"{"model_id":"\#(source)","model_version":"v1","job_id":"\#(id)","status":"success","output":{"i":\#(i)}}"#
            return OutgoingMessage(topic: f.topics.reports, key: id, value: body)
        }
        for result in try f.producer.sendAndWait(messages) { _ = try result.get() }
        return (jobs, successes)
    }

    private func terminalCount() throws -> Int64 {
        try f.count("SELECT count(*) AS n FROM jobs WHERE job_id LIKE $1 AND status IN ('success', 'failure')", ["\(f.id)-%"])
    }

    private func unpublishedCount() throws -> Int64 {
        // Topic names are framed into each row's bytes; this run's all start with its id.
        try f.count("SELECT count(*) AS n FROM outbox WHERE position(convert_to($1, 'UTF8') IN messages) > 0", ["\(f.id)."])
    }

    /// Progress as the result records show it: cheap to watch, whatever the size of the jobs table.
    private func waitForProgress(atLeast n: Int, timeout: TimeInterval = 60) {
        XCTAssertTrue(eventually(timeout: timeout, interval: 0.005) { f.reader.messages(f.topics.results).count >= n }, "no progress to \(n)")
    }

    private func verifyExactlyOnce(jobs: [String], successes: Set<String>, file: StaticString = #filePath, line: UInt = #line) throws {
        let total = Int64(jobs.count)
        let drained = try eventually(timeout: 120) { try terminalCount() == total && unpublishedCount() == 0 }
        let applied = try terminalCount(), unpublished = try unpublishedCount()
        XCTAssertTrue(drained, "not drained: \(applied) of \(total) applied, \(unpublished) unpublished", file: file, line: line)
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE job_id LIKE $1 AND status = 'success'", ["\(f.id)-%"]),
                       Int64(successes.count), file: file, line: line)
        // Exactly one downstream job and one outcome record per success, never two.
        let children = try f.db.query("SELECT parent_job_id, job_id FROM jobs WHERE parent_job_id LIKE $1", ["\(f.id)-%"]).rows
        XCTAssertEqual(children.count, successes.count, "downstream jobs", file: file, line: line)
        XCTAssertEqual(Set(try children.map { try $0.string("parent_job_id") }), successes, file: file, line: line)
        XCTAssertEqual(try f.count("""
            SELECT coalesce(sum(jsonb_array_length(subscription_outcomes)), 0) AS n FROM jobs WHERE job_id LIKE $1
            """, ["\(f.id)-%"]), Int64(successes.count), "outcome records", file: file, line: line)

        // Every downstream request reached the broker; a re-send carries the same event-id.
        let childIds = Set(try children.map { try $0.string("job_id") })
        XCTAssertTrue(eventually(timeout: 30) { Set(f.reader.messages(f.topics.requests).compactMap(\.message.keyString)) == childIds },
                      "downstream requests missing", file: file, line: line)
        var eventIdOfJob: [String: String] = [:]
        for request in f.reader.messages(f.topics.requests) {
            let key = request.message.keyString!, eventId = request.header("event-id")!
            XCTAssertEqual(eventIdOfJob[key, default: eventId], eventId, "a re-send changed its event-id", file: file, line: line)
            eventIdOfJob[key] = eventId
        }
        XCTAssertEqual(Set(eventIdOfJob.values).count, childIds.count, file: file, line: line)

        // Every report was answered; its first (non-duplicate) answer is one and the same.
        XCTAssertTrue(eventually(timeout: 30) {
            Set(f.reader.messages(f.topics.results).compactMap { $0.json?["job_id"]?.stringValue }).isSuperset(of: jobs)
        }, "result records missing", file: file, line: line)
        var firstAnswers: [String: Set<[UInt8]>] = [:]
        for result in f.reader.messages(f.topics.results) where result.json?["duplicate"] == false {
            firstAnswers[result.json!["job_id"]!.stringValue!, default: []].insert(result.message.value ?? [])
        }
        XCTAssertEqual(firstAnswers.values.filter { $0.count != 1 }.count, 0, "a report was applied twice with different answers", file: file, line: line)

        // Every answer, re-sent or answered again after a crash, carries its report's event-id.
        for result in f.reader.messages(f.topics.results) {
            XCTAssertEqual(result.header("event-id"), result.reportSource?.eventId(.result).lowercasedText,
                           "a result record's event-id is not its report's", file: file, line: line)
        }
    }

    func testSIGKILLMidStreamThenRestartAppliesEveryReportExactlyOnce() throws {
        let (jobs, successes) = try backlog(3000)
        let first = try f.startConsumer(["--batch-size", "20"])
        waitForProgress(atLeast: 300)
        first.signal(SIGKILL)
        XCTAssertEqual(first.wait(), 128 + SIGKILL)
        let appliedBeforeCrash = try terminalCount()
        XCTAssertLessThan(appliedBeforeCrash, 3000, "the backlog drained before the crash; the test proved nothing")

        let second = try f.startConsumer(["--batch-size", "200"])
        try verifyExactlyOnce(jobs: jobs, successes: successes)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(), 0, second.log)
    }

    func testARebalanceMidStreamNeverAppliesAReportTwiceOrLosesOne() throws {
        let (jobs, successes) = try backlog(3000)
        let first = try f.startConsumer(["--batch-size", "2"])
        waitForProgress(atLeast: 100)
        // A second member joins (the partitions are split), then the first leaves (they move back).
        let second = try f.startConsumer(["--batch-size", "2"])
        XCTAssertTrue(eventually(timeout: 30) { second.log.contains(#""msg":"partitions assigned""#) }, second.log)
        let progressAtJoin = try terminalCount()
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(), 0, first.log)
        XCTAssertLessThan(progressAtJoin, 3000, "the backlog drained before the rebalance; the test proved nothing")
        XCTAssertTrue(first.log.contains(#""msg":"partitions revoked""#), first.log)

        try verifyExactlyOnce(jobs: jobs, successes: successes)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(), 0, second.log)
    }

    /// The database goes away mid-stream: the workers retry, the consumer's queue stays at its
    /// cap and fetching pauses (memory stays flat), and when the database is back every report
    /// is applied exactly once.
    func testADatabaseOutagePausesFetchingAndLosesNothing() throws {
        let database = try PrivateDatabase("outage")
        defer { database.drop() }
        f.close()
        f = try PipelineFixture(databaseURL: database.url)
        let (jobs, successes) = try backlog(3000)
        let consumer = try f.startConsumer(["--batch-size", "20", "--max-pending-kb", "64"])
        waitForProgress(atLeast: 200)

        try database.allowConnections(false)
        try database.terminateSessions()
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains("fetching paused") }, consumer.log)
        Thread.sleep(forTimeInterval: 3)  // a status line or two while stalled
        let stalledStatus = consumer.log.split(separator: "\n").last { $0.contains("\"status\"") }.map(String.init) ?? ""
        let pending = try XCTUnwrap(try JSONParser.parse(stalledStatus)["pending"]?.stringValue.flatMap { Int($0) }, stalledStatus)
        // 64 KiB of ~300-byte reports, plus one poll: far below the ~2,800 still in the topic.
        XCTAssertLessThan(pending, 600, "the queue grew past its cap while the database was away")

        try database.allowConnections(true)
        _ = try? f.db.query("SELECT 1")  // the test's own session was ended too: this notices, the next query reconnects
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains("fetching resumed") }, consumer.log)
        try verifyExactlyOnce(jobs: jobs, successes: successes)
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(), 0, consumer.log)
    }

    /// SIGTERM while PostgreSQL is away: the retrying batches are given up unmarked and the
    /// member leaves at once (it used to wait for the database for ever); the next member,
    /// with the database back, applies every report exactly once.
    func testSIGTERMDuringADatabaseOutageExitsAndTheNextMemberLosesNothing() throws {
        let database = try PrivateDatabase("stopoutage")
        defer { database.drop() }
        f.close()
        f = try PipelineFixture(databaseURL: database.url)
        let (jobs, successes) = try backlog(2000)
        let first = try f.startConsumer(["--batch-size", "20"])
        waitForProgress(atLeast: 100)
        try database.allowConnections(false)
        try database.terminateSessions()
        XCTAssertTrue(eventually(timeout: 30) { first.log.contains("database connection lost; retrying the batch") }, first.log)
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(timeout: 40), 0, "a stop during an outage drains what it can and exits: \(first.log)")

        try database.allowConnections(true)
        _ = try? f.db.query("SELECT 1")  // the test's own session was ended too: this notices, the next query reconnects
        XCTAssertLessThan(try terminalCount(), 2000, "the backlog drained before the outage; the test proved nothing")
        let second = try f.startConsumer(["--batch-size", "200"])
        try verifyExactlyOnce(jobs: jobs, successes: successes)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(), 0, second.log)
    }

    /// A batch stuck inside the database (a row lock that is never released) cannot finish:
    /// a second signal ends the wait at once, and `--shutdown-timeout` ends it when it passes,
    /// both with exit code 75. Its offsets were never marked, so once the lock is gone the next
    /// member applies every report exactly once.
    func testTheShutdownDeadlineAndASecondSignalCutAStuckDrainAndNothingIsLost() throws {
        let (jobs, successes) = try backlog(400)
        let holder = try PostgresConnection(url: f.databaseURL)
        try holder.query("BEGIN")
        try holder.query("SELECT job_id FROM jobs WHERE job_id = $1 FOR UPDATE", [jobs[0]])
        // A member that exits leaves its backend waiting for the lock (a blocked backend does
        // not notice its client has gone), so each member's batch is one more waiter.
        func waitForTheStuckBatch(_ waiters: Int64) throws {
            XCTAssertTrue(try eventually(timeout: 30) {
                try self.f.count("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") >= waiters
            }, "no batch waited for the lock")
        }

        let first = try f.startConsumer(["--shutdown-timeout", "600"])
        try waitForTheStuckBatch(1)
        first.signal(SIGTERM)
        XCTAssertTrue(eventually(timeout: 10) { first.log.contains("signal received; draining") }, "the first signal starts the drain")
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(timeout: 20), 75, "a second signal does not wait out the drain: \(first.log)")
        XCTAssertTrue(first.log.contains("another signal: exiting without waiting for the drain"), first.log)

        let second = try f.startConsumer(["--shutdown-timeout", "2"])
        try waitForTheStuckBatch(2)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(timeout: 30), 75, "the deadline cuts the drain: \(second.log)")
        XCTAssertTrue(second.log.contains("shutdown deadline passed"), second.log)

        try holder.query("ROLLBACK")
        XCTAssertLessThan(try terminalCount(), 400, "nothing was stuck; the test proved nothing")
        let third = try f.startConsumer()
        try verifyExactlyOnce(jobs: jobs, successes: successes)
        third.signal(SIGTERM)
        XCTAssertEqual(third.wait(), 0, third.log)
    }
}
