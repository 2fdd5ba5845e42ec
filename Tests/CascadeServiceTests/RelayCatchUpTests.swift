import CascadeDomain
@testable import CascadeService
import Kafka
import XCTest

/// The relay's order rule (RelayState): a delivery failure, a hand-off with no room, a start or
/// an assignment make it fall behind; hand-offs are then held in order until a sweep has read
/// the table up to its bound with nothing in flight.
final class RelayCatchUpTests: XCTestCase {
    private func row(_ id: Int64, messages: Int = 2) -> OutboxBatch {
        OutboxBatch(id: id, messages: (0..<messages).map { OutboxMessage(topic: "t", key: Array("k\($0)".utf8), value: [UInt8(id)]) })
    }

    /// A relay that has caught up with an empty table.
    private func live() -> RelayState {
        var state = RelayState()
        state.setBound(0, readAfter: state.changes)
        XCTAssertTrue(state.catchUp(ifUnchangedSince: state.changes))
        return state
    }

    func testARelayStartsBehindAndGoesLiveOnceASweepHasReadTheTable() {
        var state = RelayState()
        XCTAssertTrue(state.catchingUp, "rows a stopped member left go out before anything new")
        XCTAssertFalse(state.purgeDue, "nothing failed: nothing to purge")
        state.handOff([row(1)], capacity: 100)
        XCTAssertTrue(state.takeHandedOff().isEmpty)
        XCTAssertTrue(state.catchUp(ifUnchangedSince: state.changes))
        XCTAssertEqual(state.takeHandedOff().map(\.id), [1], "the held row goes out first")
    }

    func testLiveHandOffsAreTakenInOrderAndOnce() {
        var state = live()
        state.handOff([row(1), row(2)], capacity: 100)
        state.handOff([row(3)], capacity: 100)
        XCTAssertEqual(state.takeHandedOff().map(\.id), [1, 2, 3])
        XCTAssertTrue(state.takeHandedOff().isEmpty)
        XCTAssertFalse(state.catchingUp)
    }

    func testAFailedDeliveryFallsBehindAndAsksForAPurge() {
        var state = live()
        XCTAssertTrue(state.beginSending(row(1)))
        state.handOff([row(2)], capacity: 100)
        state.record(.delivered, row: 1, position: 0)
        XCTAssertFalse(state.catchingUp)
        state.record(.failed, row: 1, position: 1)
        XCTAssertTrue(state.catchingUp)
        XCTAssertTrue(state.purgeDue)
        XCTAssertEqual(state.failedDeliveries, 1)
        XCTAssertTrue(state.takeHandedOff().isEmpty, "nothing newer is sent while row 1 waits in the table")
        XCTAssertEqual(state.held.map(\.id), [2], "what was handed over is held")
        XCTAssertTrue(state.settled.isEmpty, "the failed row is kept for the sweep")
        XCTAssertTrue(state.inFlight.isEmpty)
    }

    func testAnAssignmentFallsBehindWithoutPurging() {
        var state = live()
        state.fallBehind(purge: false)
        XCTAssertTrue(state.catchingUp)
        XCTAssertFalse(state.purgeDue, "deliveries in flight are fine; they are waited for")
    }

    func testARefusalForGoodDoesNotFallBehind() {
        var state = live()
        XCTAssertTrue(state.beginSending(row(1, messages: 1)))
        state.record(.refused(KafkaError(code: 10, name: "MSG_SIZE_TOO_LARGE", message: "too large", isRetriable: false, isFatal: false)),
                     row: 1, position: 0)
        XCTAssertFalse(state.catchingUp, "a parked message holds nothing back")
        XCTAssertEqual(state.settled.map(\.id), [1])
    }

    func testAHandOffWithNoRoomFallsBehindAndIsDroppedToTheTable() {
        var state = live()
        let before = state.changes
        state.handOff([row(1), row(2), row(3)], capacity: 4)
        XCTAssertTrue(state.catchingUp)
        XCTAssertEqual(state.changes, before + 1, "one dropped")
        XCTAssertEqual(state.held.map(\.id), [1, 2], "the rows that fitted are held, not sent")
        state.setBound(3, readAfter: state.changes)
        state.handOff([row(9, messages: 1)], capacity: 4)
        XCTAssertEqual(state.catchUpBound, 9, "a row dropped while catching up raises the bound")
    }

    func testRowsTakenButNotYetSentAreHeldAheadOfNewerOnes() {
        var state = live()
        state.handOff([row(1), row(2), row(3)], capacity: 100)
        let taken = state.takeHandedOff()
        XCTAssertTrue(state.beginSending(taken[0]))
        state.record(.failed, row: 1, position: 0)  // reported on the producer's thread meanwhile
        state.handOff([row(4)], capacity: 100)
        XCTAssertFalse(state.beginSending(taken[1]))
        state.holdUnsent(taken[1...])
        XCTAssertEqual(state.held.map(\.id), [2, 3, 4])
        XCTAssertEqual(Array(state.inFlight.keys), [1])
    }

    /// A sweep that began before a drop, a reset bound, or with rows still in flight has not
    /// caught up.
    func testCatchingUpIsRefusedAfterAChangeOrWithRowsInFlight() {
        var state = live()
        XCTAssertTrue(state.beginSending(row(1)))
        state.fallBehind(purge: false)
        XCTAssertFalse(state.catchUp(ifUnchangedSince: state.changes), "row 1 may yet fail and be overtaken")
        state.record(.delivered, row: 1, position: 0)
        state.record(.delivered, row: 1, position: 1)

        let sweepBegan = state.changes
        state.handOff([row(7, messages: 200)], capacity: 100)  // no room: its row waits in the table
        XCTAssertFalse(state.catchUp(ifUnchangedSince: sweepBegan), "row 7 may be missing from what that sweep read")
        let nextSweep = state.changes
        state.fallBehind(purge: false)  // another assignment: the bound is read again
        XCTAssertNil(state.catchUpBound)
        XCTAssertFalse(state.catchUp(ifUnchangedSince: nextSweep))
        state.setBound(5, readAfter: nextSweep)
        XCTAssertNil(state.catchUpBound, "a bound read before the reset is stale")
        XCTAssertTrue(state.catchUp(ifUnchangedSince: state.changes))
        XCTAssertFalse(state.catchingUp)
        XCTAssertFalse(state.catchUp(ifUnchangedSince: state.changes), "a live relay has nothing to catch up")
    }

    func testRowsTheSweepClaimedAreNeitherHeldNorSentAgain() {
        var state = live()
        state.fallBehind()
        state.handOff([row(5), row(6)], capacity: 100)
        state.claimed([5, 99])
        XCTAssertEqual(state.held.map(\.id), [6], "a row the sweep claimed is published by it")
        state.handOff([row(99), row(8)], capacity: 100)  // 99's hand-off came after the sweep claimed it
        XCTAssertEqual(state.held.map(\.id), [6, 8])
        XCTAssertTrue(state.catchUp(ifUnchangedSince: state.changes))
        XCTAssertEqual(state.takeHandedOff().map(\.id), [6, 8])
        XCTAssertTrue(state.held.isEmpty)
    }

    func testTheHeldRowsRoomIsFreedByWhatTheSweepClaims() {
        var state = RelayState()
        state.handOff([row(1), row(2)], capacity: 4)
        let before = state.changes
        state.handOff([row(3)], capacity: 4)
        XCTAssertEqual(state.changes, before + 1, "dropped")
        state.claimed([1])
        state.handOff([row(4)], capacity: 4)
        XCTAssertEqual(state.held.map(\.id), [2, 4])
    }
}
