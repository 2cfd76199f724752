-- CSV imports of subscribers: the file kept in chunks as it arrived, read by a job a chunk
-- per transaction, with the reader's state and the counts saved with each chunk's rows, so
-- a job that dies resumes where the last chunk committed.
CREATE TABLE subscriber_imports (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  -- upsert: update existing subscribers' names and merge attributes; skip: leave them.
  mode text NOT NULL CHECK (mode IN ('upsert', 'skip')),
  list_ids uuid[] NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'finished', 'failed')),
  total_bytes bigint NOT NULL,
  chunks int NOT NULL,
  next_chunk int NOT NULL DEFAULT 0,
  reader jsonb,
  columns text[],
  rows int NOT NULL DEFAULT 0,
  created int NOT NULL DEFAULT 0,
  updated int NOT NULL DEFAULT 0,
  skipped int NOT NULL DEFAULT 0,
  failed int NOT NULL DEFAULT 0,
  -- The first 1000 row errors: line, field, reason.
  errors jsonb NOT NULL DEFAULT '[]',
  error text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, id)
);
SELECT enable_tenant_isolation('subscriber_imports');

CREATE TABLE subscriber_import_chunks (
  tenant_id uuid NOT NULL,
  import_id uuid NOT NULL,
  seq int NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (tenant_id, import_id, seq),
  FOREIGN KEY (tenant_id, import_id) REFERENCES subscriber_imports (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('subscriber_import_chunks');
