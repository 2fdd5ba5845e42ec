import CascadeDomain
@testable import CascadeService
import Kafka
import XCTest

/// What the relay does with an outbox row once each of its messages has an outcome.
final class RowDispositionTests: XCTestCase {
    private let row = OutboxBatch(id: 7, messages: (0..<3).map { OutboxMessage(topic: "t", key: nil, value: [UInt8($0)]) })
    private let tooLarge = KafkaError(code: 10, name: "MSG_SIZE_TOO_LARGE", message: "too large", isRetriable: false, isFatal: false)

    func testADeliveredRowIsDeletedParkingNothing() {
        XCTAssertEqual(RowDisposition.of(row, outcomes: [.delivered, .delivered, .delivered]), .delete(parking: []))
    }

    func testARefusalParksThatMessageAloneAndTheRowIsDeleted() {
        guard case .delete(let parking) = RowDisposition.of(row, outcomes: [.delivered, .refused(tooLarge), .delivered]) else {
            return XCTFail("a refusal must not keep the row")
        }
        XCTAssertEqual(parking.map(\.position), [1])
        XCTAssertEqual(parking.first?.row, 7)
        XCTAssertEqual(parking.first?.parked.message, row.messages[1])
        XCTAssertEqual(parking.first?.parked.reason, "refused by the broker: MSG_SIZE_TOO_LARGE (10): too large")
    }

    /// Parking now and re-sending the row later would park the refused message twice.
    func testATransientFailureKeepsTheWholeRowAndParksNothing() {
        XCTAssertEqual(RowDisposition.of(row, outcomes: [.refused(tooLarge), .failed, .delivered]), .keep)
    }

    func testTheStateSettlesARowOnlyWhenEveryMessageHasAnOutcome() {
        var state = RelayState()
        XCTAssertTrue(state.catchUp(ifUnchangedSince: state.changes), "live")
        XCTAssertTrue(state.beginSending(row))
        state.record(.delivered, row: 7, position: 0)
        state.record(.refused(tooLarge), row: 7, position: 2)
        XCTAssertTrue(state.settled.isEmpty)
        XCTAssertEqual(state.busyRows, [7], "a sweep leaves it alone while in flight")
        state.record(.delivered, row: 7, position: 0)  // a second report for one message is ignored
        XCTAssertTrue(state.settled.isEmpty)
        state.record(.delivered, row: 7, position: 1)
        XCTAssertEqual(state.settled.map(\.id), [7])
        XCTAssertEqual(state.settled.first?.parking.map(\.position), [2])
        XCTAssertEqual(state.published, 2)
        XCTAssertEqual(state.busyRows, [7], "and until it is deleted")
    }

    func testPermanentRefusalsAreTheOnesSendingAgainCannotFix() {
        func error(_ code: Int32, retriable: Bool = false) -> KafkaError {
            KafkaError(code: code, name: "\(code)", message: "", isRetriable: retriable, isFatal: false)
        }
        for code: Int32 in [10, 18, 87, 29, -188] { XCTAssertTrue(error(code).isPermanentRefusal, "\(code)") }
        // Cluster authorization stops every message of an idempotent producer: not this one's fault.
        for code: Int32 in [-195, -185, -192, 3, 7, -1, 31] { XCTAssertFalse(error(code).isPermanentRefusal, "\(code)") }
        XCTAssertFalse(error(10, retriable: true).isPermanentRefusal, "librdkafka's own verdict wins")
    }
}
