import Foundation
import Kafka

/// Consumes until `count` messages arrived or `timeout` passed, marking each processed.
public func consume(_ consumer: KafkaConsumer, count: Int, timeout: TimeInterval = 30) throws -> [KafkaMessage] {
    var received: [KafkaMessage] = []
    let deadline = Date().addingTimeInterval(timeout)
    while received.count < count && Date() < deadline {
        for message in try consumer.poll(maxMessages: count - received.count, timeoutMs: 200) {
            consumer.markProcessed(message)
            received.append(message)
        }
    }
    return received
}

/// Polls until `count` messages arrived or `timeout` passed, marking nothing.
public func poll(_ consumer: KafkaConsumer, count: Int, timeout: TimeInterval = 30) throws -> [KafkaMessage] {
    var received: [KafkaMessage] = []
    let deadline = Date().addingTimeInterval(timeout)
    while received.count < count && Date() < deadline {
        received += try consumer.poll(maxMessages: count - received.count, timeoutMs: 200)
    }
    return received
}

/// Polls (serving rebalance callbacks) until `condition` holds or `timeout` passes.
public func pollUntil(_ consumer: KafkaConsumer, timeout: TimeInterval = 30, _ condition: () -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
        if Date() >= deadline { return false }
        _ = try consumer.poll(maxMessages: 100, timeoutMs: 100)
    }
    return true
}

public func produceStrings(_ producer: KafkaProducer, topic: String, _ values: [String], key: String? = nil,
                           partition: Int32? = nil) throws -> [DeliveryResult] {
    try producer.sendAndWait(values.map { OutgoingMessage(topic: topic, key: key, value: $0, partition: partition) })
}

extension KafkaMessage {
    /// The value as UTF-8 text; nil for a null value.
    public var text: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}
