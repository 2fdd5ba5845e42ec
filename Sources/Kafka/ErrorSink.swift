import CRdKafka
import Foundation
import Synchronization

/// What librdkafka says on its own, outside any call: an error (error_cb) or a log line
/// (log_cb, with its syslog level and facility).
public enum KafkaClientEvent: Sendable, Equatable {
    case error(KafkaError)
    case log(level: Int32, facility: String, message: String)
}

/// Where librdkafka's errors and log lines go as they happen. By default plain lines on
/// standard error, as librdkafka prints them; a service routes them into its own log.
public enum KafkaClientErrors {
    public typealias Handler = @Sendable (KafkaClientEvent) -> Void
    private static let handler = Mutex<Handler?>(nil)

    public static func route(to newHandler: @escaping Handler) { handler.withLock { $0 = newHandler } }

    static func report(_ event: KafkaClientEvent) {
        if let route = handler.withLock({ $0 }) { return route(event) }
        switch event {
        case .error(let error): FileHandle.standardError.write(Data("kafka: \(error)\n".utf8))
        case let .log(level, facility, message): FileHandle.standardError.write(Data("%\(level)|\(facility)| \(message)\n".utf8))
        }
    }
}

/// log_cb for every client: librdkafka's own lines go where its errors go.
let clientLogTrampoline: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    _, level, facility, message in
    KafkaClientErrors.report(.log(level: level, facility: facility.map { String(cString: $0) } ?? "",
                                  message: message.map { String(cString: $0) } ?? ""))
}

/// The target of librdkafka's error_cb: reports each error as it happens (KafkaClientErrors).
class ErrorSink {
    func report(_ error: KafkaError) { KafkaClientErrors.report(.error(error)) }
}

/// error_cb for any client whose opaque is an ErrorSink.
let clientErrorTrampoline: @convention(c) (
    OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?
) -> Void = { rk, code, reason, opaque in
    guard let opaque else { return }
    let sink = Unmanaged<ErrorSink>.fromOpaque(opaque).takeUnretainedValue()
    let err = rd_kafka_resp_err_t(rawValue: code)
    var error = KafkaError(err, context: reason.map { String(cString: $0) })
    if err == RD_KAFKA_RESP_ERR__FATAL, let rk {
        var text = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(rk, &text, text.count)
        error = KafkaError(code: original.rawValue, name: String(cString: rd_kafka_err2name(original)),
                           message: cString(text), isRetriable: false, isFatal: true)
    }
    sink.report(error)
}
