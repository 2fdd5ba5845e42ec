import CascadeDomain
import XCTest

final class CompletionPlannerTests: XCTestCase {
    private let topics = TopicNames.defaults

    private func plan(_ inputs: [PlannerInput], _ snapshot: BatchSnapshot, planner: CompletionPlanner = CompletionPlanner()) -> BatchEffects {
        planner.plan(inputs, snapshot: snapshot, now: t0.addingTimeInterval(10), newId: IdSequence().callAsFunction)
    }

    private func snapshot(_ jobs: [Job], subs: [EventSubscription] = [], models: [Model] = [model("B"), model("C")]) -> BatchSnapshot {
        BatchSnapshot(jobs: Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) }),
                      subscriptions: Dictionary(grouping: subs, by: \.sourceModelId),
                      models: Dictionary(uniqueKeysWithValues: models.map { ($0.id, $0) }))
    }

    private func messages(_ effects: BatchEffects, on topic: String) throws -> [JSONValue] {
        try effects.outbox.filter { $0.topic == topic }.map { try decodeJSON($0.value) }
    }

    func testAllTriggeredIs200AndEveryEffectIsPlanned() throws {
        let toB = subscription(to: "B"), toC = subscription(to: "C", input: .stored, stored: ["k": "v"])
        let effects = plan([.report(report(requestId: "req-1"))], snapshot([job()], subs: [toB, toC]))
        let result = try XCTUnwrap(effects.results.first)
        XCTAssertEqual(result.code, 200)
        XCTAssertEqual(result.status, "success")
        XCTAssertFalse(result.duplicate)
        XCTAssertEqual(effects.completedJobs.map(\.status), [.success])
        XCTAssertEqual(effects.createdJobs.map(\.modelId), ["B", "C"])
        XCTAssertEqual(effects.outcomes.map(\.sourceJobId), ["job-1", "job-1"])
        XCTAssertEqual(effects.outcomes.map(\.outcome), result.triggeredEvents, "in firing order, as the job stores them")
        XCTAssertEqual(effects.outbox.map(\.topic), [topics.requests, topics.requests, topics.results])

        let answer = try XCTUnwrap(messages(effects, on: topics.results).first)
        XCTAssertEqual(answer["code"], 200)
        XCTAssertEqual(answer["job_id"], "job-1")
        XCTAssertEqual(answer["model_id"], "A")
        XCTAssertEqual(answer["model_version"], "v1")
        XCTAssertEqual(answer["status"], "success")
        XCTAssertEqual(answer["duplicate"], false)
        XCTAssertEqual(answer["request_id"], "req-1")
        XCTAssertEqual(answer["report"], ["topic": "pie.job-completions", "partition": 2, "offset": 41])
        XCTAssertEqual(answer["triggered_events"], [
            ["subscription_id": .string(toB.id.uuidString.lowercased()), "job_id": .string(effects.createdJobs[0].id)],
            ["subscription_id": .string(toC.id.uuidString.lowercased()), "job_id": .string(effects.createdJobs[1].id)],
        ])
        XCTAssertNil(answer["success"])
        XCTAssertNil(answer["message"])
        XCTAssertEqual(effects.outbox.last?.key, Array("job-1".utf8))
        XCTAssertEqual(effects.outbox.last?.headers, [OutboxHeader("event-id", source.eventId(.result).lowercasedText),
                                                      OutboxHeader("request-id", "req-1")])
    }

    func testADownstreamRequestCarriesTheJobTheTriggerAndAStableEventId() throws {
        let toB = subscription(to: "B", action: .training)
        let effects = plan([.report(report(output: ["uri": "s3://o"]))], snapshot([job(depth: 1)], subs: [toB]))
        let created = try XCTUnwrap(effects.createdJobs.first)
        let message = try XCTUnwrap(effects.outbox.first { $0.topic == topics.requests })
        XCTAssertEqual(message.key, Array(created.id.utf8))
        XCTAssertEqual(message.headers.map(\.name), ["event-id"])
        XCTAssertNotEqual(message.headers.first?.value, Array(created.id.utf8), "the event id is its own id")
        let value = try decodeJSON(message.value)
        XCTAssertEqual(value["job_id"], .string(created.id))
        XCTAssertEqual(value["model_id"], "B")
        XCTAssertEqual(value["model_version"], "v1")
        XCTAssertEqual(value["job_type"], "training")
        XCTAssertEqual(value["input"], ["uri": "s3://o"])
        XCTAssertEqual(value["cascade_depth"], 2)
        XCTAssertEqual(value["created_at"], "2027-01-15T08:00:10.000Z")
        XCTAssertEqual(value["trigger"], ["event": "inference_complete", "subscription_id": .string(toB.id.uuidString.lowercased()),
                                          "source_job_id": "job-1", "source_model_id": "A", "source_model_version": "v1"])
    }

    func testAnyFailedSubscriptionMakesIt207AndStillCompletesTheJob() throws {
        let effects = plan([.report(report())], snapshot([job()], subs: [subscription(to: "B"), subscription(to: "GONE")]))
        XCTAssertEqual(effects.results.first?.code, 207)
        XCTAssertEqual(effects.completedJobs.count, 1)
        XCTAssertEqual(effects.createdJobs.count, 1)
        XCTAssertEqual(effects.outcomes.count, 2, "failures are recorded too")
        let events = try XCTUnwrap(messages(effects, on: topics.results).first?["triggered_events"])
        XCTAssertEqual(events, .array([
            ["subscription_id": .string(effects.outcomes[0].outcome.subscriptionId.uuidString.lowercased()), "job_id": .string(effects.createdJobs[0].id)],
            ["subscription_id": .string(effects.outcomes[1].outcome.subscriptionId.uuidString.lowercased()), "error": "target model GONE does not exist"],
        ]))
    }

    func testAFailureReportStoresTheErrorAndFiresNothing() {
        let effects = plan([.report(report(status: .failure, output: nil, error: ["reason": "OOM"]))], snapshot([job()], subs: [subscription(to: "B")]))
        XCTAssertEqual(effects.results.first?.code, 200)
        XCTAssertEqual(effects.results.first?.triggeredEvents, [])
        XCTAssertEqual(effects.completedJobs.first?.error, ["reason": "OOM"])
        XCTAssertTrue(effects.createdJobs.isEmpty)
        XCTAssertTrue(effects.outcomes.isEmpty)
    }

    func testADuplicateRepeatsTheOriginalOutcomeAndChangesNothing() {
        let done = job().completed(by: report(), at: t0)
        let original: [SubscriptionOutcome] = [.triggered(subscriptionId: UUID(), jobId: "child-1"), .failed(subscriptionId: UUID(), error: "x")]
        var snap = snapshot([done], subs: [subscription(to: "B")])
        snap.outcomes["job-1"] = original
        let effects = plan([.report(report())], snap)
        XCTAssertEqual(effects.results.first?.code, 207)
        XCTAssertEqual(effects.results.first?.duplicate, true)
        XCTAssertEqual(effects.results.first?.triggeredEvents, original)
        XCTAssertTrue(effects.completedJobs.isEmpty)
        XCTAssertTrue(effects.createdJobs.isEmpty)
        XCTAssertTrue(effects.outcomes.isEmpty)
        XCTAssertEqual(effects.outbox.map(\.topic), [topics.results])
    }

    func testTheSameReportTwiceInOneBatchFiresOnceAndTheSecondIsADuplicate() {
        let effects = plan([.report(report()), .report(report())], snapshot([job()], subs: [subscription(to: "B")]))
        XCTAssertEqual(effects.results.map(\.code), [200, 200])
        XCTAssertEqual(effects.results.map(\.duplicate), [false, true])
        XCTAssertEqual(effects.results[0].triggeredEvents, effects.results[1].triggeredEvents)
        XCTAssertEqual(effects.createdJobs.count, 1)
        XCTAssertEqual(effects.completedJobs.count, 1)
    }

    func testAConflictingReportIs409AndLeavesTheJobAlone() throws {
        let done = job().completed(by: report(), at: t0)
        let effects = plan([.report(report(status: .failure, output: nil))], snapshot([done], subs: [subscription(to: "B")]))
        XCTAssertEqual(effects.results.first?.code, 409)
        XCTAssertTrue(effects.completedJobs.isEmpty && effects.createdJobs.isEmpty && effects.outcomes.isEmpty)
        let answer = try XCTUnwrap(messages(effects, on: topics.results).first)
        XCTAssertEqual(answer["success"], false)
        XCTAssertTrue(answer["message"]?.stringValue?.contains("already completed with success") ?? false)
    }

    func testAnUnknownJobIs404AndTouchesNothing() throws {
        let effects = plan([.report(report(job: "nope"))], snapshot([job()]))
        XCTAssertEqual(effects.results.first?.code, 404)
        XCTAssertEqual(effects.results.first?.message, "job nope not found under model A version v1")
        XCTAssertTrue(effects.completedJobs.isEmpty)
        XCTAssertEqual(try messages(effects, on: topics.results).first?["success"], false)
    }

    func testUnauthenticatedAndForbiddenReportsTouchNothing() {
        let planner = CompletionPlanner(authorizer: BearerTokenAuthorizer(grants: ["good": ["A"], "other": ["Z"]]))
        let snap = snapshot([job()], subs: [subscription(to: "B")])
        for (auth, code) in [(nil, 401), ("Basic x", 401), ("Bearer bad", 401), ("Bearer other", 403)] {
            let effects = plan([.report(report(auth: auth))], snap, planner: planner)
            XCTAssertEqual(effects.results.first?.code, code, auth ?? "none")
            XCTAssertTrue(effects.completedJobs.isEmpty && effects.createdJobs.isEmpty && effects.outcomes.isEmpty)
            XCTAssertEqual(effects.outbox.map(\.topic), [topics.results])
        }
        XCTAssertEqual(plan([.report(report(auth: "Bearer good"))], snap, planner: planner).results.first?.code, 200)
    }

    func testARejectedReportGoesToTheDeadLetterTopicWithItsOriginAndA400WhenItsJobIsKnown() throws {
        let bad = raw("{oops", key: "job-1", headers: [("request-id", "r9")])
        let rejection = ReportRejection(.malformed, "report is not valid JSON", jobId: "job-1", requestId: "r9")
        let effects = plan([.rejected(bad, rejection)], snapshot([job()]))
        XCTAssertEqual(effects.outbox.map(\.topic), [topics.deadLetters, topics.results])
        XCTAssertEqual(effects.deadLetters, [.malformed], "counted by class")
        let dead = effects.outbox[0]
        XCTAssertEqual(dead.key, Array("job-1".utf8))
        XCTAssertEqual(dead.value, Array("{oops".utf8))
        XCTAssertEqual(dead.headers, [OutboxHeader("request-id", "r9"), OutboxHeader("event-id", source.eventId(.deadLetter).lowercasedText),
                                      OutboxHeader("dlq-reason", "report is not valid JSON"),
                                      OutboxHeader("dlq-source-topic", "pie.job-completions"),
                                      OutboxHeader("dlq-source-partition", "2"), OutboxHeader("dlq-source-offset", "41")])
        let answer = try decodeJSON(effects.outbox[1].value)
        XCTAssertEqual(answer["code"], 400)
        XCTAssertEqual(answer["message"], "report is not valid JSON")
        XCTAssertEqual(answer["request_id"], "r9")

        let anonymous = plan([.rejected(raw("junk"), ReportRejection(.malformed, "report is not valid JSON"))], snapshot([]))
        XCTAssertEqual(anonymous.outbox.map(\.topic), [topics.deadLetters], "no job id: nobody to answer")
        XCTAssertEqual(anonymous.results.first?.code, 400)
    }

    /// Every answer to one report message carries the same event-id, wherever and however often
    /// it is planned (a re-send copies the bytes; a redelivery plans it again).
    func testAnswersCarryAnEventIdDerivedFromTheReportMessage() throws {
        let first = plan([.report(report())], snapshot([job()]))
        let again = plan([.report(report())], snapshot(first.completedJobs))
        let eventId = { (effects: BatchEffects) in effects.outbox.first { $0.topic == self.topics.results }?.header("event-id") }
        XCTAssertEqual(eventId(first), Array(source.eventId(.result).lowercasedText.utf8))
        XCTAssertEqual(eventId(again), eventId(first), "a redelivered report is answered under the same event-id")
        XCTAssertEqual(again.results.first?.duplicate, true)

        let elsewhere = ReportSource(topic: source.topic, partition: source.partition, offset: source.offset + 1)
        XCTAssertNotEqual(elsewhere.eventId(.result), source.eventId(.result))
        XCTAssertNotEqual(source.eventId(.deadLetter), source.eventId(.result))
    }

    func testADeadLetterTooLargeToPublishIsCutAndItsOriginalParked() throws {
        let planner = CompletionPlanner(topics: topics, deadLetterSizeLimit: 1000)
        let big = RawReport(key: Array("job-1".utf8), value: Array(repeating: UInt8(ascii: "x"), count: 5000), headers: [],
                            source: source)
        let effects = planner.plan([.rejected(big, ReportRejection(.tooLarge, "report is 5000 bytes, over the limit", jobId: "job-1"))],
                                   snapshot: snapshot([job()]), now: t0)
        let letter = try XCTUnwrap(effects.outbox.first { $0.topic == topics.deadLetters })
        XCTAssertEqual(letter.size, 1000, "key, value and headers, the size header included, fill the limit exactly")
        XCTAssertEqual(letter.header("dlq-original-size"), Array("5000".utf8))
        XCTAssertEqual(letter.value.map { Set($0) }, [UInt8(ascii: "x")])
        XCTAssertEqual(effects.parked.count, 1)
        let original = try XCTUnwrap(effects.parked.first)
        XCTAssertEqual(original.message.value, big.value, "the whole original is kept")
        XCTAssertEqual(original.message.header("event-id"), letter.header("event-id"))
        XCTAssertTrue(original.reason.contains("cut from 5000"), original.reason)

        let small = planner.plan([.rejected(raw("{oops", key: "job-1"), ReportRejection(.malformed, "bad", jobId: "job-1"))],
                                 snapshot: snapshot([job()]), now: t0)
        XCTAssertTrue(small.parked.isEmpty)
        XCTAssertNil(small.outbox[0].header("dlq-original-size"))
    }

    func testATombstoneIsDeadLetteredWithANullValue() throws {
        let tombstone = RawReport(key: Array("job-1".utf8), value: nil, headers: [], source: source)
        let effects = plan([.rejected(tombstone, ReportRejection(.malformed, "null", jobId: "job-1"))], snapshot([job()]))
        let letter = try XCTUnwrap(effects.outbox.first)
        XCTAssertEqual(letter.topic, topics.deadLetters)
        XCTAssertNil(letter.value, "the value stays null, not empty")
    }

    func testALongReasonIsClippedInTheDeadLetterAndTheAnswer() throws {
        let reason = String(repeating: "r", count: 10_000)
        let effects = plan([.rejected(raw("x", key: "job-1"), ReportRejection(.invalidField, reason, jobId: "job-1"))], snapshot([job()]))
        let header = try XCTUnwrap(effects.outbox[0].header("dlq-reason"))
        XCTAssertLessThanOrEqual(header.count, DeadLetter.reasonLimit)
        XCTAssertTrue(String(decoding: header, as: UTF8.self).hasSuffix("…"))
        XCTAssertEqual(try decodeJSON(effects.outbox[1].value)["message"]?.stringValue.map { Array($0.utf8) }, header)
    }

    func testABadReportDoesNotDisturbTheOthersInItsBatch() {
        let effects = plan([.report(report(job: "j1")), .rejected(raw("x"), ReportRejection(.invalidField, "bad")), .report(report(job: "j2"))],
                           snapshot([job("j1"), job("j2")]))
        XCTAssertEqual(effects.results.map(\.code), [200, 400, 200])
        XCTAssertEqual(effects.completedJobs.map(\.id), ["j1", "j2"])
    }

    func testAnAToALoopStopsAtTheDepthLimit() {
        // A subscription from A to A: each completion of the new job would fire again.
        let loop = subscription(from: "A", to: "A")
        var depth = 0
        var current = job()
        var codes: [Int] = []
        while codes.last != 207 && codes.count < 20 {
            let effects = plan([.report(report(job: current.id))], snapshot([current], subs: [loop], models: [model("A")]),
                               planner: CompletionPlanner(depthLimit: 3))
            codes.append(effects.results[0].code)
            guard let next = effects.createdJobs.first else { break }
            depth = next.cascadeDepth
            current = next
            current.status = .started
        }
        XCTAssertEqual(codes, [200, 200, 200, 207])
        XCTAssertEqual(depth, 3)
    }
}

final class BearerTokenFileTests: XCTestCase {
    func testReadsModelListsAndWildcards() throws {
        let authorizer = try BearerTokenAuthorizer(json: Array(#"{"t1": ["A", "B"], "admin": "*"}"#.utf8))
        XCTAssertEqual(authorizer.grants["t1"], .some(["A", "B"]))
        XCTAssertEqual(authorizer.grants["admin"], .some(nil))
        XCTAssertEqual(authorizer.authorize(report(auth: "Bearer admin")), .allowed)
        XCTAssertEqual(authorizer.authorize(report(model: "C", auth: "Bearer t1")), .forbidden("token may not complete jobs of model C"))
    }

    func testRejectsFilesThatAreNotATokenMap() {
        for text in ["[]", "not json", #"{"t": 5}"#, #"{"t": [1]}"#, #"{"": "*"}"#] {
            XCTAssertThrowsError(try BearerTokenAuthorizer(json: Array(text.utf8)), text)
        }
    }
}
