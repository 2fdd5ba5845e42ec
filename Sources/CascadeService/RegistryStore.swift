import CascadeDomain
import Foundation
import Postgres

public struct RegistryError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Models, versions, subscriptions and jobs, as the command line manages them.
public struct RegistryStore {
    let db: PostgresConnection

    public init(db: PostgresConnection) { self.db = db }

    /// Creates the model, or updates its actions if it exists.
    public func upsertModel(id: String, actions: Set<JobType>) throws {
        try db.query("""
            INSERT INTO models (id, actions) VALUES ($1, $2::text[])
            ON CONFLICT (id) DO UPDATE SET actions = EXCLUDED.actions
            """, [id, PostgresArray(actions.map(\.rawValue).sorted())])
    }

    public func upsertVersion(modelId: String, version: String, status: VersionStatus) throws {
        _ = try naming(model: modelId) {
            try db.query("""
                INSERT INTO model_versions (model_id, version, status) VALUES ($1, $2, $3)
                ON CONFLICT (model_id, version) DO UPDATE SET status = EXCLUDED.status
                """, [modelId, version, status.rawValue])
        }
    }

    /// A foreign-key failure on a model id becomes the sentence it means, not SQLSTATE 23503.
    private func naming<T>(model id: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PostgresError where error.kind == .foreignKeyViolation {
            throw RegistryError("no model \(id)")
        }
    }

    public func createSubscription(id: UUID = UUID(), sourceModelId: String, trigger: TriggerEvent, targetModelId: String,
                                   action: JobType, inputSource: InputSource, input: JSONValue?, label: String?,
                                   status: SubscriptionStatus = .active) throws -> EventSubscription {
        let row = try naming(model: sourceModelId) {
            try db.query("""
                INSERT INTO event_subscriptions (id, source_model_id, trigger_event, target_model_id, target_action,
                                                 input_source, input, label, status)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING \(Columns.subscription)
                """, [id, sourceModelId, trigger.rawValue, targetModelId, action.rawValue, inputSource.rawValue,
                      input.map { PostgresJSON($0.description) }, label, status.rawValue]).first!
        }
        return try row.subscription()
    }

    public func subscriptions(sourceModelId: String?) throws -> [EventSubscription] {
        try db.query("""
            SELECT \(Columns.subscription) FROM event_subscriptions
            WHERE $1::text IS NULL OR source_model_id = $1 ORDER BY created_at, id
            """, [sourceModelId]).rows.map { try $0.subscription() }
    }

    /// Returns nil when there is no such subscription.
    public func setSubscriptionStatus(id: UUID, status: SubscriptionStatus) throws -> EventSubscription? {
        try db.query("""
            UPDATE event_subscriptions SET status = $2, updated_at = clock_timestamp() WHERE id = $1
            RETURNING \(Columns.subscription)
            """, [id, status.rawValue]).first.map { try $0.subscription() }
    }

    /// Creates a job on an existing model version (checked here: the table has no foreign key,
    /// see migration 2).
    public func createJob(id: String, modelId: String, version: String, type: JobType, status: JobStatus,
                          input: JSONValue?) throws -> Job {
        let rows = try db.query("""
            INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, started_at)
            SELECT $1, $2, $3, $4, $5, $6::jsonb, CASE WHEN $5 = 'pending' THEN NULL ELSE clock_timestamp() END
            WHERE EXISTS (SELECT 1 FROM model_versions WHERE model_id = $2 AND version = $3)
            RETURNING \(Columns.job)
            """, [id, modelId, version, type.rawValue, status.rawValue, input.map { PostgresJSON($0.description) }])
        guard let row = rows.first else { throw RegistryError("model \(modelId) has no version \(version)") }
        return try row.job()
    }

    public func job(id: String) throws -> Job? {
        try db.query("SELECT \(Columns.job) FROM jobs WHERE job_id = $1", [id]).first.map { try $0.job() }
    }

    public func outcomes(sourceJobId: String) throws -> [SubscriptionOutcome] {
        try db.query("SELECT subscription_outcomes FROM jobs WHERE job_id = $1", [sourceJobId]).first?.outcomes() ?? []
    }
}
