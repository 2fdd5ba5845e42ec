import Kafka

/// How far behind one partition is: in messages (log end minus the group's committed offset,
/// as `kafka-consumer-groups.sh` counts it) and in seconds (how old the oldest report not yet
/// applied is: what an SLO, an alert and an autoscaler want, since reports vary in cost).
public struct PartitionLag: Sendable, Equatable {
    public let topicPartition: TopicPartition
    /// The group's committed offset, when it has one.
    public let committed: Int64?
    public let logEnd: Int64
    public let messages: Int64
    /// nil when it cannot be known yet (behind, with no report of the partition seen).
    public let seconds: Double?

    /// What this member knows of a partition, gathered on the polling thread.
    public struct Position: Sendable, Equatable {
        public var committed: Int64?
        public var low: Int64
        public var logEnd: Int64
        /// One past the last report this member applied (ahead of `committed` until the next commit).
        public var appliedNext: Int64?
        /// One past the last report polled: past the log end's transaction markers too.
        public var consumedNext: Int64?
        /// Timestamp of the oldest report polled and not yet applied, in milliseconds.
        public var nextReportTimestampMs: Int64?
        /// Timestamp of the last report applied, in milliseconds.
        public var lastAppliedTimestampMs: Int64?

        public init(committed: Int64?, low: Int64, logEnd: Int64, appliedNext: Int64? = nil, consumedNext: Int64? = nil,
                    nextReportTimestampMs: Int64? = nil, lastAppliedTimestampMs: Int64? = nil) {
            self.consumedNext = consumedNext
            self.committed = committed
            self.low = low
            self.logEnd = logEnd
            self.appliedNext = appliedNext
            self.nextReportTimestampMs = nextReportTimestampMs
            self.lastAppliedTimestampMs = lastAppliedTimestampMs
        }
    }

    /// Lag in seconds: 0 when everything up to the log end is applied (or everything polled
    /// is applied and polling reached the log end, which may be a transaction marker no report
    /// ever passes); else the age of the next report when it is in hand; else the time since
    /// the last applied report was written (the next one is newer: an upper bound); else unknown.
    public init(_ tp: TopicPartition, _ p: Position, nowMs: Int64) {
        topicPartition = tp
        committed = p.committed
        logEnd = p.logEnd
        // Without a commit the group starts from the earliest offset (auto.offset.reset).
        let start = p.committed ?? p.low
        messages = max(0, p.logEnd - start)
        let position = max(start, p.appliedNext ?? start)
        let polledToTheEnd = (p.consumedNext ?? 0) >= p.logEnd && p.nextReportTimestampMs == nil
        if position >= p.logEnd || polledToTheEnd {
            seconds = 0
        } else if let next = p.nextReportTimestampMs ?? p.lastAppliedTimestampMs {
            seconds = Double(max(0, nowMs - next)) / 1000
        } else {
            seconds = nil
        }
    }
}
