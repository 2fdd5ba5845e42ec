import Foundation
import Kafka
import Synchronization
import TestSupport
import XCTest

/// The consumer and producer against a real Kafka-protocol broker (Tansu) over TCP.
final class TansuConsumerTests: XCTestCase {
    private var brokers = ""
    private var admin: KafkaAdmin!
    private var producer: KafkaProducer!

    override func setUpWithError() throws {
        brokers = try TestEnvironment.brokers
        admin = try KafkaAdmin(config: TestEnvironment.producerConfig(brokers: brokers))
        producer = try KafkaProducer(config: TestEnvironment.producerConfig(brokers: brokers))
    }

    override func tearDownWithError() throws {
        try producer?.close()
    }

    private func makeTopic(partitions: Int = 1) throws -> String {
        let topic = TestEnvironment.unique("t")
        try admin.createTopics([(topic, partitions)])
        return topic
    }

    func testRoundTripCarriesKeyValueHeadersAndTimestamp() throws {
        let topic = try makeTopic()
        let sent = OutgoingMessage(topic: topic, key: "job-1", value: #"{"status":"success"}"#,
                                   headers: [KafkaHeader("request-id", "r-42"), KafkaHeader("empty", nil)])
        let before = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        let delivery = try producer.sendAndWait([sent])
        XCTAssertEqual(try delivery[0].get().topic, topic)

        let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: TestEnvironment.unique("g")))
        try consumer.subscribe([topic])
        let received = try consume(consumer, count: 1)
        try consumer.close()

        XCTAssertEqual(received.count, 1)
        let message = try XCTUnwrap(received.first)
        XCTAssertEqual(message.keyString, "job-1")
        XCTAssertEqual(message.text, #"{"status":"success"}"#)
        XCTAssertEqual(message.header("request-id")?.stringValue, "r-42")
        XCTAssertEqual(message.header("empty")?.value, nil)
        XCTAssertEqual(message.headers.map(\.name), ["request-id", "empty"])
        XCTAssertEqual(message.offset, try delivery[0].get().offset)
        XCTAssertGreaterThan(try XCTUnwrap(message.timestampMs), before)
    }

    func testRestartResumesExactlyAfterTheCommittedOffset() throws {
        let topic = try makeTopic()
        let group = TestEnvironment.unique("g")
        _ = try produceStrings(producer, topic: topic, (0..<10).map { "m\($0)" })

        let first = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group))
        try first.subscribe([topic])
        let seen = try poll(first, count: 10)
        XCTAssertEqual(seen.count, 10, "the backlog did not arrive")
        guard seen.count == 10 else { return }
        // Only the first four are processed; the rest must come again.
        first.markProcessed(seen[3])
        try first.commit()
        try first.close()

        let committed = try admin.committedOffsets(group: group, partitions: [TopicPartition(topic, 0)])
        XCTAssertEqual(committed[TopicPartition(topic, 0)], 4)

        let second = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group))
        try second.subscribe([topic])
        let resumed = try consume(second, count: 6)
        try second.close()
        XCTAssertEqual(resumed.map(\.offset), Array(4..<10))
        XCTAssertEqual(resumed.map(\.text), (4..<10).map { "m\($0)" })
    }

    func testCommitNeverMovesAnOffsetBackwards() throws {
        let topic = try makeTopic()
        let group = TestEnvironment.unique("g")
        _ = try produceStrings(producer, topic: topic, (0..<5).map { "m\($0)" })
        let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group))
        try consumer.subscribe([topic])
        let messages = try consume(consumer, count: 5)
        try consumer.commit()
        consumer.markProcessed(messages[1])  // late mark for older work: must be ignored
        try consumer.commit()
        try consumer.close()
        let committed = try admin.committedOffsets(group: group, partitions: [TopicPartition(topic, 0)])
        XCTAssertEqual(committed[TopicPartition(topic, 0)], 5)
    }

    func testTwoMembersSplitThePartitionsAndSeeTheRebalance() throws {
        let topic = try makeTopic(partitions: 4)
        let group = TestEnvironment.unique("g")
        let events = Mutex<[String: [RebalanceEvent]]>([:])
        func member(_ name: String) throws -> KafkaConsumer {
            let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group)) { event in
                events.withLock { $0[name, default: []].append(event) }
            }
            try consumer.subscribe([topic])
            return consumer
        }
        let a = try member("a")
        XCTAssertTrue(try pollUntil(a) { a.assignment.count == 4 }, "first member never got all partitions")

        let b = try member("b"), bView = b.view
        // Both must poll for the rebalance to complete; b polls on its own thread, and only
        // there until that thread has finished (the consumer is confined to one thread).
        let stop = Latch<Void>()
        let bErrors = ErrorLog()
        nonisolated(unsafe) let polledElsewhere = b
        let bThread = Thread {
            while !stop.isOpen {
                do { _ = try polledElsewhere.poll(maxMessages: 10, timeoutMs: 100) } catch { bErrors.errors.withLock { $0.append("\(error)") } }
            }
        }
        bThread.start()
        let split = try pollUntil(a, timeout: 40) { a.assignment.count > 0 && a.assignment.count < 4 && bView.assignment.count + a.assignment.count == 4 }
        stop.open()
        XCTAssertTrue(eventually(timeout: 10) { bThread.isFinished }, "b's poll thread did not stop")
        XCTAssertEqual(bErrors.errors.withLock { $0 }, [], "b's polls failed")

        XCTAssertTrue(split, "partitions were not split: a=\(a.assignment) b=\(b.assignment)")
        XCTAssertTrue(a.assignment.isDisjoint(with: b.assignment))
        XCTAssertEqual(a.assignment.union(b.assignment), Set((0..<4).map { TopicPartition(topic, Int32($0)) }))
        let aEvents = events.withLock { $0["a"] ?? [] }
        XCTAssertTrue(aEvents.contains { if case .revoked = $0 { true } else { false } }, "a saw no revoke: \(aEvents)")
        XCTAssertTrue(events.withLock { $0["b"] ?? [] }.contains { if case .assigned(let p) = $0 { !p.isEmpty } else { false } })
        try b.close()
        try a.close()
    }

    func testPausedPartitionDeliversNothingUntilResumed() throws {
        let topic = try makeTopic()
        let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: TestEnvironment.unique("g")))
        try consumer.subscribe([topic])
        let tp = TopicPartition(topic, 0)
        XCTAssertTrue(try pollUntil(consumer) { consumer.assignment.contains(tp) })
        try consumer.pause([tp])
        _ = try produceStrings(producer, topic: topic, ["a", "b", "c"])

        var whilePaused: [KafkaMessage] = []
        let until = Date().addingTimeInterval(2)
        while Date() < until { whilePaused += try consumer.poll(maxMessages: 10, timeoutMs: 100) }
        XCTAssertEqual(whilePaused.count, 0)

        try consumer.resume([tp])
        let afterResume = try consume(consumer, count: 3)
        XCTAssertEqual(afterResume.map(\.offset), [0, 1, 2])
        try consumer.close()
    }

    func testEveryProducedMessageGetsADeliveryReport() throws {
        let topic = try makeTopic(partitions: 3)
        let messages = (0..<500).map { OutgoingMessage(topic: topic, key: "k\($0 % 7)", value: "v\($0)") }
        let results = try producer.sendAndWait(messages)
        let reports = try results.map { try $0.get() }
        XCTAssertEqual(reports.count, 500)
        XCTAssertEqual(Set(reports.map { "\($0.partition):\($0.offset)" }).count, 500, "offsets repeat")
        // The same key always lands on the same partition.
        var partitionOfKey: [String: Int32] = [:]
        for (message, report) in zip(messages, reports) {
            let key = String(decoding: message.key!, as: UTF8.self)
            XCTAssertEqual(partitionOfKey[key, default: report.partition], report.partition)
            partitionOfKey[key] = report.partition
        }
        // outq_len also counts librdkafka's own pending events for a moment after the reports.
        XCTAssertTrue(eventually(timeout: 5) { producer.inFlight == 0 })
    }

    func testCreatingATopicTwiceIsNotAnError() throws {
        let topic = TestEnvironment.unique("t")
        try admin.createTopics([(topic, 3)])
        try admin.createTopics([(topic, 3)])
        XCTAssertEqual(try admin.partitionCount(topic), 3)
        XCTAssertNil(try admin.partitionCount(TestEnvironment.unique("never-created")))
    }

    func testLagIsCachedHighWatermarkMinusCommittedOffset() throws {
        let topic = try makeTopic()
        let group = TestEnvironment.unique("g")
        _ = try produceStrings(producer, topic: topic, (0..<10).map { "m\($0)" })
        let consumer = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group))
        try consumer.subscribe([topic])
        let seen = try poll(consumer, count: 10)
        XCTAssertEqual(seen.count, 10, "the backlog did not arrive")
        guard seen.count == 10 else { return }
        consumer.markProcessed(seen[3])
        try consumer.commit()

        let tp = TopicPartition(topic, 0)
        XCTAssertEqual(consumer.cachedWatermarks(tp)?.high, 10)
        XCTAssertEqual(consumer.committedOffsets[tp], 4)
        XCTAssertEqual(consumer.lag()[tp], 6)
        XCTAssertEqual(try admin.committedOffsets(group: group, partitions: [tp])[tp], 4)
        try consumer.close()

        // A member that takes the partition over (a restart) counts lag from the group's
        // commit at once, not from the low watermark: 6, not 10.
        let next = try KafkaConsumer(config: TestEnvironment.consumerConfig(brokers: brokers, group: group))
        try next.subscribe([topic])
        let redelivered = try poll(next, count: 6)
        XCTAssertEqual(redelivered.first?.offset, 4, "resumes after the commit")
        XCTAssertEqual(next.lag()[tp], 6)
        XCTAssertEqual(next.committedOffsets[tp], 4, "the group's commit, read from the broker")
        try next.close()
    }
}

/// Errors a helper thread met, for the test to assert on.
final class ErrorLog: Sendable {
    let errors = Mutex<[String]>([])
}
