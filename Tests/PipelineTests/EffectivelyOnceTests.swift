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

    /// A backlog of `count` reports of a model with one subscription (every tenth a failure).
    private func backlog(_ count: Int) throws -> Backlog { try Backlog.seed(f, count: count) }

    private func terminalCount(_ backlog: Backlog) throws -> Int64 { try backlog.terminalCount(f) }

    /// Progress as the result records show it: cheap to watch, whatever the size of the jobs table.
    private func waitForProgress(atLeast n: Int, timeout: TimeInterval = 60) {
        XCTAssertTrue(eventually(timeout: timeout, interval: 0.005) { f.reader.messages(f.topics.results).count >= n }, "no progress to \(n)")
    }

    func testSIGKILLMidStreamThenRestartAppliesEveryReportExactlyOnce() throws {
        let work = try backlog(3000)
        let first = try f.startConsumer(["--batch-size", "20"])
        waitForProgress(atLeast: 300)
        first.signal(SIGKILL)
        XCTAssertEqual(first.wait(), 128 + SIGKILL)
        let appliedBeforeCrash = try terminalCount(work)
        XCTAssertLessThan(appliedBeforeCrash, 3000, "the backlog drained before the crash; the test proved nothing")

        let second = try f.startConsumer(["--batch-size", "200"])
        try Oracle.verify(f, work)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(), 0, second.log)
    }

    func testARebalanceMidStreamNeverAppliesAReportTwiceOrLosesOne() throws {
        let work = try backlog(3000)
        let first = try f.startConsumer(["--batch-size", "2"])
        waitForProgress(atLeast: 100)
        // A second member joins (the partitions are split), then the first leaves (they move back).
        let second = try f.startConsumer(["--batch-size", "2"])
        XCTAssertTrue(eventually(timeout: 30) { second.log.contains(#""msg":"partitions assigned""#) }, second.log)
        let progressAtJoin = try terminalCount(work)
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(), 0, first.log)
        XCTAssertLessThan(progressAtJoin, 3000, "the backlog drained before the rebalance; the test proved nothing")
        XCTAssertTrue(first.log.contains(#""msg":"partitions revoked""#), first.log)

        try Oracle.verify(f, work)
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
        let work = try backlog(3000)
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
        try Oracle.verify(f, work)
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
        let work = try backlog(2000)
        let first = try f.startConsumer(["--batch-size", "20"])
        waitForProgress(atLeast: 100)
        try database.allowConnections(false)
        try database.terminateSessions()
        XCTAssertTrue(eventually(timeout: 30) { first.log.contains("database connection lost; retrying the batch") }, first.log)
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(timeout: 40), 0, "a stop during an outage drains what it can and exits: \(first.log)")

        try database.allowConnections(true)
        _ = try? f.db.query("SELECT 1")  // the test's own session was ended too: this notices, the next query reconnects
        XCTAssertLessThan(try terminalCount(work), 2000, "the backlog drained before the outage; the test proved nothing")
        let second = try f.startConsumer(["--batch-size", "200"])
        try Oracle.verify(f, work)
        second.signal(SIGTERM)
        XCTAssertEqual(second.wait(), 0, second.log)
    }

    /// A batch stuck inside the database (a row lock that is never released) cannot finish:
    /// a second signal ends the wait at once, and `--shutdown-timeout` ends it when it passes,
    /// both with exit code 75. Its offsets were never marked, so once the lock is gone the next
    /// member applies every report exactly once.
    func testTheShutdownDeadlineAndASecondSignalCutAStuckDrainAndNothingIsLost() throws {
        let work = try backlog(400)
        let holder = try PostgresConnection(url: f.databaseURL)
        try holder.query("BEGIN")
        try holder.query("SELECT job_id FROM jobs WHERE job_id = $1 FOR UPDATE", [work.jobs[0]])
        // A member that exits leaves its backend waiting for the lock (a blocked backend does
        // not notice its client has gone), so each member's batch is one more waiter. The
        // batch's writes and COMMIT are already sent when its UPDATE waits, so once the lock
        // is gone such a backend may still commit its batch: that is a batch applied whose
        // offsets were never marked, which the next member answers as duplicates.
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

        XCTAssertLessThan(try terminalCount(work), 400, "nothing was stuck; the test proved nothing")
        try holder.query("ROLLBACK")
        let third = try f.startConsumer()
        try Oracle.verify(f, work)
        third.signal(SIGTERM)
        XCTAssertEqual(third.wait(), 0, third.log)
    }
}
