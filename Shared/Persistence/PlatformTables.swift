/// Tables every service has in its schema: the transactional outbox and the consumer
/// inbox. They are infrastructure, read across tenants by the relay and consumers, so
/// they carry a tenant id but no row-level security; no HTTP route reads them.
enum PlatformTables {
    static func migrations(schema: String) -> [Migration] {
        [
            Migration(
                version: "platform.0001_outbox_inbox",
                sql: """
                    CREATE TABLE outbox (
                      id bigserial PRIMARY KEY,
                      event_id uuid NOT NULL UNIQUE,
                      topic text NOT NULL,
                      message_key text NOT NULL,
                      tenant_id uuid NOT NULL,
                      event_type text NOT NULL,
                      source text NOT NULL,
                      subject text NOT NULL,
                      occurred_at timestamptz NOT NULL,
                      traceparent text,
                      payload bytea NOT NULL,
                      created_at timestamptz NOT NULL DEFAULT now(),
                      published_at timestamptz,
                      attempts int NOT NULL DEFAULT 0,
                      last_error text
                    );
                    CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

                    -- Wakes the relay as soon as a transaction that wrote events commits.
                    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      PERFORM pg_notify('\(schema)_outbox', '');
                      RETURN NULL;
                    END $$;
                    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
                      FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

                    CREATE TABLE inbox (
                      event_id uuid NOT NULL,
                      consumer text NOT NULL,
                      topic text NOT NULL,
                      processed_at timestamptz NOT NULL DEFAULT now(),
                      PRIMARY KEY (consumer, event_id)
                    );
                    """
            ),
            Migration(
                version: "platform.0002_tenant_isolation",
                sql: """
                    -- The one definition of tenant isolation. FORCE makes it apply to the owning
                    -- role too; NULLIF makes "no tenant set" match no row instead of failing.
                    CREATE FUNCTION enable_tenant_isolation(target regclass) RETURNS void LANGUAGE plpgsql AS $$
                    BEGIN
                      EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
                      EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
                      EXECUTE format(
                        'CREATE POLICY tenant_isolation ON %s '
                        'USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid) '
                        'WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', target);
                    END $$;
                    """
            ),
            Migration(
                version: "platform.0003_outbox_headers",
                sql: """
                    -- Headers beyond the CloudEvent ones, as [[name, value], ...]: a dead letter
                    -- written through the outbox carries why and where it failed.
                    ALTER TABLE outbox ADD COLUMN extra_headers jsonb;
                    """
            ),
            Migration(
                version: "platform.0004_outbox_secrets",
                sql: """
                    -- An event that carries a secret (a one-time token in an email command)
                    -- keeps no payload once published: published rows are kept a week.
                    ALTER TABLE outbox ADD COLUMN secret boolean NOT NULL DEFAULT false;
                    """
            ),
        ]
    }
}
