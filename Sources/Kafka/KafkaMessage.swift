import CRdKafka

public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

public struct KafkaHeader: Hashable, Sendable {
    public let name: String
    /// nil for a header sent with a null value.
    public let value: [UInt8]?
    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    public init(_ name: String, _ value: String) {
        self.init(name, Array(value.utf8))
    }
    public var stringValue: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

/// A consumed record, copied out of librdkafka so that the C message can be destroyed at once
/// (holding an `rd_kafka_message_t` pins its whole fetch buffer).
public struct KafkaMessage: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    /// nil for a null value (a tombstone).
    public let value: [UInt8]?
    public let headers: [KafkaHeader]
    /// Milliseconds since the epoch, or nil when the broker gave none.
    public let timestampMs: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader], timestampMs: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    public func header(_ name: String) -> KafkaHeader? { headers.last { $0.name == name } }

    /// `topic` is the name of `m`'s topic, decoded by the caller once for a run of messages.
    init(copying m: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let msg = m.pointee
        self.topic = topic
        partition = msg.partition
        offset = msg.offset
        key = msg.key.map { Array(UnsafeRawBufferPointer(start: $0, count: msg.key_len)) }
        value = msg.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: msg.len)) }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tsType)
        timestampMs = tsType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts
        headers = KafkaMessage.copyHeaders(m)
    }

    private static func copyHeaders(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var hdrs: OpaquePointer?
        guard rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs else { return [] }
        var copied: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            copied.append(KafkaHeader(String(cString: name!), bytes))
            index += 1
        }
        return copied
    }
}

/// Something to produce. `partition` nil lets the partitioner pick from the key.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var key: [UInt8]?
    /// nil produces a null value (a tombstone).
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    public var partition: Int32?

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }

    public init(topic: String, key: String?, value: String, headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8),
                  headers: headers, partition: partition)
    }
}
