-- The nursery stock photo counts feed: where plants stand, what they are, how many.

-- warehouse → area → location (a bed, bench or tray block). Only a location holds stock,
-- has a surface and a calibration for estimating counts from photos.
CREATE TABLE locations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('warehouse', 'area', 'location')),
  parent_id uuid,
  name text NOT NULL,
  code text,
  surface_m2 double precision CHECK (surface_m2 > 0),
  calibration jsonb,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  CHECK ((kind = 'warehouse') = (parent_id IS NULL)),
  CHECK (kind = 'location' OR (surface_m2 IS NULL AND calibration IS NULL)),
  -- Composite keys: a foreign-key check ignores row-level security, so the tenant is part
  -- of the key to make a reference to another tenant's row impossible, not just invisible.
  FOREIGN KEY (tenant_id, parent_id) REFERENCES locations (tenant_id, id)
);
CREATE UNIQUE INDEX locations_sibling_name ON locations (tenant_id, COALESCE(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));
CREATE UNIQUE INDEX locations_code ON locations (tenant_id, code) WHERE code IS NOT NULL;
CREATE INDEX locations_parent ON locations (tenant_id, parent_id, id DESC);
SELECT enable_tenant_isolation('locations');

CREATE TABLE products (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  species text NOT NULL,
  variety text,
  size text,
  packaging text,
  sku text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX products_sku ON products (tenant_id, sku) WHERE sku IS NOT NULL;
SELECT enable_tenant_isolation('products');

-- A quantity of one product at one location; a location may hold several batches of a
-- product (sown or delivered apart).
CREATE TABLE stock_batches (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  product_id uuid NOT NULL,
  quantity int NOT NULL CHECK (quantity >= 0),
  source text NOT NULL CHECK (source IN ('counted', 'manual', 'moved')),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX stock_batches_location ON stock_batches (tenant_id, location_id, id DESC);
CREATE INDEX stock_batches_product ON stock_batches (tenant_id, product_id, id DESC);
SELECT enable_tenant_isolation('stock_batches');

-- Every change of a batch's quantity, append-only: who, why, from what to what.
CREATE TABLE stock_movements (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  batch_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('in', 'out', 'move', 'adjustment')),
  delta int NOT NULL,
  quantity_before int NOT NULL,
  quantity_after int NOT NULL CHECK (quantity_after >= 0),
  -- A move takes from `batch_id` and gives to `counterpart_id`.
  counterpart_id uuid,
  reason text,
  actor text NOT NULL,
  session_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, batch_id) REFERENCES stock_batches (tenant_id, id),
  FOREIGN KEY (tenant_id, counterpart_id) REFERENCES stock_batches (tenant_id, id),
  CHECK (quantity_after = quantity_before + delta)
);
CREATE INDEX stock_movements_batch ON stock_movements (tenant_id, batch_id, id DESC);
SELECT enable_tenant_isolation('stock_movements');
