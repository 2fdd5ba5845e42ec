@testable import CascadeService
import XCTest

/// Transcripts of the relay's rounds: delete, flush, sweep, wait, finish.
final class RelayScheduleTests: XCTestCase {
    private let t0 = ContinuousClock.now

    private func snapshot(_ ms: Int, sent: Bool = false, settled: Int = 0, inFlight: Int = 0, stopping: Bool = false)
        -> RelaySchedule.Snapshot {
        .init(now: t0 + .milliseconds(ms), sentRows: sent, settledRows: settled, inFlightRows: inFlight, stopping: stopping)
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
}
