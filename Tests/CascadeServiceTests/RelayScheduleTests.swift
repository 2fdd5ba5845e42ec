@testable import CascadeService
import XCTest

/// Transcripts of the relay's rounds: delete, flush, sweep, wait, finish.
final class RelayScheduleTests: XCTestCase {
    private let t0 = ContinuousClock.now

    private func snapshot(_ ms: Int, sent: Bool = false, settled: Int = 0, inFlight: Int = 0, stopping: Bool = false,
                          catchingUp: Bool = false) -> RelaySchedule.Snapshot {
        .init(now: t0 + .milliseconds(ms), sentRows: sent, settledRows: settled, inFlightRows: inFlight, stopping: stopping,
              catchingUp: catchingUp)
    }

    func testTheFirstRoundSweepsThenWaitsForAHandOff() {
        var s = RelaySchedule(now: t0)
        XCTAssertEqual(s.next(snapshot(0)), .sweep)
        s.swept(at: t0, claimed: 0, settled: 0, stopping: false)
        XCTAssertEqual(s.next(snapshot(10)), .wait(.seconds(1)))
        XCTAssertEqual(s.next(snapshot(20, sent: true)), .wait(.zero), "rows just sent: go round again at once")
        XCTAssertEqual(s.next(snapshot(1000)), .sweep, "a sweep a second")
    }

    func testSettledRowsAreDeletedInBulkOrAfterALinger() {
        var s = RelaySchedule(now: t0)
        s.swept(at: t0, claimed: 0, settled: 0, stopping: false)
        XCTAssertEqual(s.next(snapshot(10, settled: 3)), .wait(.milliseconds(50)), "a few: wait for more")
        XCTAssertEqual(s.next(snapshot(20, settled: RelaySchedule.deleteBatch)), .delete, "a bulk's worth: at once")
        s.deleted(at: t0 + .milliseconds(20))
        XCTAssertEqual(s.next(snapshot(40, settled: 1)), .wait(.milliseconds(50)))
        XCTAssertEqual(s.next(snapshot(70, settled: 1)), .delete, "the linger passed")
    }

    func testAFullPageSettledAsksForTheNextAtOnceButRowsKeptDoNot() {
        var s = RelaySchedule(now: t0)
        s.swept(at: t0, claimed: RelaySchedule.sweepRowLimit, settled: RelaySchedule.sweepRowLimit, stopping: false)
        XCTAssertEqual(s.next(snapshot(1)), .sweep)
        s.swept(at: t0, claimed: RelaySchedule.sweepRowLimit, settled: 3, stopping: false)
        XCTAssertEqual(s.next(snapshot(2)), .wait(.seconds(1)), "kept rows would only be re-sent")
    }

    /// Stopping: delete what is settled, wait for deliveries outstanding, sweep once, finish.
    func testTheStopOrderIsDeleteFlushSweepFinish() {
        var s = RelaySchedule(now: t0)
        XCTAssertEqual(s.next(snapshot(0, settled: 1, inFlight: 2, stopping: true)), .delete)
        s.deleted(at: t0)
        XCTAssertEqual(s.next(snapshot(1, inFlight: 2, stopping: true)), .flush)
        XCTAssertEqual(s.next(snapshot(2, stopping: true)), .sweep)
        s.swept(at: t0, claimed: 2, settled: 2, stopping: true)
        XCTAssertEqual(s.next(snapshot(3, stopping: true)), .finish)
    }

    /// Catching up: wait out the deliveries in flight, then sweep page after page while pages
    /// publish, pause briefly on an empty page, and a second after failed deliveries.
    func testCatchingUpSweepsBackToBackOnceNothingIsInFlight() {
        var s = RelaySchedule(now: t0)
        s.swept(at: t0, claimed: 0, settled: 0, stopping: false)
        XCTAssertEqual(s.next(snapshot(10, inFlight: 3, catchingUp: true)), .wait(RelaySchedule.catchUpPause),
                       "a row still in flight may fail and must be swept before anything newer")
        XCTAssertEqual(s.next(snapshot(30, catchingUp: true)), .sweep, "not the live sweep's second")
        s.swept(at: t0 + .milliseconds(30), claimed: 5, settled: 5, stopping: false)
        XCTAssertEqual(s.next(snapshot(31, catchingUp: true)), .sweep, "a page published: the next at once")
        s.swept(at: t0 + .milliseconds(31), claimed: 0, settled: 0, stopping: false)
        XCTAssertEqual(s.next(snapshot(41, catchingUp: true)), .wait(.milliseconds(10)))
        XCTAssertEqual(s.next(snapshot(51, catchingUp: true)), .sweep)
        s.swept(at: t0 + .milliseconds(51), claimed: 4, settled: 1, stopping: false)
        XCTAssertEqual(s.next(snapshot(60, catchingUp: true)), .wait(.milliseconds(991)), "the broker is away: a second")
        XCTAssertEqual(s.next(snapshot(60, settled: RelaySchedule.deleteBatch, catchingUp: true)), .delete)
    }

    func testStoppingWhileCatchingUpSweepsOnceAndFinishes() {
        var s = RelaySchedule(now: t0)
        XCTAssertEqual(s.next(snapshot(0, stopping: true, catchingUp: true)), .sweep)
        s.swept(at: t0, claimed: 3, settled: 0, stopping: true)
        XCTAssertEqual(s.next(snapshot(1, stopping: true, catchingUp: true)), .finish, "what is left waits for the next start")
    }
}
