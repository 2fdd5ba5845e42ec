import CRdKafka
import Foundation
import Synchronization

/// Collects errors librdkafka reports asynchronously (error_cb), bounded so a flapping broker
/// cannot grow memory; they are also logged to standard error as they happen.
class ErrorSink {
    private let errors = Mutex<[KafkaError]>([])
    private static let capacity = 256

    func report(_ error: KafkaError) {
        FileHandle.standardError.write(Data("kafka: \(error)\n".utf8))
        errors.withLock {
            if $0.count >= Self.capacity { $0.removeFirst() }
            $0.append(error)
        }
    }

    func drainErrors() -> [KafkaError] {
        errors.withLock { drained in defer { drained = [] }; return drained }
    }
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
