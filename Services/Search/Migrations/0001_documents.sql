-- One row per searchable entity of a tenant, built from domain events. `version` is the
-- entity's version from its events: an event applies only if it is newer, so redelivered
-- or reordered events cannot bring back old text. Deleted entities stay as tombstones
-- (deleted = true) so a late "updated" event cannot resurrect them.
CREATE TABLE documents (
  tenant_id uuid NOT NULL,
  doc_type text NOT NULL,
  doc_id uuid NOT NULL,
  title text NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  keywords text NOT NULL DEFAULT '',
  version int NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('simple', keywords), 'B') ||
    setweight(to_tsvector('english', body), 'C')
  ) STORED,
  PRIMARY KEY (tenant_id, doc_type, doc_id)
);
CREATE INDEX documents_search ON documents USING gin (search);
SELECT enable_tenant_isolation('documents');
