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
        ]
    }
}
