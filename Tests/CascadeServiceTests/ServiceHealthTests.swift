@testable import CascadeService
import Kafka
import XCTest

/// Liveness and readiness rules, with the clock in the test's hands.
final class ServiceHealthTests: XCTestCase {
    private let t0 = ContinuousClock.now
    private let settings = ServiceHealth.Settings(stallTimeout: .seconds(60), unreachableAfter: .seconds(5))

    private func started() -> ServiceHealth {
        var health = ServiceHealth(settings: settings, now: t0)
        health.loopTurned(at: t0, joined: true, oldestWorkerProgress: nil)
        return health
    }

    func testAFreshJoinedMemberIsLiveAndReady() {
        let health = started()
        XCTAssertEqual(health.liveness(now: t0 + .seconds(1)), .init(reasons: []))
        XCTAssertEqual(health.readiness(now: t0 + .seconds(1)), .init(reasons: []))
    }

    func testStartUpIsLiveUntilTheLoopFirstTurnsButNotReady() {
        let health = ServiceHealth(settings: settings, now: t0)
        XCTAssertTrue(health.liveness(now: t0 + .seconds(600)).healthy, "start-up is bounded by --broker-wait, not by liveness")
        XCTAssertEqual(health.readiness(now: t0).reasons, ["not joined to the consumer group yet"])
    }

    func testAPollLoopThatStopsTurningFailsLivenessAfterTheStallTimeoutOnly() {
        let health = started()
        XCTAssertTrue(health.liveness(now: t0 + .seconds(60)).healthy)
        let verdict = health.liveness(now: t0 + .seconds(61))
        XCTAssertEqual(verdict.reasons, ["the poll loop has not turned for 61 s (stall timeout 60 s)"])
    }

    func testAWorkerHoldingWorkWithoutProgressFailsLivenessWhileTheLoopTurns() {
        var health = started()
        health.loopTurned(at: t0 + .seconds(90), joined: true, oldestWorkerProgress: t0 + .seconds(20))
        XCTAssertEqual(health.liveness(now: t0 + .seconds(90)).reasons,
                       ["a worker holding reports has made no progress for 70 s (stall timeout 60 s)"])
        health.loopTurned(at: t0 + .seconds(91), joined: true, oldestWorkerProgress: t0 + .seconds(91))
        XCTAssertTrue(health.liveness(now: t0 + .seconds(91)).healthy, "progress again: live again")
    }

    /// A database outage alone keeps the member live (a restart would not help) but not ready.
    func testAnUnreachableDependencyFailsReadinessAfterAFewSecondsNotLiveness() {
        var health = started()
        XCTAssertTrue(health.readiness(now: t0 + .seconds(5)).healthy, "a blip shorter than unreachableAfter is tolerated")
        health.loopTurned(at: t0 + .seconds(120), joined: true, oldestWorkerProgress: t0 + .seconds(119))
        XCTAssertEqual(health.readiness(now: t0 + .seconds(120)).reasons, [
            "Kafka (the broker) unreachable for 120 s (the log says why)",
            "PostgreSQL unreachable for 120 s (the log says why)",
        ])
        XCTAssertTrue(health.liveness(now: t0 + .seconds(120)).healthy)
        health.reached(.postgres, at: t0 + .seconds(121))
        health.reached(.kafka, at: t0 + .seconds(121))
        XCTAssertTrue(health.readiness(now: t0 + .seconds(121)).healthy, "back: ready again")
    }

    func testAMemberThatLeftItsGroupOrIsStoppingIsNotReady() {
        var health = started()
        health.loopTurned(at: t0, joined: false, oldestWorkerProgress: nil)
        XCTAssertEqual(health.readiness(now: t0).reasons, ["not joined to the consumer group yet"])
        health.beginStopping()
        XCTAssertEqual(health.readiness(now: t0).reasons, ["stopping: draining in-flight work and leaving the group"])
    }
}

/// Lag in messages and seconds from what a member knows of a partition.
final class PartitionLagTests: XCTestCase {
    private let tp = TopicPartition("reports", 3)
    private let now: Int64 = 1_000_000

    func testMessagesAreLogEndMinusCommittedOrMinusTheLowWatermarkWithoutACommit() {
        XCTAssertEqual(PartitionLag(tp, .init(committed: 70, low: 10, logEnd: 100), nowMs: now).messages, 30)
        XCTAssertEqual(PartitionLag(tp, .init(committed: nil, low: 10, logEnd: 100), nowMs: now).messages, 90)
        XCTAssertEqual(PartitionLag(tp, .init(committed: 120, low: 10, logEnd: 100), nowMs: now).messages, 0, "never negative")
    }

    func testSecondsAreZeroOnceEverythingToTheLogEndIsAppliedEvenBeforeTheCommit() {
        let lag = PartitionLag(tp, .init(committed: 90, low: 0, logEnd: 100, appliedNext: 100, lastAppliedTimestampMs: now - 3_600_000), nowMs: now)
        XCTAssertEqual(lag.messages, 10, "messages follow the commit")
        XCTAssertEqual(lag.seconds, 0, "a quiet partition whose last report is old is not an hour behind")
    }

    /// A transactional producer's commit marker sits at the log end; no report ever passes it.
    func testSecondsAreZeroWhenEverythingPolledIsAppliedAndPollingReachedTheLogEnd() {
        let marker = PartitionLag(tp, .init(committed: 99, low: 0, logEnd: 100, appliedNext: 99, consumedNext: 100,
                                            lastAppliedTimestampMs: now - 3_600_000), nowMs: now)
        XCTAssertEqual(marker.seconds, 0)
        let inHand = PartitionLag(tp, .init(committed: 90, low: 0, logEnd: 100, appliedNext: 90, consumedNext: 100,
                                            nextReportTimestampMs: now - 1_500), nowMs: now)
        XCTAssertEqual(inHand.seconds, 1.5, "polled but not applied yet is still behind")
    }

    func testSecondsAreTheAgeOfTheNextReportWhenItIsInHand() {
        let lag = PartitionLag(tp, .init(committed: 50, low: 0, logEnd: 100, appliedNext: 60, nextReportTimestampMs: now - 2_500,
                                         lastAppliedTimestampMs: now - 2_600), nowMs: now)
        XCTAssertEqual(lag.seconds, 2.5)
    }

    func testSecondsFallBackToTheLastAppliedReportThenToUnknown() {
        XCTAssertEqual(PartitionLag(tp, .init(committed: 50, low: 0, logEnd: 100, appliedNext: 60, lastAppliedTimestampMs: now - 4_000),
                                    nowMs: now).seconds, 4)
        XCTAssertNil(PartitionLag(tp, .init(committed: 50, low: 0, logEnd: 100), nowMs: now).seconds, "behind, nothing seen: unknown")
        XCTAssertEqual(PartitionLag(tp, .init(committed: 50, low: 0, logEnd: 100, nextReportTimestampMs: now + 500), nowMs: now).seconds, 0,
                       "a producer clock ahead of ours is not negative lag")
    }
}
