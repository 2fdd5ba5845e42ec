import CascadeDomain
import Foundation

/// How the verbs show jobs and subscriptions: JSON for people and scripts.
extension Job {
    /// The `job get` view: every field, lineage and what its completion triggered.
    func json(outcomes: [SubscriptionOutcome]) -> JSONValue {
        func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.iso8601($0)) } ?? .null }
        return .object([
            ("job_id", .string(id)), ("model_id", .string(modelId)), ("model_version", .string(modelVersion)),
            ("job_type", .string(type.rawValue)), ("status", .string(status.rawValue)),
            ("input", input ?? .null), ("output", output ?? .null), ("error", error ?? .null),
            ("created_at", time(createdAt)), ("started_at", time(startedAt)), ("completed_at", time(completedAt)),
            ("parent_job_id", parentJobId.map(JSONValue.string) ?? .null),
            ("subscription_id", subscriptionId.map { .string($0.lowercasedText) } ?? .null),
            ("cascade_depth", .int(cascadeDepth)),
            ("triggered_events", .array(outcomes.map(\.json))),
        ])
    }
}

extension EventSubscription {
    var json: JSONValue {
        .object([
            ("id", .string(id.lowercasedText)), ("source_model_id", .string(sourceModelId)),
            ("trigger_event", .string(triggerEvent.rawValue)), ("target_model_id", .string(targetModelId)),
            ("target_action", .string(targetAction.rawValue)), ("input_source", .string(inputSource.rawValue)),
            ("input", input ?? .null), ("label", label.map(JSONValue.string) ?? .null), ("status", .string(status.rawValue)),
            ("created_at", .string(Timestamp.iso8601(createdAt))), ("updated_at", .string(Timestamp.iso8601(updatedAt))),
        ])
    }
}
