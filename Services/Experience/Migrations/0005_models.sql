-- Collaborative filtering: each tenant's latest implicit-feedback ALS model. Users' and
-- items' factors are float4 arrays; a training replaces all of a
-- tenant's rows in one transaction under a new version, and a feed scores an item only with
-- factors of the same version as the user's, so two trainings never mix.

CREATE TABLE models (
  tenant_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('als')),
  version bigint NOT NULL CHECK (version > 0),
  trained_at timestamptz NOT NULL,
  parameters jsonb NOT NULL,
  users int NOT NULL CHECK (users >= 0),
  items int NOT NULL CHECK (items >= 0),
  interactions int NOT NULL CHECK (interactions >= 0),
  training_seconds float8 NOT NULL CHECK (training_seconds >= 0),
  PRIMARY KEY (tenant_id, kind)
);
SELECT enable_tenant_isolation('models');

CREATE TABLE user_factors (
  tenant_id uuid NOT NULL,
  user_key text NOT NULL,
  version bigint NOT NULL,
  factors real[] NOT NULL,
  PRIMARY KEY (tenant_id, user_key)
);
SELECT enable_tenant_isolation('user_factors');

CREATE TABLE item_factors (
  tenant_id uuid NOT NULL,
  item_key text NOT NULL,
  version bigint NOT NULL,
  factors real[] NOT NULL,
  PRIMARY KEY (tenant_id, item_key)
);
SELECT enable_tenant_isolation('item_factors');
