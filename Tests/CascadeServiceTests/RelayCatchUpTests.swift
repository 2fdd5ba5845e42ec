import CascadeDomain
@testable import CascadeService
import Kafka
import XCTest

/// The relay's order rule (RelayState): a delivery failure or a hand-off with no room makes it
/// fall behind; hand-offs are then held in order until a sweep has read the table to its end.
final class RelayCatchUpTests: XCTestCase {
    private func row(_ id: Int64, messages: Int = 2) -> OutboxBatch {
        OutboxBatch(id: id, messages: (0..<messages).map { OutboxMessage(topic: "t", key: Array("k\($0)".utf8), value: [UInt8(id)]) })
    }

    func testLiveHandOffsAreTakenInOrderAndOnce() {
        var state = RelayState()
        state.handOff([row(1), row(2)], capacity: 100)
        state.handOff([row(3)], capacity: 100)
        XCTAssertEqual(state.takeHandedOff().map(\.id), [1, 2, 3])
        XCTAssertTrue(state.takeHandedOff().isEmpty)
        XCTAssertFalse(state.catchingUp)
    }

    func testAFailedDeliveryFallsBehindAndAsksForOnePurge() {
        var state = RelayState()
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
        state.purgeDue = false
        state.record(.failed, row: 1, position: 1)
        state.fallBehind()
        XCTAssertFalse(state.purgeDue, "falling behind again while behind changes nothing")
    }

    func testARefusalForGoodDoesNotFallBehind() {
        var state = RelayState()
        XCTAssertTrue(state.beginSending(row(1, messages: 1)))
        state.record(.refused(KafkaError(code: 10, name: "MSG_SIZE_TOO_LARGE", message: "too large", isRetriable: false, isFatal: false)), row: 1, position: 0)
        XCTAssertFalse(state.catchingUp, "a parked message holds nothing back")
        XCTAssertEqual(state.settled.map(\.id), [1])
    }

    func testAHandOffWithNoRoomFallsBehindAndIsDroppedToTheTable() {
        var state = RelayState()
        state.handOff([row(1), row(2), row(3)], capacity: 4)
        XCTAssertTrue(state.catchingUp)
        XCTAssertEqual(state.dropped, 1)
        XCTAssertEqual(state.held.map(\.id), [1, 2], "the rows that fitted are held, not sent")
        state.handOff([row(4, messages: 1)], capacity: 4)
        XCTAssertEqual(state.dropped, 2, "the held rows use up the room")
    }

    func testRowsTakenButNotYetSentAreHeldAheadOfNewerOnes() {
        var state = RelayState()
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

    func testCatchingUpEndsWithTheHeldRowsFirstUnlessAHandOffWasDroppedDuringTheSweep() {
        var state = RelayState()
        state.fallBehind()
        state.handOff([row(5), row(6)], capacity: 100)
        let droppedBefore = state.dropped
        state.handOff([row(7, messages: 200)], capacity: 100)  // no room: its row waits in the table
        XCTAssertFalse(state.catchUp(droppedBeforeSweep: droppedBefore), "row 7 may be missing from what that sweep read")
        XCTAssertTrue(state.catchingUp)

        state.claimed([5, 99])
        XCTAssertEqual(state.held.map(\.id), [6], "a row the sweep claimed is published by it, not sent again")
        state.handOff([row(8)], capacity: 100)
        XCTAssertTrue(state.catchUp(droppedBeforeSweep: state.dropped))
        XCTAssertFalse(state.catchingUp)
        XCTAssertEqual(state.takeHandedOff().map(\.id), [6, 8])
        XCTAssertTrue(state.held.isEmpty)
        XCTAssertFalse(state.catchUp(droppedBeforeSweep: state.dropped), "a live relay has nothing to catch up")
    }

    func testTheHeldRowsRoomIsFreedByWhatTheSweepClaims() {
        var state = RelayState()
        state.fallBehind()
        state.handOff([row(1), row(2)], capacity: 4)
        state.handOff([row(3)], capacity: 4)
        XCTAssertEqual(state.dropped, 1)
        state.claimed([1])
        state.handOff([row(4)], capacity: 4)
        XCTAssertEqual(state.held.map(\.id), [2, 4])
    }
}
