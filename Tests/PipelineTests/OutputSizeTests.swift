import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// Reports at and past `--max-report-bytes` (1 MiB by default), run end to end: everything
/// Cascade publishes must fit what its producer and the broker take, and one large message
/// must never hold back the small ones around it.
final class OutputSizeTests: XCTestCase {
    nonisolated(unsafe) private static var shared: PipelineFixture?
    nonisolated(unsafe) private static var consumer: ChildProcess?
    private var f: PipelineFixture { Self.shared! }
    private static let limit = 1 << 20

    override func setUpWithError() throws {
        if Self.shared == nil {
            let fixture = try PipelineFixture()
            Self.shared = fixture
            Self.consumer = try fixture.startConsumer()
        }
    }

    override class func tearDown() {
        consumer?.signal(SIGTERM)
        XCTAssertEqual(consumer?.wait(), 0, "consume exits 0 after SIGTERM; log:\n\(consumer?.log ?? "")")
        shared?.close()
        shared = nil
        consumer = nil
    }

    /// A producer that may send reports larger than librdkafka's default 1,000,000 bytes.
    private func sendLarge(_ messages: [OutgoingMessage]) throws {
        var config = TestEnvironment.producerConfig(brokers: f.brokers)
        config.set("message.max.bytes", String(8 << 20))
        let producer = try KafkaProducer(config: config)
        defer { try? producer.close() }
        for result in try producer.sendAndWait(messages) { _ = try result.get() }
    }

    private func body(_ job: Job, output: String) -> String {
        #"{"model_id":"\#(job.modelId)","model_version":"\#(job.modelVersion)","job_id":"\#(job.id)","status":"success","output":\#(output)}"#
    }

    /// Exactly the limit, so valid; its downstream request carries the whole output as input.
    func testAReportOfExactlyTheLimitIsAppliedAndItsRequestAndResultArePublished() throws {
        let a = try f.model("a"), b = try f.model("b")
        try f.subscribe(a, b)
        let before = try f.startedJob(a), big = try f.startedJob(a), after = try f.startedJob(a)
        let frame = body(big, output: #"{"blob":""}"#)
        let output = #"{"blob":""# + String(repeating: "x", count: Self.limit - frame.utf8.count) + #""}"#
        let value = body(big, output: output)
        XCTAssertEqual(value.utf8.count, Self.limit)
        try sendLarge([before, big, after].map { job in
            OutgoingMessage(topic: f.topics.reports, key: job.id, value: job.id == big.id ? value : body(job, output: #"{"n":1}"#))
        })

        for job in [before, big, after] {
            XCTAssertEqual(f.results(for: job.id).first?["code"], 200, job.id)
        }
        XCTAssertTrue(eventually(timeout: 30) { f.requests(forSource: big.id).count == 1 }, "the large request is published")
        let request = try XCTUnwrap(f.requests(forSource: big.id).first)
        XCTAssertGreaterThan(request.message.value?.count ?? 0, Self.limit - 200)
        XCTAssertEqual(request.json?["input"]?["blob"]?.stringValue?.count, Self.limit - frame.utf8.count)
        XCTAssertEqual(try f.job(big.id)?.status, .success)
    }

    /// 2 MiB: a 400 whose dead letter is cut to the limit and says how large it was; the whole
    /// original is parked under the same event-id. The reports around it are answered.
    func testAReportOverTheLimitIsDeadLetteredCutToFitWithItsOriginalParked() throws {
        let a = try f.model("a2")
        let before = try f.startedJob(a), after = try f.startedJob(a)
        let key = "big-\(UUID().uuidString.prefix(8))"
        let huge = String(repeating: "y", count: 2 << 20)
        try sendLarge([OutgoingMessage(topic: f.topics.reports, key: before.id, value: body(before, output: "{}")),
                       OutgoingMessage(topic: f.topics.reports, key: key, value: huge),
                       OutgoingMessage(topic: f.topics.reports, key: after.id, value: body(after, output: "{}"))])

        XCTAssertEqual(f.results(for: before.id).first?["code"], 200)
        XCTAssertEqual(f.results(for: after.id).first?["code"], 200)
        let answer = try XCTUnwrap(f.results(for: key).first)
        XCTAssertEqual(answer["code"], 400)
        XCTAssertTrue(eventually { f.reader.messages(f.topics.deadLetters).contains { $0.message.keyString == key } })
        let letter = try XCTUnwrap(f.reader.messages(f.topics.deadLetters).first { $0.message.keyString == key })
        XCTAssertEqual(letter.header("dlq-original-size"), String(2 << 20))
        let headerBytes = letter.message.headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
        XCTAssertEqual((letter.message.key?.count ?? 0) + (letter.message.value?.count ?? 0) + headerBytes, Self.limit,
                       "the cut letter fills the limit, headers included")
        XCTAssertEqual(letter.header("event-id"), try XCTUnwrap(answer.reportSource?.eventId(.deadLetter)).lowercasedText)

        let parked = try f.db.query("SELECT size, event_id, reason FROM parked_messages WHERE topic = $1", [f.topics.deadLetters]).rows
        XCTAssertEqual(parked.count, 1)
        XCTAssertGreaterThan(try parked.first?.int("size") ?? 0, Int64(2 << 20))
        XCTAssertEqual(try parked.first?.optionalString("event_id"), letter.header("event-id"))
    }

    /// Producers may key reports by anything; the value's job_id rules and the status line counts it.
    func testAReportKeyedByAnythingButItsJobIdIsApplied() throws {
        let a = try f.model("k")
        let job = try f.startedJob(a)
        try f.send(key: "request-\(UUID().uuidString.prefix(6))", value: body(job, output: "{}"))
        try f.send(key: "", value: body(try f.startedJob(a), output: "{}"))
        let answer = try XCTUnwrap(f.results(for: job.id).first)
        XCTAssertEqual(answer["code"], 200)
        XCTAssertEqual(try f.job(job.id)?.status, .success)
        XCTAssertTrue(eventually(timeout: 10) { Self.consumer!.log.contains(#""key_mismatches":"2""#) }, "counted in the status line")
    }

    func testATombstoneIsDeadLetteredWithItsValueStillNull() throws {
        let key = "tomb-\(UUID().uuidString.prefix(8))"
        _ = try f.producer.sendAndWait([OutgoingMessage(topic: f.topics.reports, key: Array(key.utf8), value: nil)]).map { try $0.get() }
        XCTAssertEqual(f.results(for: key).first?["code"], 400)
        XCTAssertTrue(eventually { f.reader.messages(f.topics.deadLetters).contains { $0.message.keyString == key } })
        let letter = try XCTUnwrap(f.reader.messages(f.topics.deadLetters).first { $0.message.keyString == key })
        XCTAssertNil(letter.message.value, "null, not empty")
        XCTAssertEqual(letter.header("dlq-reason"), "report has a null value (a tombstone); a report is a JSON object")
    }
}
