@testable import CascadeService
import Kafka
import XCTest

/// Transcripts of the poll loop's policy: events in, actions out, no broker, no database.
final class ConsumerLoopTests: XCTestCase {
    private let t0 = ContinuousClock.now
    private let p0 = TopicPartition("reports", 0), p1 = TopicPartition("reports", 1)
    private let settings = ConsumerLoop.Settings(batchSize: 500, linger: .zero, pendingLimit: 1000,
                                                 commitInterval: .milliseconds(200), statusInterval: .seconds(10))
    private var poll: ConsumerLoop.Action { .poll(max: 500, timeout: .milliseconds(100), linger: .zero) }

    private func loop() -> ConsumerLoop {
        var loop = ConsumerLoop(settings: settings, now: t0)
        _ = loop.handle(.assigned([p1, p0]))
        return loop
    }

    private func at(_ ms: Int, pending: Int = 0) -> ConsumerLoop.Event {
        .turn(now: t0 + .milliseconds(ms), pendingBytes: pending)
    }

    func testTheFirstTurnPollsMarksCommitsAndReportsLiveness() {
        var l = loop()
        XCTAssertEqual(l.handle(at(0)), [poll, .markApplied, .commit(synchronously: false), .reportLiveness])
    }

    func testCommitsLivenessAndStatusEachKeepTheirOwnCadence() {
        var l = loop()
        _ = l.handle(at(0))
        XCTAssertEqual(l.handle(at(100)), [poll, .markApplied], "every turn marks; nothing else is due")
        XCTAssertEqual(l.handle(at(200)), [poll, .markApplied, .commit(synchronously: false)])
        XCTAssertEqual(l.handle(at(1000)), [poll, .markApplied, .commit(synchronously: false), .reportLiveness])
        XCTAssertEqual(l.handle(at(10_000)), [poll, .markApplied, .commit(synchronously: false), .reportLiveness,
                                              .logStatus(elapsed: .seconds(10))])
    }

    /// Full queues: wait for room first; only a wait that ends without room (a stall) pauses,
    /// and polling goes on while paused so the member stays in the group.
    func testAStallOfASecondPausesAndRoomResumes() {
        var l = loop()
        _ = l.handle(at(0))
        XCTAssertEqual(l.handle(at(50, pending: 1000)), [.waitForRoom(timeout: .seconds(1)), .markApplied])
        XCTAssertEqual(l.handle(.roomWaitEnded(room: true)), [], "room appeared in time: nothing to pause")
        XCTAssertEqual(l.phase, .running)

        _ = l.handle(at(100, pending: 5000))
        XCTAssertEqual(l.handle(.roomWaitEnded(room: false)),
                       [.pause([p0, p1]), .poll(max: 500, timeout: .milliseconds(100), linger: .zero)])
        XCTAssertEqual(l.phase, .paused)
        _ = l.handle(at(1200, pending: 5000))
        XCTAssertEqual(l.handle(.roomWaitEnded(room: false)), [poll], "paused once, polled on")

        XCTAssertEqual(l.handle(at(2300, pending: 10)), [poll, .resume([p0, p1]), .markApplied, .commit(synchronously: false),
                                                         .reportLiveness])
        XCTAssertEqual(l.phase, .running)
    }

    func testPartitionsAssignedWhilePausedArePausedToo() {
        var l = loop()
        _ = l.handle(at(0, pending: 5000))
        _ = l.handle(.roomWaitEnded(room: false))
        let p2 = TopicPartition("reports", 2)
        XCTAssertEqual(l.handle(.assigned([p2])), [.pause([p2])])
        XCTAssertEqual(l.handle(at(100, pending: 0)).first { if case .resume = $0 { true } else { false } }, .resume([p0, p1, p2]))
    }

    /// A revoke gives back what no worker started, waits for what they are applying, marks it;
    /// the consumer commits those marks before it releases the partitions.
    func testARevokeDiscardsWaitsThenMarksInThatOrder() {
        var l = loop()
        XCTAssertEqual(l.handle(.revoked([p1])), [.discardPending([p1]), .abandonRetries([p1]), .awaitBatchesInProgress([p1]), .markApplied])
        XCTAssertEqual(l.assignment, [p0])
        _ = l.handle(at(0, pending: 5000))
        XCTAssertEqual(l.handle(.roomWaitEnded(room: false)).first, .pause([p0]), "a revoked partition is not paused")
    }

    /// A stop while a batch is retrying (the database is down): unstarted reports go back, then
    /// retries are abandoned, so waiting for batches in progress ends; then mark, commit
    /// synchronously, leave.
    func testAStopAbandonsRetriesThenFinishesCommitsAndLeaves() {
        var l = loop()
        _ = l.handle(at(0))
        XCTAssertEqual(l.handle(.stopRequested), [.discardPending(nil), .abandonRetries(nil), .awaitBatchesInProgress(nil), .markApplied,
                                                 .commit(synchronously: true), .close])
        XCTAssertEqual(l.phase, .stopped)
        XCTAssertEqual(l.handle(at(100)), [], "a stopped loop does nothing more")
        XCTAssertEqual(l.handle(.stopRequested), [], "a second stop is not a second drain")
    }
}
