import CRdKafka
import Foundation
import Synchronization

public enum RebalanceEvent: Sendable, Equatable {
    /// Partitions now ours. Messages from them arrive only after the handler returns.
    case assigned([TopicPartition])
    /// Partitions about to go. The handler finishes or flushes in-flight work and marks it;
    /// the consumer then commits what was marked and only then lets the partitions go.
    case revoked([TopicPartition])
    /// Partitions already taken from us (session timeout). Nothing can be committed for them;
    /// in-flight work will be redelivered to their new owner.
    case lost([TopicPartition])
}

/// A consumer-group member over one `rd_kafka_t`.
///
/// Every method must be called from one thread, a dedicated one (other threads read `view`):
/// `poll` blocks, and the rebalance handler runs synchronously inside `poll` and `close`.
/// Offsets are manual: only what `markProcessed` saw is committed, never backwards.
public final class KafkaConsumer {
    /// After a failed ask for committed offsets, the next waits this long (the coordinator is away).
    private static let committedRetry: Duration = .seconds(10)
    private var committedAskFailedAt: ContinuousClock.Instant?
    public typealias RebalanceHandler = (RebalanceEvent) -> Void

    private let handle: OpaquePointer
    // Declared after `handle` and kept alive until deinit destroys the handle: C callbacks
    // reach it through an unretained pointer.
    private let callbacks: ConsumerCallbacks

