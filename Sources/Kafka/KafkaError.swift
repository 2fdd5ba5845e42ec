import CRdKafka

/// An error from librdkafka, carrying its code and text and whether retrying can help.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative codes are client-local, positive are broker errors).
    public let code: Int32
    /// librdkafka's symbolic name, e.g. `_TRANSPORT` or `TOPIC_AUTHORIZATION_FAILED`.
    public let name: String
    public let message: String
    public let isRetriable: Bool
    public let isFatal: Bool

    public init(code: Int32, name: String, message: String, isRetriable: Bool, isFatal: Bool) {
        self.code = code
        self.name = name
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    /// An error described only by its code; retriability follows librdkafka's classification of
    /// transient conditions (timeouts, transport, leadership moves, full queues).
    package init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(
            code: err.rawValue,
            name: String(cString: rd_kafka_err2name(err)),
            message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: KafkaError.transientCodes.contains(err),
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer, context: String? = nil) {
        defer { rd_kafka_error_destroy(error) }
        let text = String(cString: rd_kafka_error_string(error))
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            name: String(cString: rd_kafka_error_name(error)),
            message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0
        )
    }

    /// A configuration or usage error raised by this module, not by librdkafka.
    package static func invalidArgument(_ message: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, name: "_INVALID_ARG",
                   message: message, isRetriable: false, isFatal: false)
    }

    static func timedOut(_ message: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, name: "_TIMED_OUT",
                   message: message, isRetriable: true, isFatal: false)
    }

    public var description: String { "\(name) (\(code)): \(message)" }

    /// The broker or the client refused this one message for a reason that sending it again
    /// cannot fix (its size, its content, the caller's rights, a topic that does not exist).
    /// Other messages are unaffected; a transient failure, by contrast, affects them all.
    public var isPermanentRefusal: Bool { !isRetriable && Self.permanentRefusalCodes.contains(code) }

    private static let permanentRefusalCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT,
        // Local: the topic is still unknown after topic.metadata.propagation.max.ms, so it
        // was not created (Cascade creates its topics at start, or the broker auto-creates).
        RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
    ].reduce(into: []) { $0.insert($1.rawValue) }

    private static let transientCodes: Set<rd_kafka_resp_err_t> = [
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
        RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
    ]
}
