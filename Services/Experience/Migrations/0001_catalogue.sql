-- A tenant's catalogue: the items its app shows (articles, newsletters, videos), by the
-- tenant's own key. The content pipeline writes items here too.

CREATE TABLE items (
  tenant_id uuid NOT NULL,
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  type text NOT NULL CHECK (length(type) BETWEEN 1 AND 40),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  categories text[] NOT NULL DEFAULT '{}',
  topics text[] NOT NULL DEFAULT '{}',
  provider text,
  author text,
  published_at timestamptz,
  attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  -- Only active items are recommended; hidden and archived ones keep their history.
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'hidden', 'archived')),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX items_newest ON items (tenant_id, published_at DESC NULLS LAST) WHERE status = 'active';
CREATE INDEX items_categories ON items USING gin (categories);
CREATE INDEX items_provider ON items (tenant_id, provider, published_at DESC) WHERE status = 'active';
SELECT enable_tenant_isolation('items');