    public init(config: KafkaConfig, onRebalance: @escaping RebalanceHandler = { _ in }) throws(KafkaError) {
        guard config["group.id"] != nil else { throw .invalidArgument("a consumer needs group.id") }
        var settings = KafkaConfig([
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            "auto.offset.reset": "earliest",
        ]).merging(config)
        // These are not negotiable: the ledger is the only source of commits.
        settings.set("enable.auto.commit", "false")
        settings.set("enable.auto.offset.store", "false")

        let callbacks = ConsumerCallbacks(onRebalance: onRebalance)
        let conf = try settings.makeNativeConf()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceTrampoline)
        rd_kafka_conf_set_offset_commit_cb(conf, consumerCommitTrampoline)
        rd_kafka_conf_set_error_cb(conf, clientErrorTrampoline)
        self.handle = try makeNativeClient(RD_KAFKA_CONSUMER, conf: conf)
        self.callbacks = callbacks
        // Serve rebalance, commit and error events from consumer_poll on our thread.
        rd_kafka_poll_set_consumer(handle)
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let err = TopicPartitionList.withNative(topics.map { TopicPartition($0, RD_KAFKA_PARTITION_UA) }) {
            rd_kafka_subscribe(handle, $0)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "subscribe \(topics)") }
    }

    /// Waits up to `timeoutMs` for a first message, then takes what else is ready, lingering up
    /// to `lingerMs` more, until `maxMessages`. With `lingerMs` 0 a batch never waits once it has
    /// something, so a quiet topic sees no added latency while a busy one gets full batches.
    public func poll(maxMessages: Int, timeoutMs: Int, lingerMs: Int = 0) throws(KafkaError) -> [KafkaMessage] {
        var batch: [KafkaMessage] = []
        batch.reserveCapacity(min(maxMessages, 1024))
        var wait = Int32(clamping: timeoutMs)
        var lingerDeadline: UInt64?
        // Batches are runs of one topic's messages: decode its name once, not per message.
        var lastTopic: (handle: OpaquePointer?, name: String) = (nil, "")
        while batch.count < maxMessages {
            guard let m = rd_kafka_consumer_poll(handle, wait) else {
                if batch.isEmpty { break }
                let now = DispatchTime.now().uptimeNanoseconds
                guard let deadline = lingerDeadline, now < deadline else { break }
                wait = Int32(clamping: max(1, (deadline - now) / 1_000_000))
                continue
            }
            defer { rd_kafka_message_destroy(m) }
            let err = m.pointee.err
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                let error = KafkaError(err, context: Self.messageErrorContext(m))
                if error.isFatal || batch.isEmpty && !error.isRetriable && err != RD_KAFKA_RESP_ERR__TRANSPORT {
                    throw error
                }
                callbacks.report(error)
                continue
            }
            if m.pointee.rkt != lastTopic.handle {
                lastTopic = (m.pointee.rkt, String(cString: rd_kafka_topic_name(m.pointee.rkt)))
            }
            batch.append(KafkaMessage(copying: m, topic: lastTopic.name))
            if lingerDeadline == nil {
                lingerDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, lingerMs)) * 1_000_000
            }
            wait = 0
        }
        return batch
    }

    /// Marks a message (and everything before it in its partition) processed.
    public func markProcessed(_ message: KafkaMessage) {
        markProcessed(message.topicPartition, offset: message.offset)
    }

    public func markProcessed(_ tp: TopicPartition, offset: Int64) {
        callbacks.ledger.withLock { _ = $0.markProcessed(tp, offset: offset) }
    }

    /// Commits everything marked and not yet committed. A synchronous commit returns once the
    /// broker acknowledged it; an asynchronous one lets the next poll carry the result.
    public func commit(synchronously: Bool = true) throws(KafkaError) {
        let pending = callbacks.ledger.withLock { $0.pendingCommits() }
        try commitNative(pending, synchronously: synchronously)
    }

    /// A synchronous commit acknowledges into the ledger here; an asynchronous one does so from
    /// the commit callback served by a later poll.
    fileprivate static func commit(_ rk: OpaquePointer, _ pending: [(TopicPartition, Int64)],
                                   synchronously: Bool, ledger: borrowing Mutex<OffsetLedger>) -> rd_kafka_resp_err_t {
        guard !pending.isEmpty else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        return TopicPartitionList.withNative(pending.map { ($0.0, Optional($0.1)) }) { list in
            let err = rd_kafka_commit(rk, list, synchronously ? 0 : 1)
            if synchronously {
                let done = TopicPartitionList.entries(list).filter { $0.error == RD_KAFKA_RESP_ERR_NO_ERROR }
                ledger.withLock { l in done.forEach { l.acknowledge($0.topicPartition, offset: $0.offset) } }
            }
            return err
        }
    }

    private func commitNative(_ pending: [(TopicPartition, Int64)], synchronously: Bool) throws(KafkaError) {
        let err = Self.commit(handle, pending, synchronously: synchronously, ledger: callbacks.ledger)
        if isCommitFailure(err) {
            throw KafkaError(err, context: "commit")
        }
    }

    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let err = TopicPartitionList.withNative(partitions) { rd_kafka_pause_partitions(handle, $0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "pause") }
    }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let err = TopicPartitionList.withNative(partitions) { rd_kafka_resume_partitions(handle, $0) }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "resume") }
    }

    public var assignment: Set<TopicPartition> { view.assignment }
    public var committedOffsets: [TopicPartition: Int64] { view.committedOffsets }

    /// What other threads may read while this one polls: the consumer itself is confined to
    /// one thread (not Sendable), its offset bookkeeping is behind a lock.
    public var view: KafkaConsumerView { KafkaConsumerView(callbacks: callbacks) }

    /// Low and high watermarks as last seen by fetches, without a broker round trip.
    public func cachedWatermarks(_ tp: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1, high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// Where each assigned partition stands: the group's committed offset and the cached
    /// watermarks. Partitions whose watermarks no fetch has seen yet are absent.
    /// The group's offsets of assigned partitions this member has not committed itself yet are
    /// asked of the broker first (whoever committed them: this member before a restart, or
    /// another one), so lag is not counted from the low watermark. Blocks up to `timeoutMs`,
    /// on the polling thread: not in the rebalance callback, where the same request stalled
    /// a rebalance.
    /// Each partition is asked once while assigned: one the group never committed stays
    /// unknown, and asking again at every status line would stall the poll loop for the
    /// timeout whenever the coordinator is away.
    public func positions(timeoutMs: Int = 2_000) -> [TopicPartition: PartitionOffsets] {
        let toAsk = callbacks.ledger.withLock { ledger in
            ledger.assigned.filter { ledger.committed[$0] == nil }
        }.subtracting(callbacks.committedAnswered)
        let retryDue = committedAskFailedAt.map { ContinuousClock.now - $0 >= Self.committedRetry } ?? true
        if !toAsk.isEmpty && retryDue {
            // nil when the request failed: asked again after committedRetry, not at every tick.
            let answered: [TopicPartition: Int64?]? = TopicPartitionList.withNative(Array(toAsk)) { list in
                guard rd_kafka_committed(handle, list, Int32(clamping: timeoutMs)) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
                var offsets: [TopicPartition: Int64?] = [:]
                for e in TopicPartitionList.entries(list) where e.error == RD_KAFKA_RESP_ERR_NO_ERROR {
                    offsets[e.topicPartition] = e.offset >= 0 ? e.offset : nil  // answered: the group has none
                }
                return offsets
            }
            committedAskFailedAt = answered == nil ? .now : nil
            callbacks.ledger.withLock { ledger in
                for case let (tp, offset?) in answered ?? [:] { ledger.acknowledge(tp, offset: offset) }
            }
            callbacks.committedAnswered.formUnion((answered ?? [:]).keys)
        }
        let (assigned, committed) = callbacks.ledger.withLock { ($0.assigned, $0.committed) }
        let consumed = consumedPositions(Array(assigned))
        var positions: [TopicPartition: PartitionOffsets] = [:]
        for tp in assigned {
            guard let marks = cachedWatermarks(tp) else { continue }
            positions[tp] = PartitionOffsets(committed: committed[tp], low: marks.low, high: marks.high, consumed: consumed[tp])
        }
        return positions
    }

    /// Messages behind per assigned partition: high watermark minus the group's committed
    /// offset (from the low watermark when the group never committed one), as `positions` knows them.
    public func lag(timeoutMs: Int = 2_000) -> [TopicPartition: Int64] {
        positions(timeoutMs: timeoutMs).mapValues(\.lag)
    }

    /// One past the last message `poll` returned per partition (librdkafka's position; it skips
    /// transaction markers, which the application never sees), without a broker round trip.
    private func consumedPositions(_ partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        return TopicPartitionList.withNative(partitions) { list in
            guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
            var positions: [TopicPartition: Int64] = [:]
            for e in TopicPartitionList.entries(list) where e.offset >= 0 { positions[e.topicPartition] = e.offset }
            return positions
        }
    }

    /// This member's id in its group, or nil while it has not joined.
    public var memberId: String? {
        guard let id = rd_kafka_memberid(handle) else { return nil }
        defer { rd_kafka_mem_free(handle, id) }
        let text = String(cString: id)
        return text.isEmpty ? nil : text
    }

    /// Commits what is marked, revokes (running the handler) and leaves the group at once, so
    /// the partitions move without waiting for the session timeout. A static member
    /// (`group.instance.id`) does not leave on close (KIP-345): its partitions wait
    /// `session.timeout.ms` for it to come back. `leavingGroup` makes it leave all the same.
    public func close(leavingGroup: Bool = false, leaveTimeout: Duration = .seconds(10)) throws(KafkaError) {
        if leavingGroup {
            // A failed leave still closes: the partitions then wait out the session instead.
            do { try leaveGroup(within: leaveTimeout) } catch { callbacks.report(error) }
        }
        let err = rd_kafka_consumer_close(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "close") }
    }

    /// librdkafka sends a static member's LeaveGroup only once an unsubscribe's revoke has been
    /// served by a poll, and only if close has not begun (a closing static member never
    /// leaves). So: unsubscribe, then poll, which runs the revoke handler, until librdkafka
    /// clears the member id, as it does when it sends LeaveGroup. Messages fetched before the
    /// unsubscribe are dropped unmarked: the partitions' next owner reads them.
    private func leaveGroup(within limit: Duration) throws(KafkaError) {
        let err = rd_kafka_unsubscribe(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "unsubscribe") }
        let deadline = ContinuousClock.now + limit
        while memberId != nil && ContinuousClock.now < deadline {
            if let message = rd_kafka_consumer_poll(handle, 100) { rd_kafka_message_destroy(message) }
        }
    }

    private static func messageErrorContext(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> String {
        let topic = m.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        return "consume \(topic)[\(m.pointee.partition)]"
    }
}

