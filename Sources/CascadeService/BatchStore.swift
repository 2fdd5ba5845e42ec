import CascadeDomain
import Foundation
import Postgres

/// What applying a batch needs of the database: load what the reports touch, let the caller
/// plan, write the plan, all in one transaction. A seam, so that the paths taken when a store
/// fails (retries, one report at a time) are tested with a store that fails on demand.
package protocol BatchStoring {
    /// Throws PostgresError, PostgresTransactionError or ServiceError; nothing is kept then.
    func apply(_ reports: [CompletionReport], _ plan: (BatchSnapshot) -> BatchEffects) throws -> AppliedBatch
}

/// Loads what a batch needs and writes what it did, in one transaction, in two round trips:
/// (BEGIN + jobs with their outcomes + subscriptions + their targets), (writes + COMMIT).
///
/// The jobs are read without a row lock (a lock is a WAL record per job). Two members applying
/// one report (during a rebalance) are kept apart by the completing `UPDATE` instead: it matches
/// a job only in the status this batch read, waits on a row the other member is completing,
/// and when it matches fewer jobs than planned it fails the statement, so the batch's other
/// writes roll back with it and the batch is planned again on fresh rows.
package struct BatchStore: BatchStoring {
    let db: PostgresConnection

    package init(db: PostgresConnection) { self.db = db }

    /// Runs `plan` between loading and writing.
    package func apply(_ reports: [CompletionReport], _ plan: (BatchSnapshot) -> BatchEffects) throws -> AppliedBatch {
        try Failpoints.check(.beforeBatchTransaction)
        return try db.withTransaction { tx in
            let snapshot = try loadSnapshot(reports, in: tx)
            let effects = plan(snapshot)
            try Failpoints.check(.batchWrite)
            let outboxId = try write(effects, readFrom: snapshot, in: tx)
            return AppliedBatch(effects: effects, outbox: outboxId.map { [OutboxBatch(id: $0, messages: effects.outbox)] } ?? [])
        }
    }

    private func loadSnapshot(_ reports: [CompletionReport], in tx: PostgresTransaction) throws -> BatchSnapshot {
        let jobIds = Array(Set(reports.map { $0.jobId }))
        let modelIds = Array(Set(reports.map { $0.modelId })).sorted()
        let results = try tx.send([
            // Completing a job never reads its input, which can be large (prompts): not loaded.
            PipelineStatement("""
                SELECT \(Columns.jobWithoutInput), NULL::jsonb AS input, subscription_outcomes FROM jobs
                WHERE job_id = ANY($1::text[])
                """, [PostgresArray(jobIds)]),
            PipelineStatement("""
                SELECT \(Columns.subscription) FROM event_subscriptions
                WHERE source_model_id = ANY($1::text[]) AND status = 'active' AND trigger_event = 'inference_complete'
                ORDER BY created_at, id
                """, [PostgresArray(modelIds)]),
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
        for row in results[0].rows {
            let job = try row.job()
            snapshot.jobs[job.id] = job
            if let outcomes = try row.outcomes() { snapshot.outcomes[job.id] = outcomes }
        }
        // Subscriptions and models are shared by every report of a model: a broken one is no
        // report's fault, and isolating would dead-letter them all, so it is fatal instead.
        try asSharedRows {
            for row in results[1].rows {
                let subscription = try row.subscription()
                snapshot.subscriptions[subscription.sourceModelId, default: []].append(subscription)
            }
        }
        var versions: [String: [ModelVersion]] = [:]
        var actions: [String: Set<JobType>] = [:]
        try asSharedRows {
            for row in results[2].rows {
                let id = try row.string("id")
                actions[id] = Set(parseWordArray(try row.string("actions")).compactMap(JobType.init(rawValue:)))
                if let version = try row.optionalString("version") {
                    versions[id, default: []].append(ModelVersion(
                        version: version, status: try row.enumValue("status", as: VersionStatus.self), createdAt: try row.date("created_at")))
                }
            }
        }
        for (id, acts) in actions { snapshot.models[id] = Model(id: id, actions: acts, versions: versions[id] ?? []) }
        return snapshot
    }

    private func asSharedRows(_ body: () throws -> Void) throws {
        do { try body() } catch let ServiceError.brokenInvariant(what) { throw ServiceError.brokenSharedRow(what) }
    }

    /// Returns the id of the outbox row written, if the batch has messages.
    private func write(_ effects: BatchEffects, readFrom snapshot: BatchSnapshot, in tx: PostgresTransaction) throws -> Int64? {
        var statements: [PipelineStatement] = []
        // Two members racing on one partition apply its reports in the same (offset) order, so
        // they usually lock the rows in the same order too (the join's plan decides); a
        // deadlock is 40P01, retried.
        let completed = effects.completedJobs
        if !completed.isEmpty {
            var outcomes: [String: [SubscriptionOutcome]] = [:]
            for record in effects.outcomes { outcomes[record.sourceJobId, default: []].append(record.outcome) }
            let statusesRead = try completed.map { job in
                guard let read = snapshot.jobs[job.id] else { throw ServiceError.brokenInvariant("job \(job.id) completed without being read") }
                return read.status.rawValue
            }
            // A job completed or started by someone else since it was read no longer matches,
            // and cascade_expect_completed (migration 6) then fails the statement with 40001.
            statements.append(PipelineStatement("""
                WITH completed AS (
                    UPDATE jobs SET status = u.status, output = u.output::jsonb, error = u.error::jsonb,
                        started_at = u.started_at, completed_at = u.completed_at, subscription_outcomes = u.outcomes::jsonb
                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                                $7::text[], $8::text[])
                        AS u(job_id, status, output, error, started_at, completed_at, outcomes, status_read)
                    WHERE jobs.job_id = u.job_id AND jobs.status = u.status_read
                    RETURNING 1)
                SELECT cascade_expect_completed(count(*), $9) FROM completed
                """, [PostgresArray(completed.map { $0.id }), PostgresArray(completed.map { $0.status.rawValue }),
                      PostgresArray(completed.map { $0.output }), PostgresArray(completed.map { $0.error }),
                      PostgresArray(completed.map { $0.startedAt }), PostgresArray(completed.map { $0.completedAt }),
                      PostgresArray(completed.map { outcomes[$0.id].map(OutcomesElement.init) }),
                      PostgresArray(statusesRead), completed.count]))
        }
        let created = effects.createdJobs
        if !created.isEmpty {
            statements.append(PipelineStatement("""
                INSERT INTO jobs (job_id, model_id, model_version, job_type, status, input, created_at, parent_job_id,
                                  subscription_id, cascade_depth)
                SELECT job_id, model_id, model_version, job_type, status, input::jsonb, created_at, parent_job_id,
                       subscription_id, cascade_depth
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
                            $8::text[], $9::uuid[], $10::bigint[])
                    AS u(job_id, model_id, model_version, job_type, status, input, created_at, parent_job_id,
                         subscription_id, cascade_depth)
                """, [PostgresArray(created.map { $0.id }), PostgresArray(created.map { $0.modelId }), PostgresArray(created.map { $0.modelVersion }),
                      PostgresArray(created.map { $0.type.rawValue }), PostgresArray(created.map { $0.status.rawValue }),
                      PostgresArray(created.map { $0.input }), PostgresArray(created.map { $0.createdAt }),
                      PostgresArray(created.map { $0.parentJobId }), PostgresArray(created.map { $0.subscriptionId }),
                      PostgresArray(created.map { $0.cascadeDepth })]))
        }
        for parked in effects.parked { statements.append(ParkedStore.insertStatement(parked)) }
        let outboxIndex = statements.count
        if !effects.outbox.isEmpty {
            statements.append(OutboxStore.insertStatement(effects.outbox))
        }
        let results = try tx.commit(with: statements)
        guard !effects.outbox.isEmpty else { return nil }
        guard let row = results[outboxIndex].first else { throw ServiceError.missingRow("the outbox insert returned no id") }
        return try row.int("id")
    }
}

/// A committed batch: what it did, and its outbox rows ready to hand to the relay.
package struct AppliedBatch {
    package var effects: BatchEffects
    package var outbox: [OutboxBatch]
    /// Reports whose message key was not their job id (applied all the same).
    var keyMismatches = 0

    mutating func append(_ other: AppliedBatch) {
        self = AppliedBatch(effects: effects + other.effects, outbox: outbox + other.outbox,
                            keyMismatches: keyMismatches + other.keyMismatches)
    }
}
