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

final class ConsumerStatisticsTests: XCTestCase {
    func testParsesLagOfFetchedPartitionsAndSkipsTheUnassignedPseudoPartition() {
        let json = """
        {"name":"c","topics":{"orders":{"topic":"orders","partitions":{
          "0":{"partition":0,"fetch_state":"active","consumer_lag":6,"hi_offset":10,"committed_offset":4},
          "1":{"partition":1,"fetch_state":"none","consumer_lag":-1,"hi_offset":-1,"committed_offset":-1001},
          "-1":{"partition":-1,"fetch_state":"none","consumer_lag":-1,"hi_offset":-1,"committed_offset":-1001}}}}}
        """
        let stats = ConsumerStatistics.parse(Array(json.utf8))
        XCTAssertEqual(stats, [PartitionStatistics(topicPartition: TopicPartition("orders", 0), consumerLag: 6,
                                                   highWatermark: 10, committedOffset: 4)])
    }

    func testGarbageGivesNoFigures() {
        XCTAssertEqual(ConsumerStatistics.parse(Array("not json".utf8)), [])
    }
}

final class KafkaConfigTests: XCTestCase {
    func testOverrideSplitsAtTheFirstEqualsSign() throws {
        var config = KafkaConfig()
        try config.apply(override: "sasl.jaas.config=a=b")
        XCTAssertEqual(config["sasl.jaas.config"], "a=b")
    }

    func testOverrideWithoutKeyOrEqualsIsRejected() {
        var config = KafkaConfig()
        XCTAssertThrowsError(try config.apply(override: "novalue"))
        XCTAssertThrowsError(try config.apply(override: "=x"))
    }

    func testLaterSettingsWin() {
        let merged = KafkaConfig(["acks": "1"]).merging(KafkaConfig(["acks": "all"]))
        XCTAssertEqual(merged["acks"], "all")
        XCTAssertEqual(merged.properties.count, 1)
    }
}
