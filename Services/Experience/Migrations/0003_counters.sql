-- What users did with each item, counted: one row per item and UTC clock hour with
-- activity, and the item's all-time totals. Both change in the same transaction as the
-- interactions they count, so the log is the truth they can be checked (and repaired)
-- against.

CREATE TABLE item_counts (
  tenant_id uuid NOT NULL,
  item_key text NOT NULL,
  hour timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour, 'UTC')),
  views int NOT NULL DEFAULT 0 CHECK (views >= 0),
  clicks int NOT NULL DEFAULT 0 CHECK (clicks >= 0),
  likes int NOT NULL DEFAULT 0 CHECK (likes >= 0),
  saves int NOT NULL DEFAULT 0 CHECK (saves >= 0),
  shares int NOT NULL DEFAULT 0 CHECK (shares >= 0),
  dismissals int NOT NULL DEFAULT 0 CHECK (dismissals >= 0),
  PRIMARY KEY (tenant_id, item_key, hour)
);
CREATE INDEX item_counts_hour ON item_counts (tenant_id, hour);
SELECT enable_tenant_isolation('item_counts');

CREATE TABLE item_totals (
  tenant_id uuid NOT NULL,
  item_key text NOT NULL,
  views bigint NOT NULL DEFAULT 0 CHECK (views >= 0),
  clicks bigint NOT NULL DEFAULT 0 CHECK (clicks >= 0),
  likes bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
  saves bigint NOT NULL DEFAULT 0 CHECK (saves >= 0),
  shares bigint NOT NULL DEFAULT 0 CHECK (shares >= 0),
  dismissals bigint NOT NULL DEFAULT 0 CHECK (dismissals >= 0),
  PRIMARY KEY (tenant_id, item_key)
);
SELECT enable_tenant_isolation('item_totals');

-- Which tenants have counters, for the reconciliation job (row-level security hides every
-- tenant's rows from a transaction that names none). Only ids and a date.
CREATE TABLE counted_tenants (
  tenant_id uuid PRIMARY KEY,
  last_activity timestamptz NOT NULL DEFAULT now()
);

-- Each reconciliation: the hours it checked, what it found wrong per counter, what it repaired.
CREATE TABLE reconciliations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  from_hour timestamptz NOT NULL,
  to_hour timestamptz NOT NULL,
  buckets_checked int NOT NULL,
  -- {"views": {"buckets": n, "difference": n}, ...}: stored minus the log's count.
  drift jsonb NOT NULL,
  repaired int NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciliations_newest ON reconciliations (tenant_id, started_at DESC);
SELECT enable_tenant_isolation('reconciliations');
