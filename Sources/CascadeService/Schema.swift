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
        // Measured: PostgreSQL spent more on a batch's outbox and outcome rows (about 1,500 rows
        // and index entries written, half of them deleted again) than on its jobs. Now a
        // completed job carries its outcomes, a batch writes one outbox row (OutboxFraming),
        // and children are found through their parent's outcomes rather than an index.
        // Rows of the earlier shape are carried over, so an upgrade loses nothing in flight.
        Migration(version: 3, name: "outcomes on the job row, one outbox row per batch", sql: """
            ALTER TABLE jobs ADD COLUMN subscription_outcomes jsonb;
            UPDATE jobs SET subscription_outcomes = o.outcomes
            FROM (SELECT source_job_id,
                         jsonb_agg(CASE WHEN triggered_job_id IS NULL
                                        THEN jsonb_build_object('subscription_id', subscription_id, 'error', error)
                                        ELSE jsonb_build_object('subscription_id', subscription_id, 'job_id', triggered_job_id)
                                   END ORDER BY position) AS outcomes
                  FROM subscription_outcomes GROUP BY source_job_id) o
            WHERE jobs.job_id = o.source_job_id;
            DROP TABLE subscription_outcomes;
            DROP INDEX IF EXISTS jobs_by_parent;

            ALTER TABLE outbox RENAME TO outbox_v2;
            ALTER INDEX outbox_pkey RENAME TO outbox_v2_pkey;
            ALTER SEQUENCE outbox_id_seq RENAME TO outbox_v2_id_seq;
            CREATE TABLE outbox (
                id            bigserial PRIMARY KEY,
                message_count integer NOT NULL CHECK (message_count > 0),
                messages      bytea COMPRESSION lz4 NOT NULL,
                created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            -- Each old row becomes a one-message row in OutboxFraming's layout.
            INSERT INTO outbox (message_count, messages, created_at)
            SELECT 1, '\\x01'::bytea
                   || int4send(octet_length(convert_to(topic, 'UTF8'))) || convert_to(topic, 'UTF8')
                   || CASE WHEN key IS NULL THEN int4send(-1) ELSE int4send(length(key)) || key END
                   || int4send(length(value)) || value
                   || int4send(jsonb_array_length(headers))
                   || coalesce((SELECT string_agg(
                          int4send(octet_length(convert_to(h->>'name', 'UTF8'))) || convert_to(h->>'name', 'UTF8')
                          || CASE WHEN h ? 'value' THEN int4send(octet_length(convert_to(h->>'value', 'UTF8')))
                                                         || convert_to(h->>'value', 'UTF8')
                                  WHEN h ? 'base64' THEN int4send(length(decode(h->>'base64', 'base64')))
                                                         || decode(h->>'base64', 'base64')
                                  ELSE int4send(-1) END, ''::bytea ORDER BY n)
                       FROM jsonb_array_elements(headers) WITH ORDINALITY AS e(h, n)), ''::bytea),
                   created_at
            FROM outbox_v2 ORDER BY id;
            DROP TABLE outbox_v2;
            """),
        // A message the broker refused for good (too large, invalid, not authorized) must
        // neither block the outbox nor vanish: it is parked here with why, and an operator
        // re-sends it (`cascade parked resend`) once the broker's configuration is fixed. The
        // full original of a dead letter cut to fit is kept here too.
        Migration(version: 4, name: "parked messages", sql: """
            CREATE TABLE parked_messages (
                id          bigserial PRIMARY KEY,
                topic       text,
                event_id    text,
                size        integer NOT NULL,
                -- OutboxFraming of this one message, or the bytes of an outbox row that did not decode (topic NULL).
                message     bytea COMPRESSION lz4 NOT NULL,
                reason      text NOT NULL,
                outbox_row  bigint,
                position    integer,
                parked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            -- Parking is idempotent: a message is parked once, however often its row is settled
            -- (a lost COMMIT answer, two members sweeping) or its report answered again.
            CREATE UNIQUE INDEX parked_messages_by_origin ON parked_messages (outbox_row, position)
                WHERE outbox_row IS NOT NULL AND position IS NOT NULL;
            CREATE UNIQUE INDEX parked_messages_undecodable_rows ON parked_messages (outbox_row)
                WHERE outbox_row IS NOT NULL AND position IS NULL;
            CREATE UNIQUE INDEX parked_messages_cut_originals ON parked_messages (event_id)
                WHERE outbox_row IS NULL;
            """),
        // Cascade updates a job once (to success or failure), and the row about triples (output
        // and outcomes). On a full page the update goes to another page: an index entry, a lock
        // record and a whole tuple more in the WAL, about 170 bytes a report (docs/BENCHMARKS.md,
        // "WAL per report"). Rows inserted at a third of a page have room to grow in place (HOT)
        // and then fill it. Only pages written from now on get it, and a fillfactor an operator
        // set is kept (docs/OPERATIONS.md, "The jobs table's fillfactor").
        Migration(version: 5, name: "room on job pages for HOT completions", sql: """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = 'jobs'::regclass
                               AND EXISTS (SELECT 1 FROM unnest(reloptions) AS o WHERE o LIKE 'fillfactor=%')) THEN
                    ALTER TABLE jobs SET (fillfactor = 35);
                END IF;
            END $$;
            """),
        // A batch reads its jobs without locking them (each row lock was a WAL record, 54 bytes
        // a report: docs/BENCHMARKS.md). Its completing UPDATE matches a job only in the status
        // the batch read; when another member got there first it matches fewer, and this fails
        // the statement (40001, retried) before COMMIT, so the batch's new jobs and messages are
        // rolled back with it instead of being written twice.
        Migration(version: 6, name: "complete jobs without row locks", sql: """
            CREATE FUNCTION cascade_expect_completed(completed bigint, planned bigint) RETURNS bigint
            LANGUAGE plpgsql AS $$
            BEGIN
                IF completed <> planned THEN
                    RAISE EXCEPTION '% of % job(s) changed under the batch before its write', planned - completed, planned
                        USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN completed;
            END $$;
            """),
    ]
}
