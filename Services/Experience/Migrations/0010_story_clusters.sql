-- Near-duplicates among fetched articles: each article's MinHash signature and its LSH band
-- hashes (a GIN index finds the articles sharing a band), and the story cluster it joined.

CREATE TABLE item_signatures (
  tenant_id uuid NOT NULL,
  item_key text NOT NULL,
  signature bigint[] NOT NULL,
  bands bigint[] NOT NULL,
  cluster_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, item_key)
);
CREATE INDEX item_signatures_bands ON item_signatures USING gin (bands);
CREATE INDEX item_signatures_cluster ON item_signatures (tenant_id, cluster_key);
SELECT enable_tenant_isolation('item_signatures');
