import CascadeDomain
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// End to end: `cascade consume` runs as a separate process against Tansu and PostgreSQL; the
/// tests publish reports and read the result records, downstream requests and dead letters
/// back from the broker, and the durable state from the database.
final class CompletionPipelineTests: XCTestCase {
    nonisolated(unsafe) private static var shared: PipelineFixture?
    nonisolated(unsafe) private static var consumer: ChildProcess?
    private static let healthFile = NSTemporaryDirectory() + "cascade-health-\(UUID().uuidString.prefix(8))"
    private var f: PipelineFixture { Self.shared! }

    override func setUpWithError() throws {
        if Self.shared == nil {
            let fixture = try PipelineFixture()
            Self.shared = fixture
            Self.consumer = try fixture.startConsumer(["--health-file", Self.healthFile])
        }
    }

    override class func tearDown() {
        consumer?.signal(SIGTERM)
        let code = consumer?.wait()
        XCTAssertEqual(code, 0, "consume exits 0 after SIGTERM; log:\n\(consumer?.log ?? "")")
        shared?.close()
        shared = nil
        consumer = nil
    }

    func testAThreeLevelChainFiresWithMessagesAndOutcomeRows() throws {
        let x = try f.model("x"), y = try f.model("y"), z = try f.model("z")
        let xy = try f.subscribe(x, y)
        let yz = try f.subscribe(y, z, input: .stored, stored: ["dataset": "s3://d"])
        let root = try f.startedJob(x)

        try f.report(root, output: #"{"uri":"s3://x-out"}"#, requestId: "req-root")
        let first = try XCTUnwrap(f.results(for: root.id).first)
        XCTAssertEqual(first["code"], 200)
        XCTAssertEqual(first["request_id"], "req-root")
        XCTAssertEqual(first["report"]?["topic"], .string(f.topics.reports))
        let yJobId = try XCTUnwrap(first["triggered_events"].flatMap { if case .array(let a) = $0 { a.first?["job_id"]?.stringValue } else { nil } })
        XCTAssertEqual(first["triggered_events"], .array([["subscription_id": .string(xy.id.uuidString.lowercased()), "job_id": .string(yJobId)]]))

        let yJob = try XCTUnwrap(f.job(yJobId))
        XCTAssertEqual(yJob.status, .pending)
        XCTAssertEqual(yJob.modelId, y)
        XCTAssertEqual(yJob.input, ["uri": "s3://x-out"])
        XCTAssertEqual(yJob.parentJobId, root.id)
        XCTAssertEqual(yJob.subscriptionId, xy.id)
        XCTAssertEqual(yJob.cascadeDepth, 1)
        XCTAssertTrue(eventually { f.requests(forSource: root.id).count == 1 })
        let request = try XCTUnwrap(f.requests(forSource: root.id).first)
        XCTAssertEqual(request.message.keyString, yJobId)
        XCTAssertNotNil(request.header("event-id").flatMap(UUID.init(uuidString:)))
        XCTAssertEqual(request.json?["job_type"], "inference")
        XCTAssertEqual(request.json?["cascade_depth"], 1)
        XCTAssertEqual(request.json?["input"], ["uri": "s3://x-out"])
        XCTAssertEqual(request.json?["trigger"]?["source_model_id"], .string(x))

        try f.report(yJob, output: #"{"uri":"s3://y-out"}"#)
        let second = try XCTUnwrap(f.results(for: yJobId).first)
        XCTAssertEqual(second["code"], 200)
        let zJobId = try XCTUnwrap(f.requests(forSource: yJobId).first?.message.keyString
            ?? { eventually { !f.requests(forSource: yJobId).isEmpty }; return f.requests(forSource: yJobId).first?.message.keyString }())
        let zJob = try XCTUnwrap(f.job(zJobId))
        XCTAssertEqual(zJob.input, ["dataset": "s3://d"])
        XCTAssertEqual(zJob.subscriptionId, yz.id)
        XCTAssertEqual(zJob.cascadeDepth, 2)

        try f.report(zJob)
        XCTAssertEqual(f.results(for: zJobId).first?["triggered_events"], .array([]))
        XCTAssertEqual(try f.job(root.id)?.status, .success)
        XCTAssertEqual(try f.job(root.id)?.output, ["uri": "s3://x-out"])
        XCTAssertEqual(try f.registry.outcomes(sourceJobId: root.id), [.triggered(subscriptionId: xy.id, jobId: yJobId)])
        XCTAssertEqual(try f.registry.outcomes(sourceJobId: yJobId), [.triggered(subscriptionId: yz.id, jobId: zJobId)])
        XCTAssertEqual(try f.registry.outcomes(sourceJobId: zJobId), [])
    }

    func testTheHealthFileIsTouchedWhileThePollLoopRuns() throws {
        func modified() -> Date? {
            (try? FileManager.default.attributesOfItem(atPath: Self.healthFile))?[.modificationDate] as? Date
        }
        XCTAssertTrue(eventually(timeout: 20) { modified() != nil }, "no health file")
        let first = try XCTUnwrap(modified())
        XCTAssertTrue(eventually(timeout: 5) { (modified() ?? first) > first }, "the health file stopped changing")
    }

    func testADuplicateReportRefiresNothingAndRepeatsTheOriginalAnswer() throws {
        let a = try f.model("dup-a"), b = try f.model("dup-b")
        try f.subscribe(a, b)
        let job = try f.startedJob(a)
        try f.report(job)
        try f.report(job)
        let answers = f.results(for: job.id, count: 2)
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers.map { $0["duplicate"] }, [false, true])
        XCTAssertEqual(answers[0]["triggered_events"], answers[1]["triggered_events"])
        XCTAssertEqual(answers[1]["code"], 200)
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 1)
        XCTAssertEqual(try f.count("SELECT jsonb_array_length(subscription_outcomes) AS n FROM jobs WHERE job_id = $1", [job.id]), 1)
        // The database holds one child (above); the broker shows its request, with no fixed
        // sleep: a duplicate writes no second request to the outbox, so none can follow.
        XCTAssertTrue(eventually { !f.requests(forSource: job.id).isEmpty })
        XCTAssertEqual(f.requests(forSource: job.id).count, 1)
    }

