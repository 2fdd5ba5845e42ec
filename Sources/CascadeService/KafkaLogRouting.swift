import Kafka
import Synchronization

/// librdkafka's errors and its own log lines, as Cascade's JSON log lines, each kind at most
/// once per interval (RepeatLimiter), with librdkafka's syslog levels mapped to ours.
public final class KafkaLogRouting: Sendable {
    private let limiter: Mutex<RepeatLimiter>

    private init(repeatInterval: Duration) { limiter = Mutex(RepeatLimiter(interval: repeatInterval)) }

    /// Routes every Kafka client of this process here from now on; `onError` sees every
    /// error, suppressed repeats included (the service counts them).
    public static func install(repeatInterval: Duration = .seconds(10), onError: (@Sendable (KafkaError) -> Void)? = nil) {
        let routing = KafkaLogRouting(repeatInterval: repeatInterval)
        KafkaClientErrors.route { event in
            if case .error(let error) = event { onError?(error) }
            routing.write(event)
        }
    }

    private func write(_ event: KafkaClientEvent) {
        let level: Log.Level
        let message: String
        var fields: [String: String]
        switch event {
        case .error(let error) where error.code == 3:  // UNKNOWN_TOPIC_OR_PART: noticed at each metadata refresh
            (level, message, fields) = (.warning, "subscribed topic does not exist yet; waiting for it", ["error": error.message])
        case .error(let error):
            (level, message, fields) = (error.isFatal ? .error : .warning, "kafka client error",
                                        ["error": error.description, "retriable": "\(error.isRetriable)"])
        case let .log(syslogLevel, facility, text):
            level = syslogLevel <= 3 ? .error : syslogLevel == 4 ? .warning : .info
            (message, fields) = ("librdkafka", ["facility": facility, "detail": text])
        }
        let kind = message + "|" + (fields["error"] ?? fields["detail"] ?? "")
        switch limiter.withLock({ $0.admit(kind, at: .now) }) {
        case .suppress: return
        case .write(let suppressed): if suppressed > 0 { fields["repeats_suppressed"] = "\(suppressed)" }
        }
        Log.write(level, message, fields)
    }
}
