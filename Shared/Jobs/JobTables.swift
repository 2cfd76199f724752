import Persistence

/// The job queue's tables in a service's schema. Like the outbox they are infrastructure:
/// every row names its tenant, workers read across tenants, and the admin routes filter
/// by the caller's tenant themselves (no row-level security).
public enum JobTables {
    /// Jobs of no tenant (cron work) carry this one.
    public static let systemTenant = "00000000-0000-0000-0000-000000000000"

    public static func migrations(schema: String) -> [Migration] {
        [
            Migration(
                version: "jobs.0001_queue",
                sql: """
                    -- scheduled: waits for run_at (new or retrying); available: ready to claim;
                    -- running: leased to a worker until locked_until; discarded: the dead-letter
                    -- state (attempts exhausted or discarded by hand), kept with its errors.
                    CREATE TABLE jobs (
                      id bigserial PRIMARY KEY,
                      tenant_id uuid NOT NULL,
                      kind text NOT NULL,
                      queue text NOT NULL,
                      args jsonb NOT NULL,
                      state text NOT NULL CHECK (state IN ('scheduled', 'available', 'running', 'succeeded', 'discarded')),
                      priority smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 4),
                      attempt int NOT NULL DEFAULT 0,
                      max_attempts int NOT NULL CHECK (max_attempts >= 1),
                      timeout_seconds int NOT NULL,
                      run_at timestamptz NOT NULL DEFAULT now(),
                      unique_key text,
                      locked_by text,
                      locked_until timestamptz,
                      errors jsonb NOT NULL DEFAULT '[]',
                      created_at timestamptz NOT NULL DEFAULT now(),
                      attempted_at timestamptz,
                      finished_at timestamptz
                    );
                    -- Claiming walks the tenants with ready work, then each tenant's jobs in order.
                    CREATE INDEX jobs_claim ON jobs (queue, tenant_id, priority, run_at, id) WHERE state = 'available';
                    CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'scheduled';
                    CREATE INDEX jobs_leases ON jobs (locked_until) WHERE state = 'running';
                    CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state = 'succeeded';
                    CREATE INDEX jobs_by_tenant ON jobs (tenant_id, id DESC);
                    -- A unique job is one pending or running job per key; finished ones free the key.
                    CREATE UNIQUE INDEX jobs_unique ON jobs (kind, unique_key)
                      WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running');

                    CREATE TABLE job_queues (
                      name text PRIMARY KEY,
                      paused boolean NOT NULL DEFAULT false,
                      updated_at timestamptz NOT NULL DEFAULT now()
                    );

                    -- One row per cron slot fired, written with the job it enqueued: the
                    -- primary key is what makes a slot fire once across replicas.
                    CREATE TABLE cron_runs (
                      name text NOT NULL,
                      slot timestamptz NOT NULL,
                      job_id bigint,
                      PRIMARY KEY (name, slot)
                    );

                    CREATE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      PERFORM pg_notify('\(schema)_jobs', '');
                      RETURN NULL;
                    END $$;
                    CREATE TRIGGER jobs_notify AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();
                    """
            ),
            Migration(
                version: "jobs.0002_notify_queues",
                sql: """
                    -- The notification names the queues that got ready jobs, so only their
                    -- workers claim (a burst of one queue's jobs woke every queue to claim nothing).
                    CREATE OR REPLACE FUNCTION jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                    DECLARE
                      ready text;
                    BEGIN
                      FOR ready IN SELECT DISTINCT queue FROM inserted WHERE state = 'available' LOOP
                        PERFORM pg_notify('\(schema)_jobs', ready);
                      END LOOP;
                      RETURN NULL;
                    END $$;
                    DROP TRIGGER jobs_notify ON jobs;
                    CREATE TRIGGER jobs_notify AFTER INSERT ON jobs REFERENCING NEW TABLE AS inserted
                      FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify();
                    """
            ),
            Migration(
                version: "jobs.0003_workflows",
                sql: """
                    -- A batch: jobs enqueued together, and a callback job enqueued exactly once when
                    -- every one of them has ended (succeeded or discarded), with the counts.
                    CREATE TABLE job_batches (
                      id uuid PRIMARY KEY,
                      tenant_id uuid NOT NULL,
                      total int NOT NULL CHECK (total > 0),
                      succeeded int NOT NULL DEFAULT 0,
                      discarded int NOT NULL DEFAULT 0,
                      callback_kind text NOT NULL,
                      callback_queue text NOT NULL,
                      callback_args jsonb NOT NULL,
                      callback_priority smallint NOT NULL,
                      callback_max_attempts int NOT NULL,
                      callback_timeout_seconds int NOT NULL,
                      callback_job_id bigint,
                      created_at timestamptz NOT NULL DEFAULT now(),
                      finished_at timestamptz
                    );
                    CREATE INDEX job_batches_by_tenant ON job_batches (tenant_id, created_at DESC);

                    -- waiting: for the jobs in waiting_on to succeed. has_dependents marks a job
                    -- another waits on, so only those (and batch members) pay for the trigger.
                    ALTER TABLE jobs ADD COLUMN batch_id uuid;
                    ALTER TABLE jobs ADD COLUMN waiting_on bigint[];
                    ALTER TABLE jobs ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
                    ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
                    ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
                      CHECK (state IN ('waiting', 'scheduled', 'available', 'running', 'succeeded', 'discarded'));
                    CREATE INDEX jobs_batch ON jobs (batch_id, state) WHERE batch_id IS NOT NULL;
                    CREATE INDEX jobs_waiting ON jobs USING gin (waiting_on) WHERE state = 'waiting';

                    CREATE FUNCTION jobs_ended() RETURNS trigger LANGUAGE plpgsql AS $$
                    DECLARE
                      batch job_batches;
                      callback bigint;
                      ready text;
                    BEGIN
                      -- The batch counts a job when it ends, and takes it back if it is retried by
                      -- hand. The batch row's lock orders concurrent ends, so exactly one of them
                      -- sees the last count and enqueues the callback.
                      IF NEW.batch_id IS NOT NULL THEN
                        UPDATE job_batches SET
                          succeeded = succeeded + (NEW.state = 'succeeded')::int - (OLD.state = 'succeeded')::int,
                          discarded = discarded + (NEW.state = 'discarded')::int - (OLD.state = 'discarded')::int
                        WHERE id = NEW.batch_id
                        RETURNING * INTO batch;
                        IF FOUND AND batch.callback_job_id IS NULL AND batch.succeeded + batch.discarded = batch.total THEN
                          INSERT INTO jobs (tenant_id, kind, queue, args, state, priority, max_attempts, timeout_seconds)
                          VALUES (batch.tenant_id, batch.callback_kind, batch.callback_queue,
                                  jsonb_build_object('batchId', batch.id, 'total', batch.total, 'succeeded', batch.succeeded,
                                                     'discarded', batch.discarded, 'arguments', batch.callback_args),
                                  'available', batch.callback_priority, batch.callback_max_attempts, batch.callback_timeout_seconds)
                          RETURNING id INTO callback;
                          UPDATE job_batches SET callback_job_id = callback, finished_at = now() WHERE id = batch.id;
                        END IF;
                      END IF;
                      -- The jobs waiting on this one: one wait fewer when it succeeded; discarded
                      -- with it when it was discarded (what they needed will not happen).
                      IF NEW.has_dependents AND NEW.state IN ('succeeded', 'discarded') THEN
                        FOR ready IN
                          WITH freed AS (
                            UPDATE jobs SET
                              waiting_on = array_remove(waiting_on, NEW.id),
                              state = CASE WHEN NEW.state = 'discarded' THEN 'discarded'
                                           WHEN cardinality(array_remove(waiting_on, NEW.id)) > 0 THEN 'waiting'
                                           WHEN run_at > now() THEN 'scheduled' ELSE 'available' END,
                              finished_at = CASE WHEN NEW.state = 'discarded' THEN now() END,
                              errors = CASE WHEN NEW.state = 'discarded'
                                THEN errors || jsonb_build_array(jsonb_build_object(
                                  'attempt', attempt, 'at', now(), 'error', 'job ' || NEW.id || ' it waited on was discarded'))
                                ELSE errors END
                            WHERE state = 'waiting' AND waiting_on @> ARRAY[NEW.id]
                            RETURNING queue, state
                          )
                          SELECT DISTINCT queue FROM freed WHERE state = 'available'
                        LOOP
                          PERFORM pg_notify('\(schema)_jobs', ready);
                        END LOOP;
                      END IF;
                      RETURN NULL;
                    END $$;
                    CREATE TRIGGER jobs_ended AFTER UPDATE OF state ON jobs FOR EACH ROW
                      WHEN ((NEW.batch_id IS NOT NULL OR NEW.has_dependents) AND OLD.state IS DISTINCT FROM NEW.state
                            AND (NEW.state IN ('succeeded', 'discarded') OR OLD.state IN ('succeeded', 'discarded')))
                      EXECUTE FUNCTION jobs_ended();
                    """
            ),
        ]
    }
}