    func testAConflictingReportGets409AndLeavesTheJobAsItWas() throws {
        let a = try f.model("conflict")
        let job = try f.startedJob(a)
        try f.report(job, output: #"{"v":1}"#)
        try f.report(job, status: "failure", output: nil, error: #"{"code":"late"}"#)
        let answers = f.results(for: job.id, count: 2)
        XCTAssertEqual(answers.map { $0["code"] }, [200, 409])
        XCTAssertEqual(answers[1]["success"], false)
        XCTAssertTrue(answers[1]["message"]?.stringValue?.contains("already completed with success") ?? false)
        let stored = try XCTUnwrap(f.job(job.id))
        XCTAssertEqual(stored.status, .success)
        XCTAssertEqual(stored.output, ["v": 1])
        XCTAssertNil(stored.error)
    }

    func testAnUnknownJobGets404AndNothingIsWritten() throws {
        let a = try f.model("unknown")
        let ghost = Job(id: "ghost-\(UUID().uuidString.prefix(8))", modelId: a, modelVersion: "v1", type: .inference, status: .started, createdAt: Date())
        try f.report(ghost)
        let answer = try XCTUnwrap(f.results(for: ghost.id).first)
        XCTAssertEqual(answer["code"], 404)
        XCTAssertEqual(answer["message"], .string("job \(ghost.id) not found under model \(a) version v1"))
        XCTAssertNil(try f.job(ghost.id))

        let real = try f.startedJob(a)
        try f.send(key: real.id, value: #"{"model_id":"\#(a)","model_version":"v9","job_id":"\#(real.id)","status":"success"}"#)
        XCTAssertEqual(f.results(for: real.id).first?["code"], 404, "same job under another version")
        XCTAssertEqual(try f.job(real.id)?.status, .started)
    }

    func testANonJSONReportLandsInTheDeadLetterTopicWithItsOriginAndGetsA400() throws {
        let key = "junk-\(UUID().uuidString.prefix(8))"
        try f.send(key: key, value: "this is not JSON", requestId: "req-junk")
        XCTAssertTrue(eventually { f.reader.messages(f.topics.deadLetters).contains { $0.message.keyString == key } })
        let dead = try XCTUnwrap(f.reader.messages(f.topics.deadLetters).first { $0.message.keyString == key })
        XCTAssertEqual(dead.message.text, "this is not JSON")
        XCTAssertEqual(dead.header("request-id"), "req-junk")
        XCTAssertTrue(dead.header("dlq-reason")?.hasPrefix("report is not valid JSON") ?? false, dead.header("dlq-reason") ?? "")
        XCTAssertEqual(dead.header("dlq-source-topic"), f.topics.reports)
        XCTAssertNotNil(dead.header("dlq-source-partition").flatMap(Int.init))
        XCTAssertNotNil(dead.header("dlq-source-offset").flatMap(Int.init))
        let answer = try XCTUnwrap(f.results(for: key).first)
        XCTAssertEqual(answer["code"], 400)
        XCTAssertEqual(answer["request_id"], "req-junk")

        // The consumer is still alive and processing after it.
        let a = try f.model("after-junk")
        let job = try f.startedJob(a)
        try f.report(job)
        XCTAssertEqual(f.results(for: job.id).first?["code"], 200)
    }

    func testAReportTheDatabaseRefusesIsDeadLetteredAloneAndItsBatchGoesThrough() throws {
        // Valid JSON, but jsonb cannot store \u0000: only the database can refuse it.
        let a = try f.model("refused")
        let bad = try f.startedJob(a), good = try f.startedJob(a)
        let messages = [
            OutgoingMessage(topic: f.topics.reports, key: bad.id,
                            value: #"{"model_id":"\#(a)","model_version":"v1","job_id":"\#(bad.id)","status":"success","output":{"x":"\u0000"}}"#),
            OutgoingMessage(topic: f.topics.reports, key: good.id,
                            value: #"{"model_id":"\#(a)","model_version":"v1","job_id":"\#(good.id)","status":"success"}"#),
        ]
        for result in try f.producer.sendAndWait(messages) { _ = try result.get() }
        XCTAssertEqual(f.results(for: good.id).first?["code"], 200)
        let answer = try XCTUnwrap(f.results(for: bad.id).first)
        XCTAssertEqual(answer["code"], 400)
        XCTAssertTrue(answer["message"]?.stringValue?.hasPrefix("the database refused this report") ?? false, "\(answer)")
        XCTAssertTrue(eventually { f.reader.messages(f.topics.deadLetters).contains { $0.message.keyString == bad.id } })
        XCTAssertEqual(try f.job(bad.id)?.status, .started, "nothing of the refused report was applied")
        XCTAssertEqual(try f.job(good.id)?.status, .success)
    }

    func testAFailureReportStoresTheErrorAndFiresNothing() throws {
        let a = try f.model("fail-a"), b = try f.model("fail-b")
        try f.subscribe(a, b)
        let job = try f.startedJob(a)
        try f.report(job, status: "failure", output: #"{"log":"s3://log"}"#, error: #"{"code":"OOM","gpu":0}"#)
        let answer = try XCTUnwrap(f.results(for: job.id).first)
        XCTAssertEqual(answer["code"], 200)
        XCTAssertEqual(answer["status"], "failure")
        XCTAssertEqual(answer["triggered_events"], .array([]))
        let stored = try XCTUnwrap(f.job(job.id))
        XCTAssertEqual(stored.status, .failure)
        XCTAssertEqual(stored.error, ["code": "OOM", "gpu": 0])
        XCTAssertEqual(stored.output, ["log": "s3://log"])
        XCTAssertNotNil(stored.completedAt)
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 0)
    }

    func testPausedAndStaleSubscriptionsAreSkipped() throws {
        let a = try f.model("skip-a"), b = try f.model("skip-b"), c = try f.model("skip-c"), d = try f.model("skip-d")
        try f.subscribe(a, c, status: .paused)
        let active = try f.subscribe(a, b)
        try f.subscribe(a, d, status: .stale)
        let job = try f.startedJob(a)
        try f.report(job)
        let events = f.results(for: job.id).first?["triggered_events"]
        guard case .array(let list)? = events else { return XCTFail("no triggered_events") }
        XCTAssertEqual(list.map { $0["subscription_id"] }, [.string(active.id.uuidString.lowercased())])
        XCTAssertEqual(try f.count("SELECT count(*) AS n FROM jobs WHERE parent_job_id = $1", [job.id]), 1)
    }

    func testAMissingTargetGives207WithTheError() throws {
        let a = try f.model("miss-a"), b = try f.model("miss-b")
        let good = try f.subscribe(a, b)
        let bad = try f.subscribe(a, "\(f.id)-nowhere")
        let job = try f.startedJob(a)
        try f.report(job)
        let answer = try XCTUnwrap(f.results(for: job.id).first)
        XCTAssertEqual(answer["code"], 207)
        guard case .array(let events)? = answer["triggered_events"] else { return XCTFail() }
        XCTAssertEqual(events.map { $0["subscription_id"] }, [.string(good.id.uuidString.lowercased()), .string(bad.id.uuidString.lowercased())])
        XCTAssertNotNil(events[0]["job_id"])
        XCTAssertEqual(events[1]["error"], .string("target model \(f.id)-nowhere does not exist"))
        XCTAssertEqual(try f.registry.outcomes(sourceJobId: job.id).last, .failed(subscriptionId: bad.id, error: "target model \(f.id)-nowhere does not exist"))
        XCTAssertEqual(try f.job(job.id)?.status, .success)
    }

    func testAnAToALoopStopsAtTheDepthLimit() throws {
        let a = try f.model("loop")
        try f.subscribe(a, a)
        var current = try f.startedJob(a)
        var codes: [Int] = []
        for _ in 0..<12 {
            try f.report(current)
            guard let answer = f.results(for: current.id).first, case .number(let code)? = answer["code"] else { return XCTFail("no answer") }
            codes.append(Int(code)!)
            guard code == "200" else {
                guard case .array(let events)? = answer["triggered_events"] else { return XCTFail() }
                XCTAssertEqual(events.first?["error"], "cascade depth limit reached: the new job would be at depth 9, over the limit of 8 (a subscription loop?)")
                break
            }
            guard case .array(let events)? = answer["triggered_events"], let next = events.first?["job_id"]?.stringValue,
                  let job = try f.job(next) else { return XCTFail("no next job") }
            current = job
        }
        XCTAssertEqual(codes, Array(repeating: 200, count: 8) + [207])
        XCTAssertEqual(current.cascadeDepth, 8)
    }
}
