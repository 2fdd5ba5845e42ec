import CascadeDomain
import Foundation
import Postgres

/// Loads what a batch needs and writes what it did, in one transaction, in two round trips:
/// (BEGIN + lock jobs + subscriptions + their targets + prior outcomes), (writes + COMMIT).
struct BatchStore {
    let db: PostgresConnection

    /// Runs `plan` between loading and writing; rolls back on any error.
    func apply(_ reports: [CompletionReport], _ plan: (BatchSnapshot) -> BatchEffects) throws -> AppliedBatch {
        do {
            let snapshot = try loadSnapshot(reports)
            let effects = plan(snapshot)
            let ids = try write(effects)
            return AppliedBatch(effects: effects, outbox: zip(ids, effects.outbox).map { OutboxRow(id: $0, message: $1) })
        } catch {
            if db.isConnected { _ = try? db.query("ROLLBACK") }
            throw error
        }
    }

    private func loadSnapshot(_ reports: [CompletionReport]) throws -> BatchSnapshot {
        let jobIds = Array(Set(reports.map { $0.jobId })).sorted()
        let modelIds = Array(Set(reports.map { $0.modelId })).sorted()
        let results = try db.pipeline([
            PipelineStatement("BEGIN"),
            // Locked in a fixed order so concurrent members (during a rebalance) cannot deadlock,
            // and a second member applying the same report waits, then sees a terminal job.
            PipelineStatement("SELECT \(Columns.job) FROM jobs WHERE job_id = ANY($1::text[]) ORDER BY job_id FOR UPDATE",
                              [PostgresArray(jobIds)]),
            PipelineStatement("""
                SELECT \(Columns.subscription) FROM event_subscriptions
                WHERE source_model_id = ANY($1::text[]) AND status = 'active' AND trigger_event = 'inference_complete'
                ORDER BY created_at, id
                """, [PostgresArray(modelIds)]),
            PipelineStatement("""
                SELECT source_job_id, subscription_id, triggered_job_id, error FROM subscription_outcomes
                WHERE source_job_id = ANY($1::text[]) ORDER BY source_job_id, position
                """, [PostgresArray(jobIds)]),
            // Targets of those subscriptions, with their active versions, in the same round trip.
            PipelineStatement("""
                SELECT m.id, m.actions::text AS actions, v.version, v.status, v.created_at
                FROM models m LEFT JOIN model_versions v ON v.model_id = m.id AND v.status = 'active'
                WHERE m.id IN (SELECT target_model_id FROM event_subscriptions
                               WHERE source_model_id = ANY($1::text[]) AND status = 'active'
                                 AND trigger_event = 'inference_complete')
                """, [PostgresArray(modelIds)]),
        ])
        var snapshot = BatchSnapshot()
        for row in results[1].rows {
            let job = try row.job()
            snapshot.jobs[job.id] = job
        }
        for row in results[2].rows {
            let subscription = try row.subscription()
            snapshot.subscriptions[subscription.sourceModelId, default: []].append(subscription)
        }
        for row in results[3].rows {
            snapshot.outcomes[try row.string("source_job_id"), default: []].append(try row.outcome())
        }
        var versions: [String: [ModelVersion]] = [:]
        var actions: [String: Set<JobType>] = [:]
        for row in results[4].rows {
            let id = try row.string("id")
            actions[id] = Set(parseWordArray(try row.string("actions")).compactMap(JobType.init(rawValue:)))
            if let version = try row.optionalString("version") {
                versions[id, default: []].append(ModelVersion(
                    version: version, status: try row.enumValue("status", as: VersionStatus.self), createdAt: try row.date("created_at")))
            }
        }
        for (id, acts) in actions { snapshot.models[id] = Model(id: id, actions: acts, versions: versions[id] ?? []) }
        return snapshot
    }