/// State shared between the Swift owner and librdkafka's callbacks.
final class ConsumerCallbacks: ErrorSink, @unchecked Sendable {  // because librdkafka calls it only inside consumer_poll, on the owner's thread, where `committedAnswered` is also touched, and `ledger` is a Mutex
    let onRebalance: KafkaConsumer.RebalanceHandler
    let ledger = Mutex(OffsetLedger())
    /// Partitions whose group offset the broker has told `positions()` since they were last
    /// assigned (its answer may be "none"); forgotten on every assignment change, so a partition
    /// that comes back is asked again. Touched only on the polling thread.
    var committedAnswered: Set<TopicPartition> = []

    init(onRebalance: @escaping KafkaConsumer.RebalanceHandler) {
        self.onRebalance = onRebalance
    }

    func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                   _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let partitions = TopicPartitionList.entries(list).map(\.topicPartition)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        committedAnswered.subtract(partitions)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            ledger.withLock { $0.assign(partitions) }
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) { report(KafkaError(consuming: error)) }
            } else {
                rd_kafka_assign(rk, list)
            }
            // After the assign, so that what the handler does to them (a pause) reaches
            // partitions librdkafka already knows as ours.
            onRebalance(.assigned(partitions))
        default:
            let lost = rd_kafka_assignment_lost(rk) != 0
            onRebalance(lost ? .lost(partitions) : .revoked(partitions))
            if !lost {
                // Commit what the handler marked before anyone else may own these partitions.
                let pending = ledger.withLock { $0.pendingCommits(in: Set(partitions)) }
                let result = KafkaConsumer.commit(rk, pending, synchronously: true, ledger: ledger)
                if isCommitFailure(result) {
                    report(KafkaError(result, context: "commit on revoke"))
                }
            }
            ledger.withLock { $0.revoke(partitions) }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) { report(KafkaError(consuming: error)) }
            } else {
                rd_kafka_assign(rk, nil)
            }
        }
    }

    func committed(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        if isCommitFailure(err) {
            report(KafkaError(err, context: "offset commit"))
        }
        guard let list else { return }
        let entries = TopicPartitionList.entries(list)
        ledger.withLock { ledger in
            for e in entries where e.error == RD_KAFKA_RESP_ERR_NO_ERROR && e.offset >= 0 {
                ledger.acknowledge(e.topicPartition, offset: e.offset)
            }
        }
    }
}

