import CRdKafka
import Foundation

/// A consumer group as the broker describes it: its state and its members' assignments.
public struct ConsumerGroupDescription: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public let memberId: String
        public let clientId: String
        public let host: String
        public let assignment: [TopicPartition]
        public init(memberId: String, clientId: String, host: String, assignment: [TopicPartition]) {
            self.memberId = memberId
            self.clientId = clientId
            self.host = host
            self.assignment = assignment
        }
    }
    public let state: String
    public let members: [Member]

    public init(state: String, members: [Member]) {
        self.state = state
        self.members = members
    }

    /// Who owns a partition now, if anyone.
    public func owner(of tp: TopicPartition) -> Member? { members.first { $0.assignment.contains(tp) } }
}

/// What `cascade lag` needs besides committed offsets: watermarks, the group's members, and
/// the timestamp of the next report a group would read. None of it joins the group.
extension KafkaAdmin {
    /// The partition's low and high watermarks, asked of its leader.
    public func watermarks(_ tp: TopicPartition, timeoutMs: Int = 5_000) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = -1, high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, Int32(clamping: timeoutMs))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "watermarks of \(tp)") }
        return (low, high)
    }

    /// DescribeConsumerGroups for one group (an unknown group comes back empty, state "Dead").
    public func describeGroup(_ group: String, timeoutMs: Int = 10_000) throws(KafkaError) -> ConsumerGroupDescription {
        let event = try request(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, "describe group \(group)", timeoutMs: timeoutMs) { options, queue in
            group.withCString { name in
                var names: [UnsafePointer<CChar>?] = [name]
                rd_kafka_DescribeConsumerGroups(handle, &names, 1, options, queue)
            }
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_DescribeConsumerGroups_result(event),
              let groups = rd_kafka_DescribeConsumerGroups_result_groups(result, &count), count > 0, let description = groups[0] else {
            throw .invalidArgument("the broker described no group \(group)")
        }
        if let error = rd_kafka_ConsumerGroupDescription_error(description) {
            throw KafkaError(rd_kafka_error_code(error), context: "describe group \(group): \(String(cString: rd_kafka_error_string(error)))")
        }
        let state = String(cString: rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(description)))
        let members = (0..<rd_kafka_ConsumerGroupDescription_member_count(description)).compactMap { i -> ConsumerGroupDescription.Member? in
            guard let m = rd_kafka_ConsumerGroupDescription_member(description, i) else { return nil }
            let partitions = rd_kafka_MemberDescription_assignment(m).flatMap { rd_kafka_MemberAssignment_partitions($0) }
            return .init(memberId: String(cString: rd_kafka_MemberDescription_consumer_id(m)),
                         clientId: String(cString: rd_kafka_MemberDescription_client_id(m)),
                         host: String(cString: rd_kafka_MemberDescription_host(m)),
                         assignment: partitions.map { TopicPartitionList.entries($0).map(\.topicPartition) } ?? [])
        }
        return ConsumerGroupDescription(state: state, members: members)
    }

    /// The timestamp (ms since the epoch) of the message at each given offset, read with a
    /// throwaway consumer that is assigned, never subscribed, so no group notices it and it
    /// commits nothing. A partition whose message does not arrive within `timeoutMs` is absent.
    public func timestamps(at positions: [TopicPartition: Int64], timeoutMs: Int = 5_000) throws(KafkaError) -> [TopicPartition: Int64] {
        guard !positions.isEmpty else { return [:] }
        var settings = config
        settings.set("group.id", "cascade-lag-reader")
        settings.set("enable.auto.commit", "false")
        settings.set("enable.partition.eof", "false")
        // A committed offset retention already deleted reads from the earliest kept report.
        settings.set("auto.offset.reset", "earliest")
        let reader = try makeNativeClient(RD_KAFKA_CONSUMER, conf: settings.makeNativeConf())
        defer { rd_kafka_destroy(reader) }
        rd_kafka_poll_set_consumer(reader)
        let err = TopicPartitionList.withNative(positions.map { ($0.key, Optional($0.value)) }) { rd_kafka_assign(reader, $0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "assign for timestamps") }
        var found: [TopicPartition: Int64] = [:]
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeoutMs)) * 1_000_000
        while found.count < positions.count, DispatchTime.now().uptimeNanoseconds < deadline {
            guard let m = rd_kafka_consumer_poll(reader, 100) else { continue }
            defer { rd_kafka_message_destroy(m) }
            guard m.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR, let rkt = m.pointee.rkt else { continue }
            let tp = TopicPartition(String(cString: rd_kafka_topic_name(rkt)), m.pointee.partition)
            var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let ts = rd_kafka_message_timestamp(m, &type)
            if found[tp] == nil, ts >= 0 { found[tp] = ts }
        }
        return found
    }
}
