import Kafka

/// Whether the output topics take the largest message Cascade may publish, from their
/// `max.message.bytes` as the broker reports it. Decided at start, before anything is consumed:
/// a topic that refuses Cascade's messages would otherwise park them one by one.
enum TopicSizeCheck: Equatable {
    case fits
    /// The broker did not say for these topics (or at all), so nothing could be checked.
    case unknown(topics: [String], why: String)
    /// These topics' limits are below what Cascade may publish.
    case tooSmall([String])

    static let setting = "max.message.bytes"

    static func evaluate(topics: [String], required: Int,
                         reported: Result<[String: [String: String]], KafkaError>) -> TopicSizeCheck {
        let configs: [String: [String: String]]
        switch reported {
        case .success(let answer): configs = answer
        case .failure(let error): return .unknown(topics: topics, why: "DescribeConfigs failed: \(error)")
        }
        var unknown: [String] = []
        var tooSmall: [String] = []
        for topic in topics {
            guard let text = configs[topic]?[setting], let limit = Int(text) else { unknown.append(topic); continue }
            if limit < required { tooSmall.append("\(topic) has \(setting)=\(limit)") }
        }
        if !tooSmall.isEmpty { return .tooSmall(tooSmall) }
        if !unknown.isEmpty { return .unknown(topics: unknown, why: "the broker reported no \(setting)") }
        return .fits
    }
}

/// `consume` will not start: its configuration cannot work with the broker's.
public struct StartupRefusal: Error, CustomStringConvertible {
    public let description: String
}

/// `consume` could not start: something it needs did not answer in time.
public struct StartupFailure: Error, CustomStringConvertible {
    public let description: String
}
