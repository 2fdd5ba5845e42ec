import CRdKafka

/// Cluster administration over a short-lived client handle.
public final class KafkaAdmin {
    let handle: OpaquePointer
    let config: KafkaConfig

    public init(config: KafkaConfig) throws(KafkaError) {
        self.config = config
        handle = try makeNativeClient(RD_KAFKA_PRODUCER, conf: config.makeNativeConf())
    }

    deinit { rd_kafka_destroy(handle) }

    /// Creates the topics that do not exist yet, with `config` (topic properties such as
    /// `max.message.bytes`); an existing topic is success, whatever its size and settings.
    public func createTopics(_ topics: [(name: String, partitions: Int)], replicationFactor: Int = 1,
                             config: [String: String] = [:], timeoutMs: Int = 15_000) throws(KafkaError) {
        guard !topics.isEmpty else { return }
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard let t = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions), Int32(replicationFactor), &errstr, errstr.count) else {
                throw .invalidArgument("topic \(topic.name): \(cString(errstr))")
            }
            newTopics.append(t)
            for (name, value) in config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(t, name, value)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "topic \(topic.name) config \(name)") }
            }
        }
        let event = try request(RD_KAFKA_ADMIN_OP_CREATETOPICS, "create topics \(topics.map(\.name))", timeoutMs: timeoutMs) {
            rd_kafka_CreateTopics(handle, &newTopics, newTopics.count, $0, $1)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let r = results[i]
            let topicErr = rd_kafka_topic_result_error(r)
            if topicErr == RD_KAFKA_RESP_ERR_NO_ERROR || topicErr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(r))
            let text = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? ""
            throw KafkaError(topicErr, context: "create topic \(name) \(text)")
        }
    }

    /// Partition count from metadata, or nil when the topic does not exist.
    public func partitionCount(_ topic: String, timeoutMs: Int = 5_000) throws(KafkaError) -> Int? {
        // All-topics metadata: asking for one topic by name auto-creates it on many brokers.
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(clamping: timeoutMs))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "metadata \(topic)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        guard let md = metadata?.pointee else { return nil }
        for i in 0..<Int(md.topic_cnt) where String(cString: md.topics[i].topic) == topic {
            return md.topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR ? Int(md.topics[i].partition_cnt) : nil
        }
        return nil
    }

    /// The named settings of each topic as the broker reports them (DescribeConfigs). A topic
    /// the broker could not describe, or a setting it leaves out, is absent; a broker without
    /// DescribeConfigs throws.
    public func topicConfigs(_ topics: [String], names: Set<String>,
                             timeoutMs: Int = 10_000) throws(KafkaError) -> [String: [String: String]] {
        guard !topics.isEmpty else { return [:] }
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
        let event = try request(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, "describe configs of \(topics)", timeoutMs: timeoutMs) {
            rd_kafka_DescribeConfigs(handle, &resources, resources.count, $0, $1)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_DescribeConfigs_result(event),
              let described = rd_kafka_DescribeConfigs_result_resources(result, &count) else { return [:] }
        var configs: [String: [String: String]] = [:]
        for i in 0..<count {
            let resource = described[i]
            let topic = String(cString: rd_kafka_ConfigResource_name(resource))
            // One topic the broker cannot describe (missing, say) leaves only that one absent,
            // so the others are still checked.
            if rd_kafka_ConfigResource_error(resource) != RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            var entryCount = 0
            guard let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) else { continue }
            var values: [String: String] = [:]
            for j in 0..<entryCount {
                let name = String(cString: rd_kafka_ConfigEntry_name(entries[j]))
                if names.contains(name), let value = rd_kafka_ConfigEntry_value(entries[j]) { values[name] = String(cString: value) }
            }
            configs[topic] = values
        }
        return configs
    }

    /// Sends one admin request (`send` gets its options and reply queue) and returns its result
    /// event, which the caller destroys; a request-level error is thrown.
    func request(_ op: rd_kafka_admin_op_t, _ what: String, timeoutMs: Int,
                         send: (OpaquePointer, OpaquePointer) -> Void) throws(KafkaError) -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, op)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(clamping: timeoutMs), &errstr, errstr.count)
        if op == RD_KAFKA_ADMIN_OP_CREATETOPICS {
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, Int32(clamping: timeoutMs), &errstr, errstr.count)
        }
        send(options, queue)
        guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeoutMs + 1000)) else { throw .timedOut(what) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = String(cString: rd_kafka_event_error_string(event))
            rd_kafka_event_destroy(event)
            throw KafkaError(err, context: "\(what): \(text)")
        }
        return event
    }

    /// The offsets a consumer group has committed; a partition without a commit is absent.
    /// Reads through a non-member handle of that group, so it never triggers a rebalance.
    public func committedOffsets(group: String, partitions: [TopicPartition],
                                 timeoutMs: Int = 10_000) throws(KafkaError) -> [TopicPartition: Int64] {
        var settings = config
        settings.set("group.id", group)
        let reader = try makeNativeClient(RD_KAFKA_CONSUMER, conf: settings.makeNativeConf())
        defer { rd_kafka_destroy(reader) }
        return try TopicPartitionList.withNative(partitions) { list throws(KafkaError) in
            let err = rd_kafka_committed(reader, list, Int32(clamping: timeoutMs))
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "committed offsets of \(group)") }
            var offsets: [TopicPartition: Int64] = [:]
            for e in TopicPartitionList.entries(list) where e.offset >= 0 { offsets[e.topicPartition] = e.offset }
            return offsets
        }
    }

}
