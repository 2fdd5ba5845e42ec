/// Versioned schema migrations. Append only: a released migration is never edited, a change is
/// a new entry. Each runs in its own transaction under an advisory lock (see Migrator).
enum Schema {
    struct Migration {
        let version: Int
        let name: String
        let sql: String
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "registry, jobs, outcomes, outbox", sql: """
            CREATE TABLE models (
                id          text PRIMARY KEY,
                actions     text[] NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
                CHECK (actions <@ ARRAY['inference', 'training'])
            );
            CREATE TABLE model_versions (
                model_id    text NOT NULL REFERENCES models (id),
                version     text NOT NULL,
                status      text NOT NULL CHECK (status IN ('pending', 'training', 'active', 'failed')),
                created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
                PRIMARY KEY (model_id, version)
            );
            CREATE TABLE jobs (
                job_id          text PRIMARY KEY,
                model_id        text NOT NULL,
                model_version   text NOT NULL,
                job_type        text NOT NULL CHECK (job_type IN ('inference', 'training')),
                status          text NOT NULL CHECK (status IN ('pending', 'started', 'success', 'failure')),
                input           jsonb,
                output          jsonb,
                error           jsonb,
                created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                started_at      timestamptz,
                completed_at    timestamptz,
                parent_job_id   text,
                subscription_id uuid,
                cascade_depth   integer NOT NULL DEFAULT 0 CHECK (cascade_depth >= 0),
                FOREIGN KEY (model_id, model_version) REFERENCES model_versions (model_id, version)
            );
            CREATE INDEX jobs_by_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
            CREATE TABLE event_subscriptions (
                id              uuid PRIMARY KEY,
                source_model_id text NOT NULL REFERENCES models (id),
                trigger_event   text NOT NULL CHECK (trigger_event IN ('inference_complete', 'training_complete')),
                target_model_id text NOT NULL,
                target_action   text NOT NULL CHECK (target_action IN ('inference', 'training')),
                input_source    text NOT NULL CHECK (input_source IN ('stored', 'trigger_output')),
                input           jsonb,
                label           text,
                status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'stale')),
                created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                CHECK (input_source <> 'stored' OR input IS NOT NULL)
            );
            CREATE INDEX event_subscriptions_firing ON event_subscriptions (source_model_id, created_at)
                WHERE status = 'active' AND trigger_event = 'inference_complete';
            -- What each subscription did when its source job completed: a triggered job or an error.
            CREATE TABLE subscription_outcomes (
                source_job_id    text NOT NULL REFERENCES jobs (job_id),
                position         integer NOT NULL,
                subscription_id  uuid NOT NULL,
                triggered_job_id text,
                error            text,
                recorded_at      timestamptz NOT NULL,
                PRIMARY KEY (source_job_id, position),
                CHECK ((triggered_job_id IS NULL) <> (error IS NULL))
            );
            -- Messages written with the effects they announce; the relay publishes and deletes them.
            CREATE TABLE outbox (
                id         bigserial PRIMARY KEY,
                topic      text NOT NULL,
                key        bytea,
                value      bytea NOT NULL,
                headers    jsonb NOT NULL DEFAULT '[]',
                created_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            """),
        // Measured: these two foreign keys cost a fifth of drain throughput. Every new job took a
        // KEY SHARE lock on its model version's one row, so concurrent batches contended on it
        // (multixacts). The rows they guarded are written by Cascade itself in the same
        // transaction (outcomes) or checked on insert (jobs), and versions are never deleted.
        Migration(version: 2, name: "drop hot-row foreign keys", sql: """
            ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_model_id_model_version_fkey;
            ALTER TABLE subscription_outcomes DROP CONSTRAINT IF EXISTS subscription_outcomes_source_job_id_fkey;
            """),
    ]
}