private func consumerCallbacks(_ opaque: UnsafeMutableRawPointer?) -> ConsumerCallbacks? {
    opaque.map { Unmanaged<ConsumerCallbacks>.fromOpaque($0).takeUnretainedValue() }
}

private let consumerRebalanceTrampoline: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { rk, err, list, opaque in
    guard let rk, let list, let callbacks = consumerCallbacks(opaque) else { return }
    callbacks.rebalance(rk, err, list)
}

private let consumerCommitTrampoline: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { _, err, list, opaque in
    consumerCallbacks(opaque)?.committed(err, list)
}


/// A commit answered with no offset to commit (_NO_OFFSET) did nothing wrong.
private func isCommitFailure(_ err: rd_kafka_resp_err_t) -> Bool {
    err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET
}

/// One partition's committed offset (nil when the group has none) and watermarks.
public struct PartitionOffsets: Sendable, Equatable {
    public let committed: Int64?
    public let low: Int64
    public let high: Int64
    /// One past the last message this consumer polled, when it polled any since it was assigned.
    public let consumed: Int64?
    public init(committed: Int64?, low: Int64, high: Int64, consumed: Int64? = nil) {
        self.committed = committed
        self.low = low
        self.high = high
        self.consumed = consumed
    }
    /// Without a commit, the group starts from the earliest offset (auto.offset.reset).
    public var lag: Int64 { max(0, high - (committed ?? low)) }
}

/// A Sendable window on a consumer's assignment and committed offsets, for threads other
/// than the one that polls it (a status or metrics reader, a test).
public struct KafkaConsumerView: Sendable {
    fileprivate let callbacks: ConsumerCallbacks
    public var assignment: Set<TopicPartition> { callbacks.ledger.withLock { $0.assigned } }
    public var committedOffsets: [TopicPartition: Int64] { callbacks.ledger.withLock { $0.committed } }
}
