import CascadeDomain
import XCTest

final class SubscriptionFiringTests: XCTestCase {
    private let models = ["B": model("B"), "C": model("C")]

    private func fire(_ subs: [EventSubscription], job source: Job = job(status: .success), report r: CompletionReport = report(),
                      models: [String: Model]? = nil, limit: Int = 8) -> [Firing] {
        var n = 0
        return SubscriptionFiring.fire(source: source, report: r, subscriptions: subs, models: models ?? self.models,
                                       depthLimit: limit, now: t0) { n += 1; return "new-\(n)" }
    }

    private func error(_ firing: Firing?) -> String? {
        if case .failed(_, let e)? = firing?.outcome { return e }
        return nil
    }

    func testOnlySuccessfulInferenceJobsFire() {
        let subs = [subscription(to: "B")]
        XCTAssertEqual(fire(subs).count, 1)
        XCTAssertEqual(fire(subs, job: job(status: .failure)).count, 0, "failures fire nothing")
        XCTAssertEqual(fire(subs, job: job(type: .training, status: .success)).count, 0, "training jobs fire nothing")
    }

    func testPausedStaleOtherTriggerAndOtherSourceSubscriptionsAreNotListed() {
        let active = subscription(to: "B")
        let subs = [subscription(to: "C", status: .paused), active, subscription(to: "C", status: .stale),
                    subscription(to: "C", trigger: .trainingComplete), subscription(from: "Z", to: "C")]
        XCTAssertEqual(fire(subs).map(\.subscription.id), [active.id])
    }

    func testSubscriptionsFireInCreationOrder() {
        let late = subscription(to: "B", createdOffset: 100), early = subscription(to: "C", createdOffset: 5)
        XCTAssertEqual(fire([late, early]).map(\.subscription.id), [early.id, late.id])
    }

    func testATriggeredSubscriptionCreatesAPendingJobOnTheNewestActiveVersionWithLineage() throws {
        let target = model("B", versions: [("v1", .active, 0), ("v3", .active, 20), ("v2", .active, 10), ("v4", .training, 30)])
        let sub = subscription(to: "B", action: .training)
        let firing = try XCTUnwrap(fire([sub], job: job(status: .success, depth: 2), models: ["B": target]).first)
        let created = try XCTUnwrap(firing.job)
        XCTAssertEqual(firing.outcome, .triggered(subscriptionId: sub.id, jobId: "new-1"))
        XCTAssertEqual(created.id, "new-1")
        XCTAssertEqual(created.modelId, "B")
        XCTAssertEqual(created.modelVersion, "v3")
        XCTAssertEqual(created.type, .training)
        XCTAssertEqual(created.status, .pending)
        XCTAssertEqual(created.parentJobId, "job-1")
        XCTAssertEqual(created.subscriptionId, sub.id)
        XCTAssertEqual(created.cascadeDepth, 3)
        XCTAssertEqual(created.createdAt, t0)
    }

    func testInputIsTheStoredInputOrTheReportsOutput() {
        let stored = subscription(to: "B", input: .stored, stored: ["prompt": "fixed"])
        let fromOutput = subscription(to: "C", input: .triggerOutput)
        let firings = fire([stored, fromOutput], report: report(output: ["uri": "s3://o"]))
        XCTAssertEqual(firings[0].job?.input, ["prompt": "fixed"])
        XCTAssertEqual(firings[1].job?.input, ["uri": "s3://o"])
    }

    func testAMissingTargetModelFailsToTrigger() {
        let f = fire([subscription(to: "GONE")]).first
        XCTAssertEqual(error(f), "target model GONE does not exist")
        XCTAssertNil(f?.job)
    }

    func testATargetWithoutAnActiveVersionFailsToTrigger() {
        let f = fire([subscription(to: "B")], models: ["B": model("B", versions: [("v1", .training, 0), ("v2", .failed, 1)])]).first
        XCTAssertEqual(error(f), "target model B has no active version")
    }

    func testATargetThatDoesNotSupportTheActionFailsToTrigger() {
        let f = fire([subscription(to: "B", action: .training)], models: ["B": model("B", actions: [.inference])]).first
        XCTAssertEqual(error(f), "target model B does not support training (it supports: inference)")
    }

    func testTriggerOutputWithoutAnOutputFailsToTrigger() {
        let f = fire([subscription(to: "B")], report: report(output: nil)).first
        XCTAssertEqual(error(f), "subscription takes trigger_output but the report has no output")
    }

    func testStoredInputThatIsMissingFailsToTrigger() {
        XCTAssertEqual(error(fire([subscription(to: "B", input: .stored, stored: nil)]).first),
                       "subscription takes stored input but has none stored")
    }

    func testTheDepthGuardAllowsTheLimitAndStopsPastIt() {
        let sub = subscription(to: "B")
        XCTAssertEqual(fire([sub], job: job(status: .success, depth: 7), limit: 8).first?.job?.cascadeDepth, 8)
        let stopped = fire([sub], job: job(status: .success, depth: 8), limit: 8).first
        XCTAssertNil(stopped?.job)
        XCTAssertEqual(error(stopped), "cascade depth limit reached: the new job would be at depth 9, over the limit of 8 (a subscription loop?)")
        XCTAssertNotNil(fire([sub], job: job(status: .success, depth: 8), limit: 9).first?.job, "the limit is configurable")
    }

    func testOneFailureDoesNotStopTheOthers() {
        let firings = fire([subscription(to: "GONE"), subscription(to: "B")])
        XCTAssertTrue(firings[0].outcome.isFailure)
        XCTAssertNotNil(firings[1].job)
    }
}

final class ModelTests: XCTestCase {
    func testNewestActiveVersionIgnoresOtherStatusesAndPrefersTheLatest() {
        XCTAssertEqual(model("M", versions: [("a", .active, 5), ("b", .active, 9), ("c", .pending, 99)]).newestActiveVersion?.version, "b")
        XCTAssertNil(model("M", versions: [("a", .failed, 5)]).newestActiveVersion)
        XCTAssertNil(model("M", versions: []).newestActiveVersion)
    }
}
