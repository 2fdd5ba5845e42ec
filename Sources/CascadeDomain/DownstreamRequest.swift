import Foundation

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
                             headers: [OutboxHeader("event-id", eventId.lowercasedBytes)])
    }
}
