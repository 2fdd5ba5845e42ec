import Foundation

/// Per-partition figures from librdkafka's statistics JSON (`statistics.interval.ms`).
public struct PartitionStatistics: Sendable, Equatable {
    public let topicPartition: TopicPartition
    /// Broker high watermark minus the committed offset (librdkafka's `consumer_lag`), -1 if unknown.
    public let consumerLag: Int64
    public let highWatermark: Int64
    public let committedOffset: Int64

    public init(topicPartition: TopicPartition, consumerLag: Int64, highWatermark: Int64, committedOffset: Int64) {
        self.topicPartition = topicPartition
        self.consumerLag = consumerLag
        self.highWatermark = highWatermark
        self.committedOffset = committedOffset
    }
}

public enum ConsumerStatistics {
    /// Parses the partitions this client consumes; the `-1` pseudo-partition and partitions the
    /// client only knows from metadata (no fetch state) are skipped.
    public static func parse(_ json: [UInt8]) -> [PartitionStatistics] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let topics = root["topics"] as? [String: Any] else { return [] }
        var result: [PartitionStatistics] = []
        for (topic, value) in topics {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (_, p) in partitions {
                guard let p = p as? [String: Any],
                      let partition = (p["partition"] as? NSNumber)?.int32Value, partition >= 0,
                      (p["fetch_state"] as? String).map({ $0 != "none" }) ?? false
                else { continue }
                result.append(PartitionStatistics(
                    topicPartition: TopicPartition(topic, partition),
                    consumerLag: (p["consumer_lag"] as? NSNumber)?.int64Value ?? -1,
                    highWatermark: (p["hi_offset"] as? NSNumber)?.int64Value ?? -1,
                    committedOffset: (p["committed_offset"] as? NSNumber)?.int64Value ?? -1))
            }
        }
        return result.sorted { ($0.topicPartition.topic, $0.topicPartition.partition) < ($1.topicPartition.topic, $1.topicPartition.partition) }
    }
}
