import Kafka
import XCTest

final class OffsetLedgerTests: XCTestCase {
    private let p0 = TopicPartition("t", 0)
    private let p1 = TopicPartition("t", 1)

    func testOnlyMarkedOffsetsArePendingAsNextOffset() {
        var ledger = OffsetLedger()
        ledger.assign([p0, p1])
        XCTAssertTrue(ledger.pendingCommits().isEmpty)
        ledger.markProcessed(p0, offset: 9)
        XCTAssertEqual(ledger.pendingCommits().map(\.0), [p0])
        XCTAssertEqual(ledger.pendingCommits().map(\.1), [10])
    }

    func testAMarkBehindTheCurrentOneIsIgnored() {
        var ledger = OffsetLedger()
        ledger.assign([p0])
        XCTAssertTrue(ledger.markProcessed(p0, offset: 9))
        XCTAssertFalse(ledger.markProcessed(p0, offset: 4))
        XCTAssertEqual(ledger.marked[p0], 10)
    }

    func testAMarkBehindTheAcknowledgedCommitIsIgnored() {
        var ledger = OffsetLedger()
        ledger.assign([p0])
        ledger.markProcessed(p0, offset: 9)
        ledger.acknowledge(p0, offset: 10)
        XCTAssertTrue(ledger.pendingCommits().isEmpty)
        XCTAssertFalse(ledger.markProcessed(p0, offset: 3))
        XCTAssertTrue(ledger.pendingCommits().isEmpty)
    }

    func testMarksForPartitionsNotAssignedAreIgnored() {
        var ledger = OffsetLedger()
        XCTAssertFalse(ledger.markProcessed(p0, offset: 1))
        XCTAssertTrue(ledger.pendingCommits().isEmpty)
    }

    func testRevokeForgetsThePartitionEntirely() {
        var ledger = OffsetLedger()
        ledger.assign([p0, p1])
        ledger.markProcessed(p0, offset: 1)
        ledger.markProcessed(p1, offset: 1)
        ledger.revoke([p0])
        XCTAssertEqual(ledger.assigned, [p1])
        XCTAssertEqual(ledger.pendingCommits().map(\.0), [p1])
        XCTAssertFalse(ledger.markProcessed(p0, offset: 5))
    }

    func testPendingCommitsCanBeLimitedToRevokedPartitions() {
        var ledger = OffsetLedger()
        ledger.assign([p0, p1])
        ledger.markProcessed(p0, offset: 1)
        ledger.markProcessed(p1, offset: 2)
        XCTAssertEqual(ledger.pendingCommits(in: [p1]).map(\.1), [3])
    }
}
