import CascadeDomain
@testable import CascadeService
import Foundation
import Kafka
import Postgres
import TestSupport
import XCTest

/// The relay on its own, against librdkafka's mock cluster (which can refuse a produce) and a
/// private database (whose outbox no other test writes to).
final class OutboxRelayTests: XCTestCase {
    private var cluster: MockKafkaCluster!
    private var database: PrivateDatabase!
    private var db: PostgresConnection!
    private let topic = "relay-\(UUID().uuidString.prefix(8).lowercased())"

    override func setUpWithError() throws {
        cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 1)
        database = try PrivateDatabase("relay")
        db = try PostgresConnection(url: database.url)
        try Migrator.migrate(db)
    }

    override func tearDownWithError() throws {
        db = nil
        database?.drop()
        cluster = nil
    }

    private func commitRow(_ messages: [OutboxMessage]) throws -> OutboxBatch {
        let id = try db.pipeline([OutboxStore.insertStatement(messages)])[0].first!.int("id")
        return OutboxBatch(id: id, messages: messages)
    }

    private func startRelay() throws -> (OutboxRelay, KafkaProducer) {
        let producer = try KafkaProducer(config: TestEnvironment.producerConfig(brokers: cluster.bootstrapServers))
        let relay = OutboxRelay(settings: ServiceSettings(brokers: cluster.bootstrapServers, databaseURL: database.url), producer: producer)
        relay.start()
        return (relay, producer)
    }

    private func readTopic(count: Int) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: cluster.bootstrapServers,
                                                                                group: TestEnvironment.unique("reader")))
        defer { try? consumer.close() }
        try consumer.subscribe([topic])
        var read: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(20)
        while read.count < count && Date() < deadline { read += try consumer.poll(maxMessages: 100, timeoutMs: 200) }
        Thread.sleep(forTimeInterval: 0.5)
        read += try consumer.poll(maxMessages: 100, timeoutMs: 200)  // anything beyond `count` is a defect
        return read
    }

    private func outboxRows() throws -> Int64 { try db.query("SELECT count(*) AS n FROM outbox").first!.int("n") }

    private var messages: [OutboxMessage] {
        (1...3).map { OutboxMessage(topic: topic, key: Array("job-\($0)".utf8), value: Array(#"{"n":\#($0)}"#.utf8),
                                    headers: [OutboxHeader("event-id", "e\($0)")]) }
    }

    /// The common path: a committed row handed over in memory is published in order and deleted.
    func testAHandedOverRowIsPublishedInOrderThenDeleted() throws {
        let row = try commitRow(messages)
        let (relay, producer) = try startRelay()
        defer { relay.stop(); try? producer.close() }
        relay.handOff([row])

        let read = try readTopic(count: 3)
        XCTAssertEqual(read.map(\.value), messages.map(\.value))
        XCTAssertEqual(read.map { $0.header("event-id")?.stringValue }, ["e1", "e2", "e3"])
        XCTAssertTrue(eventually(timeout: 5) { (try? self.outboxRows()) == 0 }, "a delivered row is deleted")
        XCTAssertEqual(relay.publishedCount, 3)
    }

    /// The broker refuses the row's messages for good: the row stays, and the sweep publishes
    /// it once it is older than the hand-off window. Nothing is lost, and nothing is published
    /// that the broker had refused.
    func testARefusedRowStaysAndTheSweepPublishesIt() throws {
        let invalidRecord: Int32 = 87
        cluster.failNextRequests(apiKey: MockKafkaCluster.produceApiKey, with: [invalidRecord])
        let row = try commitRow(messages)
        let (relay, producer) = try startRelay()
        defer { relay.stop(); try? producer.close() }
        relay.handOff([row])

        XCTAssertTrue(eventually(timeout: 10) { relay.failedDeliveryCount == 3 }, "the refusal reaches the relay")
        XCTAssertEqual(try outboxRows(), 1, "a refused row stays in the table")
        XCTAssertTrue(eventually(timeout: OutboxRelay.sweepAgeSeconds + 15) { (try? self.outboxRows()) == 0 },
                      "the sweep publishes and deletes it")
        let read = try readTopic(count: 3)
        XCTAssertEqual(read.map(\.value), messages.map(\.value), "each message once: the refused attempt never reached the log")
        XCTAssertEqual(relay.publishedCount, 3)
    }
}
