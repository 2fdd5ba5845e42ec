import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// `/metrics`, `/healthz`, `/readyz` and `cascade lag` of a real member, read with real clients:
/// curl, Prometheus' parser, confluent-kafka.
final class ObservabilityTests: XCTestCase {
    private var f: PipelineFixture!

    override func setUpWithError() throws { f = try PipelineFixture() }
    override func tearDown() { f?.close() }

    /// Publishes a report for each of `started` new started jobs, then `unknown` reports for
    /// jobs that do not exist, `malformed` ones that are not JSON, and `repeats` second
    /// reports of the first jobs (duplicates). Returns how many were sent.
    @discardableResult
    /// `oneByOne` sends each report in a produce request of its own: Tansu 0.6 answers
    /// ListOffsets with the last record *batch*'s base offset plus one, so a log end read with
    /// ListOffsets (kafka-consumer-groups.sh, confluent-kafka, `cascade lag`) is right there only
    /// when every batch holds one record. Apache Kafka has no such quirk.
    private func backlog(started: Int, unknown: Int = 0, malformed: Int = 0, repeats: Int = 0, batch: String = "a",
                         oneByOne: Bool = false) throws -> Int {
        let model = try f.model("m\(batch)")
        try f.db.query("""
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
            SELECT $1 || '-' || i, $2, 'v1', 'inference', 'started', '{}'::jsonb, now() FROM generate_series(1, $3) AS i
            """, ["\(f.id)-\(batch)", model, started])
        func report(_ job: String) -> String {
            #"{"model_id":"\#(model)","model_version":"v1","job_id":"\#(job)","status":"success","output":{"ok":true}}"#
        }
        var messages = (1..<started + 1).map { OutgoingMessage(topic: f.topics.reports, key: "\(f.id)-\(batch)-\($0)", value: report("\(f.id)-\(batch)-\($0)")) }
        messages += (0..<unknown).map { OutgoingMessage(topic: f.topics.reports, key: "nosuch-\($0)", value: report("\(f.id)-nosuch-\($0)")) }
        messages += (0..<malformed).map { OutgoingMessage(topic: f.topics.reports, key: "bad-\($0)", value: "{not json \($0)") }
        messages += (1..<repeats + 1).map { OutgoingMessage(topic: f.topics.reports, key: "\(f.id)-\(batch)-\($0)", value: report("\(f.id)-\(batch)-\($0)")) }
        for chunk in oneByOne ? messages.map({ [$0] }) : [messages] {
            for result in try f.producer.sendAndWait(chunk) { _ = try result.get() }
        }
        return messages.count
    }

    private func applied(_ batch: String = "a") throws -> Int64 {
        try f.count("SELECT count(*) AS n FROM jobs WHERE job_id LIKE $1 AND status = 'success'", ["\(f.id)-\(batch)-%"])
    }

