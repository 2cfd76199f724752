-- Generations: a tenant's documents live in one generation at a time. A reindex builds the
-- next one beside it (state 'building') while queries keep reading the live one, then
-- switches in one transaction. Infrastructure without row-level security: it holds ids and
-- numbers only, and the indexer and the reindexer read it across tenants.
CREATE TABLE generations (
  tenant_id uuid NOT NULL,
  generation int NOT NULL,
  state text NOT NULL CHECK (state IN ('building', 'live', 'retired')),
  reindex_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  live_since timestamptz,
  PRIMARY KEY (tenant_id, generation)
);
CREATE UNIQUE INDEX generations_one_live ON generations (tenant_id) WHERE state = 'live';
CREATE UNIQUE INDEX generations_one_building ON generations (tenant_id) WHERE state = 'building';

ALTER TABLE documents ADD COLUMN generation int NOT NULL DEFAULT 1;
-- Who may see the document: null for every member of the tenant, else these users only
-- (a private task: its creator and assignee).
ALTER TABLE documents ADD COLUMN visible_to uuid[];
ALTER TABLE documents DROP CONSTRAINT documents_pkey;
ALTER TABLE documents ADD PRIMARY KEY (tenant_id, generation, doc_type, doc_id);

-- Reindex runs: one tenant's (tenant_id) or every tenant's (null), replayed from the
-- compacted source topics by a job; `positions` holds per partition where the replay is
-- and the high watermark it must reach.
CREATE TABLE reindexes (
  id uuid PRIMARY KEY,
  tenant_id uuid,
  state text NOT NULL CHECK (state IN ('replaying', 'switched', 'failed')),
  requested_by uuid NOT NULL,
  events int NOT NULL DEFAULT 0,
  positions jsonb NOT NULL DEFAULT '[]',
  error text,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE UNIQUE INDEX reindexes_one_running ON reindexes ((COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid)))
  WHERE state = 'replaying';

-- Events that could not be indexed: poison events (state 'failed' at once) and documents
-- whose write failed (state 'retrying' while a job retries them with backoff, 'failed'
-- after the last attempt). The original event is kept so the admin API can replay it.
CREATE TABLE failed_documents (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  topic text NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  doc_type text,
  doc_id uuid,
  event jsonb NOT NULL,
  document jsonb,
  error text NOT NULL,
  attempts int NOT NULL DEFAULT 1,
  state text NOT NULL CHECK (state IN ('retrying', 'failed', 'resolved')),
  first_failed_at timestamptz NOT NULL DEFAULT now(),
  last_failed_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);
CREATE INDEX failed_documents_pending ON failed_documents (tenant_id, first_failed_at) WHERE state <> 'resolved';
SELECT enable_tenant_isolation('failed_documents');

-- Where each consumer is, per partition: the committed offset and the high watermark the
-- broker returned with its last fetch, so any replica can report lag. Infrastructure.
CREATE TABLE consumer_positions (
  consumer text NOT NULL,
  topic text NOT NULL,
  partition int NOT NULL,
  committed bigint NOT NULL,
  high_watermark bigint NOT NULL,
  last_event_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic, partition)
);

-- Writes a batch of documents, given per tenant ({"<tenant id>": [document, ...]}, at most
-- one document per tenant, type and id), with one statement per tenant under that
-- tenant's row-level security, tenants and rows in a fixed order (two writers never wait
-- on each other in a cycle). `reindex` null: the live indexer, which writes every
-- generation a tenant has open (live and building) and opens generation 1 for a new
-- tenant; otherwise only the building generation of that reindex. Returns the rows changed.
CREATE FUNCTION apply_documents(batch jsonb, reindex uuid DEFAULT NULL) RETURNS int LANGUAGE plpgsql SET search_path = search AS $$
DECLARE
  tenant uuid;
  docs jsonb;
  changed int := 0;
  n int;
BEGIN
  FOR tenant, docs IN SELECT key::uuid, value FROM jsonb_each(batch) ORDER BY key LOOP
    PERFORM set_config('app.tenant_id', tenant::text, true);
    IF reindex IS NULL THEN
      INSERT INTO generations (tenant_id, generation, state, live_since) VALUES (tenant, 1, 'live', now()) ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO documents AS d
      (tenant_id, generation, doc_type, doc_id, title, body, keywords, tags, facets, visible_to, version, deleted, source_updated_at)
    SELECT tenant, g.generation, x.doc_type, x.doc_id, x.title, x.body, array_to_string(x.tags, ' '), x.tags, x.facets, x.visible_to,
           x.version, x.deleted, x.updated_at
    FROM jsonb_to_recordset(docs) AS x(doc_type text, doc_id uuid, title text, body text, tags text[], facets jsonb,
                                      visible_to uuid[], version int, deleted boolean, updated_at timestamptz)
    JOIN generations g ON g.tenant_id = tenant
      AND CASE WHEN reindex IS NULL THEN g.state IN ('live', 'building') ELSE g.state = 'building' AND g.reindex_id = reindex END
    ORDER BY g.generation, x.doc_type, x.doc_id
    ON CONFLICT (tenant_id, generation, doc_type, doc_id) DO UPDATE SET
      title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords, tags = EXCLUDED.tags, facets = EXCLUDED.facets,
      visible_to = EXCLUDED.visible_to, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
      source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
    WHERE d.version < EXCLUDED.version;
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  RETURN changed;
END $$;

-- Deletes the rows of retired generations, tenant by tenant under each one's policy.
CREATE FUNCTION purge_retired_generations() RETURNS int LANGUAGE plpgsql SET search_path = search AS $$
DECLARE
  retired record;
  removed int := 0;
  n int;
BEGIN
  FOR retired IN SELECT tenant_id, generation FROM generations WHERE state = 'retired' LOOP
    PERFORM set_config('app.tenant_id', retired.tenant_id::text, true);
    DELETE FROM documents WHERE tenant_id = retired.tenant_id AND generation = retired.generation;
    GET DIAGNOSTICS n = ROW_COUNT;
    removed := removed + n;
    DELETE FROM generations WHERE tenant_id = retired.tenant_id AND generation = retired.generation;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  RETURN removed;
END $$;

-- One open failure per event: a batch read again after a crash records nothing twice.
CREATE UNIQUE INDEX failed_documents_open_event ON failed_documents (event_id) WHERE state <> 'resolved';
