import Foundation

/// The answer to one report, shaped like the platform's HTTP answer.
public struct ResultRecord: Sendable, Equatable {
    public let code: Int
    public let jobId: String?
    public let modelId: String?
    public let modelVersion: String?
    public let status: String?
    public let triggeredEvents: [SubscriptionOutcome]
    public let duplicate: Bool
    public let requestId: String?
    public let source: ReportSource
    /// Set for rejections (4xx): what to fix.
    public let message: String?

    /// The record as sent: `{"code", "job_id", "model_id", "model_version", "status",
    /// "triggered_events", "duplicate", "request_id", "report"}`, plus `"success": false` and
    /// `"message"` for rejections.
    public var jsonBytes: [UInt8] {
        var w = JSONWriter(capacity: 320 + triggeredEvents.count * 96)
        w.beginObject()
        w.key("code"); w.int(code)
        w.member("job_id", jobId)
        w.member("model_id", modelId)
        w.member("model_version", modelVersion)
        w.member("status", status)
        w.key("triggered_events")
        w.beginArray()
        for outcome in triggeredEvents { outcome.write(to: &w) }
        w.endArray()
        w.key("duplicate"); w.bool(duplicate)
        w.member("request_id", requestId)
        w.key("report")
        w.beginObject()
        w.member("topic", source.topic)
        w.key("partition"); w.int(source.partition)
        w.key("offset"); w.int(source.offset)
        w.endObject()
        if let message {
            w.key("success"); w.bool(false)
            w.member("message", message)
        }
        w.endObject()
        return w.bytes
    }

    /// Headers: `event-id`, the same for every answer to this report message (see
    /// `ReportSource.eventId`), and `request-id` when the report had one.
    public func outboxMessage(topic: String) -> OutboxMessage {
        var headers = [OutboxHeader("event-id", source.eventId(.result).lowercasedBytes)]
        if let requestId { headers.append(OutboxHeader("request-id", requestId)) }
        return OutboxMessage(topic: topic, key: jobId.map { Array($0.utf8) }, value: jsonBytes, headers: headers)
    }
}

extension SubscriptionOutcome {
    /// `{"subscription_id", "job_id"}` or `{"subscription_id", "error"}`, as the HTTP answer has it.
    public var json: JSONValue {
        switch self {
        case let .triggered(id, jobId): ["subscription_id": .string(id.lowercasedText), "job_id": .string(jobId)]
        case let .failed(id, error): ["subscription_id": .string(id.lowercasedText), "error": .string(error)]
        }
    }

    /// The inverse of `json`; nil for anything else.
    public init?(json: JSONValue) {
        guard let text = json["subscription_id"]?.stringValue, let id = UUID(uuidString: text) else { return nil }
        if let jobId = json["job_id"]?.stringValue, json["error"] == nil {
            self = .triggered(subscriptionId: id, jobId: jobId)
        } else if let error = json["error"]?.stringValue, json["job_id"] == nil {
            self = .failed(subscriptionId: id, error: error)
        } else {
            return nil
        }
    }

    /// A JSON array of outcomes in firing order: how a completed job stores them.
    public static func jsonText(_ outcomes: [SubscriptionOutcome]) -> String {
        var bytes: [UInt8] = []
        writeJSON(outcomes, appendingTo: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `jsonText`'s bytes, appended to `out`.
    public static func writeJSON(_ outcomes: [SubscriptionOutcome], appendingTo out: inout [UInt8]) {
        JSONWriter.write(appendingTo: &out) { w in
            w.beginArray()
            for outcome in outcomes { outcome.write(to: &w) }
            w.endArray()
        }
    }

    func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key("subscription_id"); w.uuid(subscriptionId)
        switch self {
        case .triggered(_, let jobId): w.member("job_id", jobId)
        case .failed(_, let error): w.member("error", error)
        }
        w.endObject()
    }
}
