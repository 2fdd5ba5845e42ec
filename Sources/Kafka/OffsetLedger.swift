/// What the consumer may commit. Pure state, so its rules are unit-testable:
/// - only offsets the caller marked processed are ever committed;
/// - a mark never moves a partition backwards, so nothing committed is ever rewound;
/// - a revoked partition is forgotten, so a later owner starts from the broker's committed offset.
public struct OffsetLedger: Sendable, Equatable {
    /// Next offset to consume (the Kafka convention: last processed + 1), per partition.
    public private(set) var marked: [TopicPartition: Int64] = [:]
    /// What the broker has acknowledged.
    public private(set) var committed: [TopicPartition: Int64] = [:]
    public private(set) var assigned: Set<TopicPartition> = []

    public init() {}

    public mutating func assign(_ partitions: [TopicPartition]) {
        assigned.formUnion(partitions)
    }

    public mutating func revoke(_ partitions: [TopicPartition]) {
        for tp in partitions {
            assigned.remove(tp)
            marked[tp] = nil
            committed[tp] = nil
        }
    }

    /// Records that every message up to and including `offset` is processed.
    /// Returns false when ignored: the partition is not ours, or the mark is not ahead.
    @discardableResult
    public mutating func markProcessed(_ tp: TopicPartition, offset: Int64) -> Bool {
        guard assigned.contains(tp) else { return false }
        let next = offset + 1
        if let current = marked[tp], current >= next { return false }
        if let done = committed[tp], done >= next { return false }
        marked[tp] = next
        return true
    }

    /// Offsets marked but not yet acknowledged, optionally limited to some partitions.
    public func pendingCommits(in partitions: Set<TopicPartition>? = nil) -> [(TopicPartition, Int64)] {
        marked.compactMap { tp, next in
            if let partitions, !partitions.contains(tp) { return nil }
            if let done = committed[tp], done >= next { return nil }
            return (tp, next)
        }.sorted { ($0.0.topic, $0.0.partition) < ($1.0.topic, $1.0.partition) }
    }

    public mutating func acknowledge(_ tp: TopicPartition, offset: Int64) {
        guard assigned.contains(tp) else { return }
        if let done = committed[tp], done >= offset { return }
        committed[tp] = offset
    }
}
