import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// What `cascade consume` checks and notices at start: output topics that could not take its
/// largest message, a producer limit set too low, and topics that appear only later.
final class StartupTests: XCTestCase {
    private var f: PipelineFixture!

    override func tearDown() { f?.close() }

    private func logPath(_ name: String) -> String { NSTemporaryDirectory() + "\(TestEnvironment.unique(name)).log" }

    func testOutputTopicsThatCannotTakeTheLargestMessageStopTheStart() throws {
        let brokers = try TestEnvironment.brokers
        let id = TestEnvironment.unique("small").replacingOccurrences(of: "-", with: "")
        let admin = try KafkaAdmin(config: TestEnvironment.producerConfig(brokers: brokers))
        try admin.createTopics(["results", "requests", "dlq"].map { ("\(id).\($0)", 1) }, config: ["max.message.bytes": "500000"])
        let process = try ChildProcess(PipelineFixture.binary, [
            "consume", "--auth", "none", "--brokers", brokers, "--database-url", try TestEnvironment.databaseURL, "--topic-partitions", "0", "--http-listen", "127.0.0.1:0",
            "--reports-topic", "\(id).reports", "--results-topic", "\(id).results", "--requests-topic", "\(id).requests",
            "--dlq-topic", "\(id).dlq",
        ], logPath: logPath("small"))
        XCTAssertEqual(process.wait(), 2, process.log)
        let refusal = try XCTUnwrap(process.log.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
            .first { $0["msg"] == "refusing to start" }, process.log)
        let reason = refusal["reason"]?.stringValue ?? ""
        XCTAssertTrue(reason.contains("\(id).dlq has max.message.bytes=500000"), reason)
        XCTAssertTrue(reason.contains("--max-report-bytes 1048576"), reason)
    }