    /// A drain scraped with curl while a hostile client floods the port: every documented metric
    /// parses with Prometheus' parser, the pipeline is not held up, and at the end the answers
    /// add up to the reports sent and lag is 0 in messages and seconds.
    func testMetricsDuringAFloodedDrainParseAddUpAndEndWithNoLag() throws {
        let sent = try backlog(started: 6000, unknown: 100, malformed: 50, repeats: 50)
        let consumer = try f.startConsumer(["--batch-size", "10", "--workers", "1"])
        defer { consumer.signal(SIGKILL) }
        let member = try MemberEndpoints(consumer)
        let flood = HostileClients(port: member.port)
        flood.start()
        // A scrape in the middle of the drain: typed and complete with every label set.
        var midDrain: String?
        XCTAssertTrue(try eventually(timeout: 60, interval: 0.02) {
            let scrape = try member.scrape()
            let reports = MemberEndpoints.sum("cascade_reports_total", in: scrape)
            if reports > 0 && reports < Double(sent) { midDrain = scrape }
            return midDrain != nil || reports >= Double(sent)
        })
        _ = try member.check(try XCTUnwrap(midDrain, "no scrape fell in the middle of the drain; the test proved nothing"))
        let drained = try eventually(timeout: 120) { try applied() == 6000 }
        let done = try applied()
        XCTAssertTrue(drained, "the flood held the drain up: \(done) of 6000")
        XCTAssertTrue(flood.stop(), "a hostile client's thread did not end")
        XCTAssertGreaterThan(flood.connectionsOpened, 100, "the flood never happened; the test proved nothing")

        var summary: JSONValue = .null
        let settled = try eventually(timeout: 30, interval: 0.5) {
            summary = try member.metrics()
            return summary["reports_total"]?.number == Double(sent) && summary["lag_messages"]?.number == 0
                && summary["lag_seconds_max"]?.number == 0 && summary["lag_partitions"]?.number == 3
        }
        XCTAssertTrue(settled, "\(summary)")
        XCTAssertEqual(summary["reports_by_code"], ["200": 6050, "207": 0, "400": 50, "401": 0, "403": 0, "404": 100, "409": 0])
        XCTAssertEqual(summary["duplicates_total"]?.number, 50)
        XCTAssertEqual(summary["dead_letters_by_reason"]?["malformed"]?.number, 50)
        XCTAssertEqual(summary["assigned_partitions"]?.number, 3)
        XCTAssertGreaterThanOrEqual(summary["batches"]?.number ?? 0, Double(sent / 10))
        XCTAssertEqual(try member.get("/healthz").status, 200)
        XCTAssertEqual(try member.get("/readyz").body, "ready\n")
        XCTAssertEqual(try member.get("/nosuch").status, 404)
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, consumer.log)
    }

    /// `cascade lag` of a stopped group agrees with confluent-kafka computing the same from the
    /// broker; a member that restarts behind reports its lag from the group's committed offsets
    /// at once (it used to count from the low watermark); a worker wedged on a batch fails liveness.
    func testLagIsRightAtOnceAfterARestartAndAWedgedWorkerFailsLiveness() throws {
        try backlog(started: 200)
        let first = try f.startConsumer()
        XCTAssertTrue(try eventually(timeout: 60) { try applied() == 200 }, first.log)
        first.signal(SIGTERM)
        XCTAssertEqual(first.wait(timeout: 40), 0, first.log)

        try backlog(started: 120, batch: "b", oneByOne: true)
        // No member runs now: a stopped group still has lag, and `cascade lag` shows it.
        let cascadeLag = try cascadeLagJSON()
        XCTAssertEqual(cascadeLag["total_lag"]?.number, 120)
        let independent = try confluentLag()
        XCTAssertEqual(independent["total_lag"]?.number, 120)
        guard case .array(let partitions)? = cascadeLag["partitions"] else { return XCTFail("\(cascadeLag)") }
        XCTAssertEqual(partitions.count, 3)
        for p in partitions {
            let key = String(Int(p["partition"]?.number ?? -1))
            let theirs = try XCTUnwrap(independent["partitions"]?[key], "confluent-kafka has no partition \(key)")
            XCTAssertEqual(p["committed"], theirs["committed"], key)
            XCTAssertEqual(p["log_end"], theirs["log_end"], key)
            XCTAssertEqual(p["lag"], theirs["lag"], key)
            if p["lag"]?.number ?? 0 > 0 { XCTAssertGreaterThan(p["lag_seconds"]?.number ?? 0, 0, "\(p)") }
        }

        let second = try f.startConsumer(["--stall-timeout", "3"], environment: ["CASCADE_FAILPOINTS": "worker-apply=hang"])
        defer { second.signal(SIGKILL) }
        let member = try MemberEndpoints(second)
        var summary: JSONValue = .null
        XCTAssertTrue(try eventually(timeout: 30, interval: 0.5) {
            summary = try member.metrics()
            return summary["lag_partitions"]?.number == 3
        }, "\(summary)\n\(second.log)")
        XCTAssertEqual(summary["lag_messages"]?.number, 120, "lag counts from the group's committed offsets: \(summary)")
        XCTAssertGreaterThan(summary["lag_seconds_max"]?.number ?? 0, 0)

        let health = try member.await("/healthz", status: 503, timeout: 20)
        XCTAssertTrue(health.reached, "a wedged worker left liveness green: \(health.body)")
        XCTAssertTrue(health.body.contains("a worker holding reports has made no progress"), health.body)
        XCTAssertEqual(try member.get("/readyz").status, 200, "wedged is not unready: the dependencies answer")
    }

    /// PostgreSQL away: readiness fails within seconds and says why, liveness stays green
    /// (the workers keep retrying; a restart would not help), and both recover.
    func testReadinessFollowsPostgreSQLAndAnOutageDoesNotFailLiveness() throws {
        let database = try PrivateDatabase("ready")
        defer { database.drop() }
        f.close()
        f = try PipelineFixture(databaseURL: database.url)
        try backlog(started: 3000)
        let consumer = try f.startConsumer(["--batch-size", "20", "--stall-timeout", "10"])
        defer { consumer.signal(SIGKILL) }
        let member = try MemberEndpoints(consumer)
        XCTAssertTrue(try member.await("/readyz", status: 200, timeout: 30).reached, consumer.log)
        XCTAssertTrue(try eventually(timeout: 60) { try applied() >= 100 })

        try database.allowConnections(false)
        try database.terminateSessions()
        let ready = try member.await("/readyz", status: 503, timeout: 15)
        XCTAssertTrue(ready.reached, "readiness stayed green with PostgreSQL away")
        let unready = Date()
        XCTAssertTrue(ready.body.contains("PostgreSQL unreachable"), ready.body)
        XCTAssertFalse(ready.body.contains("127.0.0.1") || ready.body.contains("postgres://"), "readiness serves no connection details")
        XCTAssertEqual(try member.metrics()["dependency_reachable"]?["postgres"]?.number, 0)
        while Date().timeIntervalSince(unready) < 15 {  // longer than --stall-timeout (10 s)
            XCTAssertEqual(try member.get("/healthz").status, 200, "an outage alone failed liveness")
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertTrue(consumer.log.contains(#""database":"unreachable for"#), "the status line says so")

        try database.allowConnections(true)
        _ = try? f.db.query("SELECT 1")  // the test's own session was ended too: this notices, the next query reconnects
        XCTAssertTrue(try member.await("/readyz", status: 200, timeout: 30).reached, "readiness did not recover")
        XCTAssertTrue(try eventually(timeout: 120) { try applied() == 3000 })
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, consumer.log)
    }

    /// The broker killed under a running member for 30 s: readiness fails and says why, the
    /// dependency metric and the status line show it, liveness stays green (polling goes on),
    /// standard error holds only JSON and a few dozen lines, and all of it recovers.
    func testABrokerDownForThirtySecondsShowsEverywhereInJSONOnlyAndRecovers() throws {
        let brokers = "127.0.0.1:\(try freePort())"
        let name = TestEnvironment.unique("brokerdown").replacingOccurrences(of: "-", with: "")
        let tansu = TestEnvironment.repositoryRoot.appendingPathComponent(".local/tansu/tansu").path
        func startBroker() throws -> ChildProcess {
            try ChildProcess(tansu, ["broker", "--listener-url", "tcp://\(brokers)", "--advertised-listener-url", "tcp://\(brokers)",
                                     "--storage-engine", "memory://tansu/"], logPath: NSTemporaryDirectory() + "\(name)-tansu.log")
        }
        var broker = try startBroker()
        defer { broker.signal(SIGKILL) }
        let consumer = try ChildProcess(PipelineFixture.binary, [
            "consume", "--auth", "none", "--brokers", brokers, "--database-url", f.databaseURL, "--topic-partitions", "3", "--http-listen", "127.0.0.1:0",
            "--group", name, "--reports-topic", "\(name).reports", "--results-topic", "\(name).results",
            "--requests-topic", "\(name).requests", "--dlq-topic", "\(name).dlq", "--status-interval", "2",
            "--kafka-config", "session.timeout.ms=6000", "--kafka-config", "heartbeat.interval.ms=1000",
        ], logPath: NSTemporaryDirectory() + "\(name)-consume.log")
        defer { consumer.signal(SIGKILL) }
        let member = try MemberEndpoints(consumer)
        XCTAssertTrue(try member.await("/readyz", status: 200, timeout: 60).reached, consumer.log)

        let linesBefore = consumer.log.split(separator: "\n").count
        broker.signal(SIGKILL)
        _ = broker.wait()
        let down = Date()
        let ready = try member.await("/readyz", status: 503, timeout: 20)
        XCTAssertTrue(ready.reached, "readiness stayed green with the broker gone")
        XCTAssertTrue(ready.body.contains("Kafka (the broker) unreachable"), ready.body)
        XCTAssertEqual(try member.metrics()["dependency_reachable"]?["kafka"]?.number, 0)
        while Date().timeIntervalSince(down) < 30 {
            XCTAssertEqual(try member.get("/healthz").status, 200, "the broker away failed liveness")
            Thread.sleep(forTimeInterval: 2)
        }
        let during = consumer.log.split(separator: "\n").dropFirst(linesBefore)
        for line in during { XCTAssertNoThrow(try JSONParser.parse(String(line)), "not JSON: \(line)") }
        XCTAssertLessThan(during.count, 60, "30 s without a broker:\n\(during.joined(separator: "\n"))")
        XCTAssertTrue(during.contains { $0.contains(#""msg":"status""#) && $0.contains(#""kafka":"unreachable for"#) }, "the status line says so")

        broker = try startBroker()
        let recovered = try member.await("/readyz", status: 200, timeout: 60)
        XCTAssertTrue(recovered.reached, "readiness did not recover: \(recovered.body)")
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, consumer.log)
    }

    /// A port nothing listens on now (the kernel's pick for a socket bound to port 0).
    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func cascadeLagJSON() throws -> JSONValue {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("lag")).log"
        let process = try ChildProcess(PipelineFixture.binary, ["lag", "--brokers", f.brokers, "--group", f.group, "--topic", f.topics.reports,
                                                                "--json"], logPath: log)
        XCTAssertEqual(process.wait(timeout: 60), 0, process.log)
        let line = try XCTUnwrap(process.log.split(separator: "\n").first { $0.contains("\"total_lag\"") }, process.log)
        return try JSONParser.parse(String(line))
    }

    private func confluentLag() throws -> JSONValue {
        let out = NSTemporaryDirectory() + "\(TestEnvironment.unique("confluent")).json"
        XCTAssertEqual(try runScript("python3 scripts/contracts/group_lag.py '\(f.brokers)' '\(f.group)' '\(f.topics.reports)' > '\(out)'"), 0)
        return try JSONParser.parse(try String(contentsOfFile: out, encoding: .utf8))
    }
}
