import CivilCalendar
import Foundation

public struct TopicNames: Sendable, Equatable {
    public var reports: String
    public var results: String
    public var requests: String
    public var deadLetters: String

    public static let defaults = TopicNames(reports: "pie.job-completions", results: "pie.job-completion-results",
                                            requests: "pie.job-requests", deadLetters: "pie.job-completions.dlq")

    public init(reports: String, results: String, requests: String, deadLetters: String) {
        self.reports = reports
        self.results = results
        self.requests = requests
        self.deadLetters = deadLetters
    }
}

/// A message to publish, written to the outbox in the same transaction as the effects it
/// announces, and sent by the relay after that transaction commits.
public struct OutboxMessage: Sendable, Equatable {
    public let topic: String
    public let key: [UInt8]?
    /// nil only for the dead letter of a tombstone, which keeps the original's null value.
    public let value: [UInt8]?
    public let headers: [OutboxHeader]

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [OutboxHeader] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// What the message weighs against a broker's size limits, before the record framing.
    public var size: Int {
        (key?.count ?? 0) + (value?.count ?? 0) + headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
    }

    public func header(_ name: String) -> [UInt8]? { headers.last { $0.name == name }?.value ?? nil }
}

public struct OutboxHeader: Sendable, Equatable {
    public let name: String
    public let value: [UInt8]?
    public init(_ name: String, _ value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    public init(_ name: String, _ value: String) { self.init(name, Array(value.utf8)) }
}

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
        var headers = [OutboxHeader("event-id", source.eventId(.result).lowercasedText)]
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
        var w = JSONWriter(capacity: 96 * outcomes.count + 2)
        w.beginArray()
        for outcome in outcomes { outcome.write(to: &w) }
        w.endArray()
        return String(decoding: w.bytes, as: UTF8.self)
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

public enum DownstreamRequest {
    /// The request to run a job a subscription created. `eventId` is fixed when the row is
    /// written to the outbox, so every re-send carries the same one.
    public static func message(job: Job, source: Job, subscription: EventSubscription, eventId: UUID,
                               topic: String) -> OutboxMessage {
        var w = JSONWriter(capacity: 384)
        w.beginObject()
        w.member("job_id", job.id)
        w.member("model_id", job.modelId)
        w.member("model_version", job.modelVersion)
        w.member("job_type", job.type.rawValue)
        w.key("input"); w.value(job.input)
        w.key("trigger")
        w.beginObject()
        w.member("event", subscription.triggerEvent.rawValue)
        w.key("subscription_id"); w.uuid(subscription.id)
        w.member("source_job_id", source.id)
        w.member("source_model_id", source.modelId)
        w.member("source_model_version", source.modelVersion)
        w.endObject()
        w.key("cascade_depth"); w.int(job.cascadeDepth)
        w.member("created_at", Timestamp.iso8601(job.createdAt))
        w.endObject()
        return OutboxMessage(topic: topic, key: Array(job.id.utf8), value: w.bytes,
                             headers: [OutboxHeader("event-id", eventId.lowercasedText)])
    }
}

public enum Timestamp {
    /// RFC 3339 in UTC with milliseconds, e.g. 2026-11-29T07:30:00.123Z.
    public static func iso8601(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return CivilCalendar.timestamp(seconds: seconds, fraction: Int(millis - seconds * 1000), fractionDigits: 3,
                                       separator: "T", suffix: "Z")
    }
}
