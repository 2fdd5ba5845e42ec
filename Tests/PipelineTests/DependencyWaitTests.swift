import CascadeDomain
import Foundation
import TestSupport
import XCTest

/// `consume` started before PostgreSQL accepts sessions (a compose stack or a pod starting in
/// any order) waits for it, bounded and logged, instead of exiting at once.
final class DependencyWaitTests: XCTestCase {
    private var f: PipelineFixture!
    private var database: PrivateDatabase!

    override func setUpWithError() throws {
        database = try PrivateDatabase("wait")
        f = try PipelineFixture(databaseURL: database.url)
        try database.allowConnections(false)
    }

    override func tearDown() {
        f?.close()
        try? database?.allowConnections(true)
        database?.drop()
    }

    func testConsumeWaitsForADatabaseThatAcceptsSessionsLaterThenServes() throws {
        let consumer = try f.startConsumer()
        defer { consumer.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains(#""msg":"waiting for PostgreSQL""#) }, consumer.log)
        XCTAssertNil(consumer.wait(timeout: 2), "consume gave up on a database that is only late: \(consumer.log)")
        XCTAssertFalse(consumer.log.contains(#""msg":"consuming""#), consumer.log)

        try database.allowConnections(true)
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains(#""msg":"consuming""#) }, consumer.log)
        XCTAssertTrue(consumer.log.contains(#""msg":"PostgreSQL reachable""#), consumer.log)
        let job = try f.startedJob(try f.model("late-db"))
        try f.report(job)
        XCTAssertEqual(f.results(for: job.id, timeout: 60).first?["code"], 200)
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, consumer.log)
    }

    func testConsumeGivesUpOnTheDatabaseAfterItsWaitAndSaysWhy() throws {
        let started = Date()
        let consumer = try f.startConsumer(["--database-wait", "2"])
        defer { consumer.signal(SIGKILL) }
        XCTAssertEqual(consumer.wait(timeout: 60), 1, consumer.log)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "the wait is bounded by --database-wait 2")
        let failure = try XCTUnwrap(consumer.log.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .first { $0["msg"] == "could not start" }, consumer.log)
        let reason = failure["error"]?.stringValue ?? ""
        XCTAssertTrue(reason.contains("no answer from PostgreSQL"), reason)
        XCTAssertTrue(reason.contains("not currently accepting connections"), "libpq's reason is kept: \(reason)")
        XCTAssertTrue(consumer.log.contains(#""msg":"waiting for PostgreSQL""#), consumer.log)
    }

    func testASignalWhileWaitingForTheDatabaseStopsCleanly() throws {
        let consumer = try f.startConsumer()
        defer { consumer.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains(#""msg":"waiting for PostgreSQL""#) }, consumer.log)
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 30), 0, consumer.log)
        XCTAssertTrue(consumer.log.contains("stopped before the start completed"), consumer.log)
    }

    /// A URL whose password libpq cannot parse: waiting cannot cure it, so start-up stops at
    /// once, and libpq's message (which quotes the bad token) reaches the log scrubbed.
    func testAMalformedURLStopsTheStartAtOnceWithoutLoggingItsPassword() throws {
        for command in [["consume", "--auth", "none", "--brokers", try TestEnvironment.brokers, "--http-listen", "127.0.0.1:0"], ["migrate"]] {
            let started = Date()
            let process = try ChildProcess(PipelineFixture.binary, command + ["--database-url", "postgres://cascade:hun%zzter2@127.0.0.1:1/db"],
                                           logPath: NSTemporaryDirectory() + "\(TestEnvironment.unique("badurl")).log")
            defer { process.signal(SIGKILL) }
            XCTAssertEqual(process.wait(timeout: 30), 1, process.log)
            XCTAssertLessThan(Date().timeIntervalSince(started), 10, "no 60 s wait for a URL that cannot work: \(process.log)")
            XCTAssertTrue(process.log.contains("refused us"), process.log)
            XCTAssertTrue(process.log.contains("invalid percent-encoded token"), "libpq's reason is kept: \(process.log)")
            XCTAssertFalse(process.log.contains("hun%zzter2"), process.log)
        }
    }
}
