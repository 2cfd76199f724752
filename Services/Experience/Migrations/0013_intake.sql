-- Fetched articles on their way through the intake's stages (normalise, quality, topics,
-- summary, near-duplicates): each stage's job takes a batch of its rows, does its part and
-- moves them on; a row leaves when its article is in the catalogue and clustered, or when it
-- is rejected.
CREATE TABLE intake (
  tenant_id uuid NOT NULL,
  key text NOT NULL,
  source_id uuid NOT NULL,
  provider text NOT NULL,
  stage text NOT NULL CHECK (stage IN ('normalise', 'quality', 'topics', 'summary', 'near_duplicates')),
  entry jsonb NOT NULL,
  article jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX intake_stage ON intake (tenant_id, stage, created_at);
SELECT enable_tenant_isolation('intake');

-- What an article's text earned, by the SHA-256 of that text: its quality (and why it was
-- rejected) and its summary, and the item it became. The same text again, re-fetched or
-- under another address, is not scored twice.
CREATE TABLE article_results (
  tenant_id uuid NOT NULL,
  content_hash text NOT NULL,
  quality real NOT NULL,
  reasons text[] NOT NULL DEFAULT '{}',
  summary text NOT NULL DEFAULT '',
  item_key text,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, content_hash)
);
CREATE INDEX article_results_seen ON article_results (seen_at);
SELECT enable_tenant_isolation('article_results');

-- The hourly upkeep forgets results not seen for 30 days, across tenants.
CREATE POLICY forget_old_article_results ON article_results FOR DELETE
  USING (current_setting('app.upkeep', true) = 'article_results' AND seen_at < now() - interval '30 days');
CREATE POLICY see_old_article_results ON article_results FOR SELECT
  USING (current_setting('app.upkeep', true) = 'article_results' AND seen_at < now() - interval '30 days');
