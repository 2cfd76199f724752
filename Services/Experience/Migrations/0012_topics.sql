-- A tenant's taxonomy: topics it files articles under, each described by its keywords (a
-- phrase may have several words). New articles are labelled by them as they come in.

CREATE TABLE topics (
  tenant_id uuid NOT NULL,
  key text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,79}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  keywords text[] NOT NULL,
  version int NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
SELECT enable_tenant_isolation('topics');
