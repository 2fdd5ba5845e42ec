import CRdKafka
import Foundation
import Synchronization
import ServiceThreads

/// Where a produced message landed.
public struct DeliveryReport: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

public typealias DeliveryResult = Result<DeliveryReport, KafkaError>

/// An idempotent producer (`enable.idempotence=true`, `acks=all`) over one `rd_kafka_t`.
/// Thread-safe: any thread may send. A dedicated thread serves delivery reports, so completion
/// handlers run there and must not block.
public final class KafkaProducer: @unchecked Sendable {  // because librdkafka's producer is thread-safe and the handle never changes
    private let handle: OpaquePointer
    private let sink = ErrorSink()
    private let stopRequested = Latch<Void>()
    private let pollerDone = Latch<Void>()

    public init(config: KafkaConfig) throws(KafkaError) {
        let settings = KafkaConfig([
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "5",
        ]).merging(config)
        let conf = try settings.makeNativeConf()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(sink).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryTrampoline)
        rd_kafka_conf_set_error_cb(conf, clientErrorTrampoline)
        handle = try makeNativeClient(RD_KAFKA_PRODUCER, conf: conf)
        nonisolated(unsafe) let rk = handle  // rd_kafka_poll is thread-safe
        startServiceThread("cascade-produce") { [stopRequested, pollerDone] in
            while !stopRequested.isOpen { rd_kafka_poll(rk, 100) }
            pollerDone.open()
        }
    }

    deinit {
        stopPoller()
        rd_kafka_destroy(handle)
    }

    /// Queues one message; `onDelivery` runs once with the broker's verdict. When librdkafka's
    /// queue is full this waits for deliveries to free room (back-pressure), never drops.
    public func send(_ message: OutgoingMessage, onDelivery: @escaping @Sendable (DeliveryResult) -> Void) throws(KafkaError) {
        let box = Unmanaged.passRetained(DeliveryBox(onDelivery))
        var backoffMicros: UInt32 = 200
        while true {
            let error = produce(message, opaque: box.toOpaque())
            guard let error else { return }
            let code = rd_kafka_error_code(error)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_error_destroy(error)
                usleep(backoffMicros)
                backoffMicros = min(backoffMicros * 2, 50_000)
                continue
            }
            box.release()
            throw KafkaError(consuming: error, context: "produce to \(message.topic)")
        }
    }

    /// Sends a batch and waits for every delivery report, in the order given. A message
    /// librdkafka refuses to queue (too large, say) is a failed result like a broker's refusal,
    /// and the others are still sent. Throws only when the reports do not come in time.
    public func sendAndWait(_ messages: [OutgoingMessage], timeout: Duration = .seconds(60)) throws(KafkaError) -> [DeliveryResult] {
        let results = Mutex<[DeliveryResult?]>(Array(repeating: nil, count: messages.count))
        let group = DispatchGroup()
        for (index, message) in messages.enumerated() {
            group.enter()
            do {
                try send(message) { result in
                    results.withLock { $0[index] = result }
                    group.leave()
                }
            } catch {
                results.withLock { $0[index] = .failure(error) }
                group.leave()
            }
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if group.wait(timeout: .now() + seconds) == .timedOut {
            throw .timedOut("\(messages.count) deliveries not reported within \(timeout)")
        }
        return results.withLock { $0.map { $0! } }
    }

    /// Waits until every queued message is delivered or failed.
    public func flush(timeoutMs: Int = 30_000) throws(KafkaError) {
        let err = rd_kafka_flush(handle, Int32(clamping: timeoutMs))
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: "flush") }
    }

    /// Fails every message still waiting in librdkafka's queues (not those already sent to a
    /// broker): each gets its delivery report, with `_PURGE_QUEUE`, which may pass.
    public func purgeQueued() {
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE))
    }

    /// Messages queued in librdkafka and not yet reported.
    public var inFlight: Int { Int(rd_kafka_outq_len(handle)) }

    /// Flushes, then stops serving delivery reports. The producer must not be used afterwards.
    public func close(timeoutMs: Int = 30_000) throws(KafkaError) {
        defer { stopPoller() }
        try flush(timeoutMs: timeoutMs)
    }

    private func stopPoller() {
        if stopRequested.open() { pollerDone.wait() }
    }

    /// Returns nil once librdkafka owns the message (copied), or the error it refused with.
    private func produce(_ message: OutgoingMessage, opaque: UnsafeMutableRawPointer) -> OpaquePointer? {
        let headers = rd_kafka_headers_new(message.headers.count)!
        for header in message.headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.name, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
            }
        }
        let error: OpaquePointer? = message.topic.withCString { topic in
            withOptionalBytes(message.value) { value in
                withOptionalBytes(message.key) { key in
                    // On the stack: an array here was a heap allocation per message.
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { args in
                        args.initialize(repeating: rd_kafka_vu_t())
                        args[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        args[0].u.cstr = topic
                        args[1].vtype = RD_KAFKA_VTYPE_PARTITION
                        args[1].u.i32 = message.partition ?? RD_KAFKA_PARTITION_UA
                        args[2].vtype = RD_KAFKA_VTYPE_VALUE
                        args[2].u.mem.ptr = value.map { UnsafeMutableRawPointer(mutating: $0.baseAddress) } ?? nil
                        args[2].u.mem.size = value?.count ?? 0
                        args[3].vtype = RD_KAFKA_VTYPE_KEY
                        args[3].u.mem.ptr = key.map { UnsafeMutableRawPointer(mutating: $0.baseAddress) } ?? nil
                        args[3].u.mem.size = key?.count ?? 0
                        args[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        args[4].u.i = RD_KAFKA_MSG_F_COPY
                        args[5].vtype = RD_KAFKA_VTYPE_HEADERS
                        args[5].u.headers = headers
                        args[6].vtype = RD_KAFKA_VTYPE_OPAQUE
                        args[6].u.ptr = opaque
                        return rd_kafka_produceva(handle, args.baseAddress, args.count)
                    }
                }
            }
        }
        // On success librdkafka took the headers; on failure they are still ours.
        if error != nil { rd_kafka_headers_destroy(headers) }
        return error
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// Carries a completion through librdkafka as the message's opaque; retained until delivery.
private final class DeliveryBox {
    let complete: @Sendable (DeliveryResult) -> Void
    init(_ complete: @escaping @Sendable (DeliveryResult) -> Void) { self.complete = complete }
}

private let producerDeliveryTrampoline: @convention(c) (
    OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?
) -> Void = { _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let box = Unmanaged<DeliveryBox>.fromOpaque(opaque).takeRetainedValue()
    let m = message.pointee
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        let topic = String(cString: rd_kafka_topic_name(m.rkt))
        box.complete(.success(DeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
    } else {
        box.complete(.failure(KafkaError(m.err, context: "delivery")))
    }
}
