import Foundation
import Postgres
import TestSupport
import XCTest

/// 4 and 5 of docs/RELIABILITY.md: PostgreSQL restarted under load, each of Cascade's sessions
/// terminated in turn, and a row lock held for 10 s.
final class DatabaseFaultTests: FaultTestCase {
    private let size = 20_000

    func testPostgreSQLRestartedUnderLoadLosesNothingAndTheMemberStaysUp() throws {
        let work = try Backlog.seed(f, count: size, subscriptions: 2)
        let member = try f.startConsumer(["--batch-size", "20"])
        waitForAnswers(atLeast: 2000)
        XCTAssertEqual(try runScript("scripts/services.sh restart-postgres"), 0)
        let restarted = Date()
        reconnect()
        XCTAssertLessThan(try work.terminalCount(f), Int64(size), "the backlog drained before the restart; it proved nothing")
        let verdict = try Oracle.verify(f, work)
        XCTAssertNil(member.wait(timeout: 0), "the member exited: \(member.log)")
        XCTAssertTrue(member.log.contains("database connection lost; retrying the batch"), "no batch met the restart: \(member.log)")
        FaultRun.record(.init(scenario: "PostgreSQL restarted (pg_ctl -m fast)", reports: size, verdict: verdict, crashes: 0,
                              recoverySeconds: Date().timeIntervalSince(restarted)))
        stop(member)
    }

    /// Every half second the oldest of Cascade's sessions (workers, relay) is ended, ten times,
    /// while reports keep arriving (a release build drained a fixed 40,000 backlog before the
    /// tenth termination).
    func testTerminatingEachOfCascadesSessionsInTurnLosesNothing() throws {
        let database = try PrivateDatabase("terminate")
        defer { database.drop() }
        f.close()
        f = try PipelineFixture(databaseURL: database.url)
        let head = 10_000, perSecond = 5_000, seconds = 6
        let total = head + perSecond * seconds
        let work = try Backlog.seed(f, count: total, subscriptions: 2, publish: false)
        try work.publish(Array(work.reports[..<head]), with: f.producer)
        let member = try f.startConsumer(["--batch-size", "20"])
        waitForAnswers(atLeast: 500)
        var terminated = 0, terminalAtLastTermination: Int64 = 0
        var lastTermination = Date()
        try publishSteadily(work.reports[head...], perSecond: perSecond, backlog: work) { elapsed in
            guard terminated < 10, elapsed >= Double(terminated) * 0.5 else { return }
            let sessions = try f.db.query("""
                SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND backend_type = 'client backend' ORDER BY backend_start
                """).rows.map { try $0.int("pid") }
            guard let oldest = sessions.first else { return }
            try f.db.query("SELECT pg_terminate_backend($1::int)", [oldest])
            terminated += 1
            (terminalAtLastTermination, lastTermination) = (try work.terminalCount(f), Date())
        }
        XCTAssertEqual(terminated, 10, "Cascade had no sessions to end")
        XCTAssertLessThan(terminalAtLastTermination, Int64(total), "the backlog drained before the last termination; it proved nothing")
        XCTAssertNil(member.wait(timeout: 1), "the member exited: \(member.log)")
        let verdict = try Oracle.verify(f, work)
        XCTAssertNil(member.wait(timeout: 0), "the member exited: \(member.log)")
        FaultRun.record(.init(scenario: "pg_terminate_backend of each session in turn (10, 0.5 s apart, \(perSecond) reports/s arriving)",
                              reports: total, verdict: verdict, crashes: terminated,
                              recoverySeconds: Date().timeIntervalSince(lastTermination)))
        stop(member)
    }

    /// A second session holds one reported job's row lock for 10 s once a batch waits for it,
    /// while reports keep arriving at 1,000 a second: that batch's worker waits, and the other
    /// partitions' workers keep answering what arrives.
    func testARowLockHeldTenSecondsHoldsBackOnlyItsOwnPartition() throws {
        let head = 2000, perSecond = 1000, seconds = 10
        let total = head + perSecond * seconds
        let work = try Backlog.seed(f, count: total, subscriptions: 1, publish: false)
        let locked = work.jobs[head / 2]
        let holder = try PostgresConnection(url: f.databaseURL)
        try holder.query("BEGIN")
        try holder.query("SELECT job_id FROM jobs WHERE job_id = $1 FOR UPDATE", [locked])
        try work.publish(Array(work.reports[..<head]), with: f.producer)
        let member = try f.startConsumer(["--batch-size", "100", "--workers", "3"])
        XCTAssertTrue(try eventually(timeout: 60) {
            try f.count("SELECT count(*) AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", [holder.backendPID]) >= 1
        }, "no batch waited for the lock")
        // Answers committed before the lock was met may still be on their way: the window
        // counted is the last 8 of the 10 s.
        var atLock: [Received] = [], windowStart = Date()
        try publishSteadily(work.reports[head...], perSecond: perSecond, backlog: work) { elapsed in
            if atLock.isEmpty, elapsed >= 2 { (atLock, windowStart) = (f.reader.messages(f.topics.results), Date()) }
        }
        let atRelease = f.reader.messages(f.topics.results)
        let window = Date().timeIntervalSince(windowStart)
        try holder.query("ROLLBACK")
        let released = Date()
        let verdict = try Oracle.verify(f, work)

        let lockedPartition = try XCTUnwrap(f.reader.messages(f.topics.results).first { $0.json?["job_id"]?.stringValue == locked }?.reportSource?.partition)
        func answers(_ received: [Received], onLockedPartition: Bool) -> Int {
            received.filter { ($0.reportSource?.partition == lockedPartition) == onLockedPartition }.count
        }
        let othersDuringLock = answers(atRelease, onLockedPartition: false) - answers(atLock, onLockedPartition: false)
        let lockedDuringLock = answers(atRelease, onLockedPartition: true) - answers(atLock, onLockedPartition: true)
        XCTAssertEqual(lockedDuringLock, 0, "the locked partition moved while its batch waited")
        XCTAssertGreaterThan(othersDuringLock, 0, "the other partitions stopped too")
        FaultRun.record(.init(scenario: "a row lock held 10 s while 1,000 reports/s arrive", reports: total, verdict: verdict, crashes: 0,
                              recoverySeconds: Date().timeIntervalSince(released),
                              measured: ["other_partitions_answers_per_s_during_lock": Double(othersDuringLock) / window,
                                         "locked_partition_answers_during_lock": Double(lockedDuringLock)]))
        stop(member)
    }

    /// The test's own session was ended too: this notices, and the next query reconnects.
    private func reconnect() {
        do { try f.db.query("SELECT 1") } catch { print("the test's session was ended as expected: \(error)") }
    }
}