    func testAProducerLimitBelowTheLargestMessageIsAUsageError() throws {
        let process = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1",
                                                                "--kafka-config", "message.max.bytes=1000000"],
                                       logPath: logPath("mmb"))
        XCTAssertEqual(process.wait(), 2)
        XCTAssertTrue(process.log.contains("message.max.bytes=1000000 is below the 1114112 bytes Cascade may publish"), process.log)
        // A limit that fits passes this check and fails the next one, on a made-up property.
        let fits = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1", "--max-report-bytes", "900000",
                                                             "--kafka-config", "message.max.bytes=1000000",
                                                             "--kafka-config", "no.such.property=1"],
                                    logPath: logPath("mmb-ok"))
        XCTAssertEqual(fits.wait(), 2)
        XCTAssertTrue(fits.log.contains("invalid Kafka configuration"), fits.log)
        XCTAssertFalse(fits.log.contains("is below the"), "a report limit that fits passes the size check: \(fits.log)")
    }

    /// librdkafka properties from `CASCADE_KAFKA_*` variables reach the clients, and a flag for
    /// the same property wins; a variable that names no property is a usage error naming it.
    func testKafkaPropertiesFromTheEnvironmentApplyAndFlagsWin() throws {
        func consume(_ args: [String], _ env: [String: String], _ name: String) throws -> ChildProcess {
            try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1"] + args,
                             environment: ProcessInfo.processInfo.environment.merging(env) { $1 }, logPath: logPath(name))
        }
        let fromEnv = try consume([], ["CASCADE_KAFKA_MESSAGE_MAX_BYTES": "1000000"], "env")
        XCTAssertEqual(fromEnv.wait(timeout: 30), 2, fromEnv.log)
        XCTAssertTrue(fromEnv.log.contains("message.max.bytes=1000000 is below"), fromEnv.log)

        let flagWins = try consume(["--kafka-config", "message.max.bytes=2000000", "--kafka-config", "no.such.property=1"],
                                   ["CASCADE_KAFKA_MESSAGE_MAX_BYTES": "1000000"], "env-flag")
        XCTAssertEqual(flagWins.wait(timeout: 30), 2, flagWins.log)
        XCTAssertTrue(flagWins.log.contains("no.such.property"), flagWins.log)
        XCTAssertFalse(flagWins.log.contains("is below"), flagWins.log)

        let confluentForm = try consume([], ["CASCADE_KAFKA_LOG___LEVEL": "banana"], "env-underscore")
        XCTAssertEqual(confluentForm.wait(timeout: 30), 2, confluentForm.log)
        XCTAssertTrue(confluentForm.log.contains("log_level=banana"), "___ is an underscore, as in Confluent's images: \(confluentForm.log)")

        let badName = try consume([], ["CASCADE_KAFKA_sasl_password": "hunter2"], "env-bad")
        XCTAssertEqual(badName.wait(timeout: 30), 2, badName.log)
        XCTAssertTrue(badName.log.contains("CASCADE_KAFKA_sasl_password does not name a librdkafka property"), badName.log)
        XCTAssertTrue(badName.log.contains("usage: cascade consume"), "the verb's usage follows: \(badName.log)")
        XCTAssertFalse(badName.log.contains("hunter2"), badName.log)

        let unknownSecret = try consume([], ["CASCADE_KAFKA_SASL_NO_SUCH_PASSWORD": "hunter2"], "env-secret")
        XCTAssertEqual(unknownSecret.wait(timeout: 30), 2, unknownSecret.log)
        XCTAssertTrue(unknownSecret.log.contains("sasl.no.such.password (value not shown)"), unknownSecret.log)
        XCTAssertFalse(unknownSecret.log.contains("hunter2"), unknownSecret.log)
    }

    /// A static member's id follows Kafka's rule, and one id only: the flag and the property
    /// may not disagree (the log and the leave decision must name the id librdkafka uses).
    func testABadOrConflictingInstanceIdIsAUsageError() throws {
        for (args, expected) in [
            (["--instance-id", "cascade 0"], "the instance id must be 1 to 249 of a-z A-Z 0-9 . _ - (Kafka's rule), got 'cascade 0'"),
            (["--instance-id", String(repeating: "a", count: 250)], "the instance id must be 1 to 249"),
            (["--kafka-config", "group.instance.id=café"], "got 'café'"),
            (["--instance-id", "cascade-0", "--kafka-config", "group.instance.id=cascade-1"],
             "--instance-id cascade-0 and group.instance.id=cascade-1 disagree"),
        ] {
            let process = try ChildProcess(PipelineFixture.binary, ["consume", "--brokers", "127.0.0.1:1"] + args,
                                           logPath: logPath("instance"))
            XCTAssertEqual(process.wait(timeout: 30), 2, process.log)
            XCTAssertTrue(process.log.contains(expected), "\(args): \(process.log)")
        }
    }

    /// With `--topic-partitions 0` nothing creates the topics; once someone does, reports flow
    /// within seconds (librdkafka's 5-minute metadata refresh once made it 318 s). Every line
    /// Cascade writes meanwhile is JSON.
    func testATopicCreatedAfterTheStartIsConsumedWithinSeconds() throws {
        f = try PipelineFixture(createTopics: false)
        let consumer = try f.startConsumer()
        defer { consumer.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 30) { consumer.log.contains(#""msg":"consuming""#) }, consumer.log)
        XCTAssertTrue(eventually(timeout: 20) { consumer.log.contains("subscribed topic does not exist yet") },
                      "the subscription meets the missing topic, and says so: \(consumer.log)")
        try f.createTopics()
        let job = try f.startedJob(try f.model("late"))
        let created = Date()
        try f.report(job)
        XCTAssertEqual(f.results(for: job.id, timeout: 60).first?["code"], 200)
        XCTAssertLessThan(Date().timeIntervalSince(created), 60)
        for line in consumer.log.split(separator: "\n") where !line.hasPrefix("%") {
            XCTAssertNoThrow(try JSONParser.parse(String(line)), "not JSON: \(line)")
        }
    }
}

/// An unreachable broker: librdkafka retries its connections for ever, and once flooded
/// standard error with its own `%3|…` lines and `kafka: …` lines (1,780 in 45 s).
final class UnreachableBrokerLogTests: XCTestCase {
    private func lines(_ log: String) -> [Substring] { log.split(separator: "\n") }

    func testConsumeWritesOnlyJSONAndFewLinesWhileTheBrokerIsAway() throws {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("nobroker")).log"
        let consumer = try ChildProcess(PipelineFixture.binary, [
            "consume", "--auth", "none", "--brokers", "127.0.0.1:1", "--database-url", try TestEnvironment.databaseURL, "--topic-partitions", "0", "--http-listen", "127.0.0.1:0",
            "--group", TestEnvironment.unique("nobroker"), "--status-interval", "60",
        ], logPath: log)
        Thread.sleep(forTimeInterval: 12)
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, "a signal while waiting for the broker stops consume cleanly")
        let written = lines(consumer.log)
        XCTAssertTrue(consumer.log.contains("waiting for the broker"), consumer.log)
        for line in written { XCTAssertNoThrow(try JSONParser.parse(String(line)), "not JSON: \(line)") }
        XCTAssertLessThan(written.count, 40, "repeats are not limited:\n\(written.prefix(50).joined(separator: "\n"))")
        XCTAssertTrue(written.contains { $0.contains("repeats_suppressed") || $0.contains("\"librdkafka\"") || $0.contains("kafka client error") },
                      "the broker being away is logged at all")
    }

    func testReportWritesJSONThenItsOneLineOfFailure() throws {
        let log = NSTemporaryDirectory() + "\(TestEnvironment.unique("noreport")).log"
        let report = try ChildProcess(PipelineFixture.binary, [
            "report", "m", "v1", "j", "--status", "success", "--brokers", "127.0.0.1:1",
            "--kafka-config", "message.timeout.ms=4000",
        ], logPath: log)
        XCTAssertEqual(report.wait(timeout: 30), 1, report.log)
        let written = lines(report.log)
        XCTAssertTrue(written.last?.hasPrefix("cascade report: ") ?? false, report.log)
        for line in written.dropLast() { XCTAssertNoThrow(try JSONParser.parse(String(line)), "not JSON: \(line)") }
        XCTAssertLessThan(written.count, 20, report.log)
    }

    /// A broker that comes up after consume started: start-up waits for it, then creates the
    /// topics with the configured partitions before subscribing (a broker away at start once
    /// left them to auto-creation, with the broker's default partitions).
    func testABrokerThatComesUpLateGetsTheConfiguredTopics() throws {
        let port = Int.random(in: 20_000..<30_000)
        let brokers = "127.0.0.1:\(port)"
        let topic = TestEnvironment.unique("late").replacingOccurrences(of: "-", with: "")
        let consumer = try ChildProcess(PipelineFixture.binary, [
            "consume", "--auth", "none", "--brokers", brokers, "--database-url", try TestEnvironment.databaseURL, "--topic-partitions", "6", "--http-listen", "127.0.0.1:0",
            "--group", topic, "--reports-topic", "\(topic).reports", "--results-topic", "\(topic).results",
            "--requests-topic", "\(topic).requests", "--dlq-topic", "\(topic).dlq",
        ], logPath: NSTemporaryDirectory() + "\(topic)-consume.log")
        defer { consumer.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 20) { consumer.log.contains("waiting for the broker") }, consumer.log)

        let tansu = TestEnvironment.repositoryRoot.appendingPathComponent(".local/tansu/tansu").path
        let broker = try ChildProcess(tansu, ["broker", "--listener-url", "tcp://\(brokers)", "--advertised-listener-url", "tcp://\(brokers)",
                                              "--storage-engine", "memory://tansu/"],
                                      logPath: NSTemporaryDirectory() + "\(topic)-tansu.log")
        defer { broker.signal(SIGKILL) }
        XCTAssertTrue(eventually(timeout: 60) { consumer.log.contains(#""msg":"consuming""#) }, consumer.log)
        XCTAssertTrue(consumer.log.contains("broker reachable"), consumer.log)
        let admin = try KafkaAdmin(config: TestEnvironment.producerConfig(brokers: brokers))
        for name in ["reports", "results", "requests", "dlq"] {
            XCTAssertEqual(try admin.partitionCount("\(topic).\(name)"), 6, name)
        }
        consumer.signal(SIGTERM)
        XCTAssertEqual(consumer.wait(timeout: 40), 0, consumer.log)
    }
}