    /// Returns the ids of the outbox rows written, in the order of `effects.outbox`.
    private func write(_ effects: BatchEffects) throws -> [Int64] {
        var statements: [PipelineStatement] = []
        let completed = effects.completedJobs
        if !completed.isEmpty {
            // The status guard makes a late or duplicate writer a no-op; the count check below
            // turns that into a retry instead of a silent divergence.
            statements.append(PipelineStatement("""
                UPDATE jobs SET status = u.status, output = u.output::jsonb, error = u.error::jsonb,
                    started_at = u.started_at, completed_at = u.completed_at
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
                    AS u(job_id, status, output, error, started_at, completed_at)
                WHERE jobs.job_id = u.job_id AND jobs.status IN ('pending', 'started')
                """, [PostgresArray(completed.map { $0.id }), PostgresArray(completed.map { $0.status.rawValue }),
                      PostgresArray(completed.map { $0.output?.description }), PostgresArray(completed.map { $0.error?.description }),
                      PostgresArray(completed.map { $0.startedAt }), PostgresArray(completed.map { $0.completedAt })]))
        }
        let created = effects.createdJobs
        if !created.isEmpty {
            statements.append(PipelineStatement("""
                INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, created_at, parent_job_id,
                                  subscription_id, cascade_depth)
                SELECT job_id, model_id, model_version, job_type, status, input::jsonb, created_at, parent_job_id,
                       subscription_id, cascade_depth
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                            $8::text[], $9::uuid[], $10::int[])
                    AS u(job_id, model_id, model_version, job_type, status, input, created_at, parent_job_id,
                         subscription_id, cascade_depth)
                """, [PostgresArray(created.map { $0.id }), PostgresArray(created.map { $0.modelId }), PostgresArray(created.map { $0.modelVersion }),
                      PostgresArray(created.map { $0.type.rawValue }), PostgresArray(created.map { $0.status.rawValue }),
                      PostgresArray(created.map { $0.input?.description }), PostgresArray(created.map { $0.createdAt }),
                      PostgresArray(created.map { $0.parentJobId }), PostgresArray(created.map { $0.subscriptionId }),
                      PostgresArray(created.map { $0.cascadeDepth })]))
        }
        let outcomes = effects.outcomes
        if !outcomes.isEmpty {
            statements.append(PipelineStatement("""
                INSERT INTO subscription_outcomes (source_job_id, position, subscription_id, triggered_job_id, error, recorded_at)
                SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[])
                """, [PostgresArray(outcomes.map { $0.sourceJobId }), PostgresArray(outcomes.map { $0.position }),
                      PostgresArray(outcomes.map { $0.outcome.subscriptionId }),
                      PostgresArray(outcomes.map { if case .triggered(_, let id) = $0.outcome { id } else { nil } }),
                      PostgresArray(outcomes.map { if case .failed(_, let e) = $0.outcome { e } else { nil } }),
                      PostgresArray(outcomes.map { $0.recordedAt })]))
        }
        let outboxIndex = statements.count
        if !effects.outbox.isEmpty {
            statements.append(OutboxStore.insertStatement(effects.outbox))
        }
        statements.append(PipelineStatement("COMMIT"))
        let results = try db.pipeline(statements)
        let ids = effects.outbox.isEmpty ? [] : try results[outboxIndex].rows.map { try $0.int("id") }
        if !completed.isEmpty, results[0].affectedRows != completed.count {
            throw PostgresError(kind: .serializationFailure, sqlState: "40001",
                                message: "\(completed.count - results[0].affectedRows) job(s) changed under the batch; retrying")
        }
        guard ids.count == effects.outbox.count else { throw PostgresError.client("outbox insert returned \(ids.count) ids for \(effects.outbox.count) rows") }
        return ids
    }
}

/// A committed batch: what it did, and its outbox rows ready to hand to the relay.
struct AppliedBatch {
    var effects: BatchEffects
    var outbox: [OutboxRow]

    mutating func append(_ other: AppliedBatch) {
        effects.completedJobs += other.effects.completedJobs
        effects.createdJobs += other.effects.createdJobs
        effects.outcomes += other.effects.outcomes
        effects.outbox += other.effects.outbox
        effects.results += other.effects.results
        outbox += other.outbox
    }
}
