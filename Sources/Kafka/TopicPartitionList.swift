import CRdKafka

/// Helpers for `rd_kafka_topic_partition_list_t`, which is always created and destroyed
/// within one call so no list outlives the Swift code that made it.
enum TopicPartitionList {
    typealias Native = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    static func withNative<R, E: Error>(
        _ entries: [(TopicPartition, Int64?)], _ body: (Native) throws(E) -> R
    ) throws(E) -> R {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            if let offset { element.pointee.offset = offset }
        }
        return try body(list)
    }

    static func withNative<R, E: Error>(_ partitions: [TopicPartition], _ body: (Native) throws(E) -> R) throws(E) -> R {
        try withNative(partitions.map { ($0, nil) }, body)
    }

    struct Entry {
        let topicPartition: TopicPartition
        let offset: Int64
        let error: rd_kafka_resp_err_t
    }

    static func entries(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [Entry] {
        let l = list.pointee
        return (0..<Int(l.cnt)).map { i in
            let e = l.elems[i]
            return Entry(topicPartition: TopicPartition(String(cString: e.topic), e.partition),
                         offset: e.offset, error: e.err)
        }
    }
}
