import CRdKafka
import Foundation
import Synchronization

/// Where errors that librdkafka reports asynchronously go as they happen. By default a plain
/// line on standard error; a service routes them into its own log (`route`).
public enum KafkaClientErrors {
    public typealias Handler = @Sendable (KafkaError) -> Void
    private static let handler = Mutex<Handler?>(nil)

    public static func route(to newHandler: @escaping Handler) { handler.withLock { $0 = newHandler } }

    static func report(_ error: KafkaError) {
        if let route = handler.withLock({ $0 }) { return route(error) }
        FileHandle.standardError.write(Data("kafka: \(error)\n".utf8))
    }
}

/// The target of librdkafka's error_cb: reports each error as it happens (KafkaClientErrors).
class ErrorSink {
    func report(_ error: KafkaError) { KafkaClientErrors.report(error) }
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
