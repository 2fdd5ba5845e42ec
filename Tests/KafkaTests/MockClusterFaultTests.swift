import Foundation
import Kafka
import KafkaMock
import TestSupport
import XCTest

/// Producer behaviour under injected faults, against librdkafka's mock cluster over TCP.
final class MockClusterFaultTests: XCTestCase {
    private var cluster: MockKafkaCluster!
    private var producer: KafkaProducer!
    private let topic = "faults"

    override func setUpWithError() throws {
        cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 1)
        producer = try KafkaProducer(config: KafkaConfig([
            "bootstrap.servers": cluster.bootstrapServers,
            "log_level": "2",
            "retry.backoff.ms": "50",
            "message.timeout.ms": "20000",
        ]))
    }

    override func tearDownWithError() throws {
        try producer?.close(timeoutMs: 5000)
        producer = nil
        cluster = nil
    }

    func testProduceSucceedsOnceADownBrokerComesBack() throws {
        _ = try producer.sendAndWait([OutgoingMessage(topic: topic, key: "warm", value: "up")])
        cluster.setBrokerDown(1)
        let result = ResultBox()
        try producer.send(OutgoingMessage(topic: topic, key: "k", value: "while down")) { result.set($0) }
        Thread.sleep(forTimeInterval: 1.5)
        XCTAssertNil(result.value, "delivered while the only broker was down")
        cluster.setBrokerUp(1)
        XCTAssertTrue(eventually(timeout: 20) { result.value != nil })
        XCTAssertEqual(try result.value?.get().offset, 1)
    }

    func testRetriableProduceErrorsAreRetriedUntilDelivered() throws {
        let notLeader: Int32 = 6  // NOT_LEADER_FOR_PARTITION
        cluster.failNextRequests(apiKey: MockKafkaCluster.produceApiKey, with: [notLeader, notLeader, notLeader])
        let results = try producer.sendAndWait([OutgoingMessage(topic: topic, key: "k", value: "v")])
        XCTAssertEqual(try results[0].get().offset, 0)
    }

    func testNonRetriableProduceErrorReachesTheCallerAsATypedError() throws {
        let invalidRecord: Int32 = 87  // INVALID_RECORD: the broker refuses the message for good
        cluster.failNextRequests(apiKey: MockKafkaCluster.produceApiKey, with: [invalidRecord])
        let results = try producer.sendAndWait([OutgoingMessage(topic: topic, key: "k", value: "v")])
        guard case .failure(let error) = results[0] else { return XCTFail("delivered despite INVALID_RECORD") }
        XCTAssertEqual(error.code, invalidRecord)
        XCTAssertEqual(error.name, "INVALID_RECORD")
        XCTAssertFalse(error.isRetriable)
    }

    func testAFullLocalQueueIsBackPressureNotLoss() throws {
        // Room for ten messages: the other 490 must wait for deliveries, not fail.
        let small = try KafkaProducer(config: KafkaConfig([
            "bootstrap.servers": cluster.bootstrapServers, "log_level": "2", "queue.buffering.max.messages": "10",
        ]))
        let results = try small.sendAndWait((0..<500).map { OutgoingMessage(topic: topic, key: "k", value: "v\($0)") })
        try small.close()
        XCTAssertEqual(try results.map { try $0.get().offset }, (0..<500).map(Int64.init))
    }

    func testUnknownPropertyIsRejectedWithItsName() {
        XCTAssertThrowsError(try KafkaProducer(config: KafkaConfig(["no.such.property": "1"]))) { error in
            XCTAssertTrue("\(error)".contains("no.such.property"), "\(error)")
        }
    }
}

final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: DeliveryResult?
    var value: DeliveryResult? { lock.withLock { stored } }
    func set(_ result: DeliveryResult) { lock.withLock { stored = result } }
}
