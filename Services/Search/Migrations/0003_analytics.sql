-- Every query (normalised text, result count, time taken, the ids it showed first) and
-- every click on a result, for the admin console's search analytics. Pruned after 90 days.
CREATE TABLE search_queries (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  query text NOT NULL,
  results int NOT NULL,
  took_ms int NOT NULL,
  shown uuid[] NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_queries_at ON search_queries (tenant_id, at);
SELECT enable_tenant_isolation('search_queries');

CREATE TABLE search_clicks (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  query_id uuid NOT NULL REFERENCES search_queries (id) ON DELETE CASCADE,
  doc_type text NOT NULL,
  doc_id uuid NOT NULL,
  -- 1 for the first result shown; null when the document was not on the first page.
  position int,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX search_clicks_query ON search_clicks (tenant_id, query_id);
SELECT enable_tenant_isolation('search_clicks');

-- Which tenants logged queries on which days, without row-level security: the prune job
-- finds the tenants with old logs here, then deletes under each tenant's policy.
CREATE TABLE search_query_days (
  tenant_id uuid NOT NULL,
  day date NOT NULL,
  PRIMARY KEY (tenant_id, day)
);
