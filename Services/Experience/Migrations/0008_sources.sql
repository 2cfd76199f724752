-- Feeds users follow (user_key set) or the tenant offers everyone (user_key null): where
-- they are, what the last fetch said (validators for conditional GET, counts by outcome),
-- and when to fetch next. A source failing for days is disabled and says why.

CREATE TABLE sources (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_key text,
  url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
  site_url text,
  title text NOT NULL DEFAULT '',
  format text NOT NULL CHECK (format IN ('rss', 'rdf', 'atom', 'json_feed', 'page')),
  etag text,
  last_modified text,
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled')),
  failures int NOT NULL DEFAULT 0 CHECK (failures >= 0),
  failing_since timestamptz,
  last_error text,
  next_fetch_at timestamptz NOT NULL DEFAULT now(),
  last_fetched_at timestamptz,
  fetched int NOT NULL DEFAULT 0,
  not_modified int NOT NULL DEFAULT 0,
  failed int NOT NULL DEFAULT 0,
  items_new int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX sources_one_per_follower ON sources (tenant_id, coalesce(user_key, ''), url);
CREATE INDEX sources_due ON sources (next_fetch_at) WHERE state = 'active';
SELECT enable_tenant_isolation('sources');

-- The fetch scheduler finds every tenant's due sources (ids only), and only in a
-- transaction that says it is that scheduler.
CREATE POLICY see_due_sources ON sources FOR SELECT
  USING (current_setting('app.upkeep', true) = 'sources' AND state = 'active');
CREATE POLICY schedule_due_sources ON sources FOR UPDATE
  USING (current_setting('app.upkeep', true) = 'sources' AND state = 'active')
  WITH CHECK (current_setting('app.upkeep', true) = 'sources');
