-- A/B experiments on what users are shown: variants (ranking weights, section order),
-- each user's variant fixed by a hash for the experiment's life, exposures logged so
-- results count only what happened after a user first saw their variant.

CREATE TABLE experiments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text NOT NULL DEFAULT '',
  -- [{"name", "weight", "ranking": {...}, "sectionOrder": [...]}]
  variants jsonb NOT NULL CHECK (jsonb_typeof(variants) = 'array'),
  state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'running', 'stopped')),
  winner text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  stopped_at timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX experiments_name ON experiments (tenant_id, lower(name));
-- One experiment shapes a tenant's home feed at a time.
CREATE UNIQUE INDEX experiments_one_running ON experiments (tenant_id) WHERE state = 'running';
SELECT enable_tenant_isolation('experiments');

CREATE TABLE exposures (
  tenant_id uuid NOT NULL,
  experiment_id uuid NOT NULL,
  user_key text NOT NULL,
  variant text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, experiment_id, user_key),
  FOREIGN KEY (tenant_id, experiment_id) REFERENCES experiments (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('exposures');
