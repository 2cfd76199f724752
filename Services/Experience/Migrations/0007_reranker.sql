-- The learned reranker: what "for you" showed each user with the features each item was
-- ranked by, so a training learns from the features as they were served, and the
-- reranker's weights beside the ALS model.

CREATE TABLE impressions (
  tenant_id uuid NOT NULL,
  user_key text NOT NULL,
  item_key text NOT NULL,
  shown_at timestamptz NOT NULL,
  -- RankingFeatures in order: affinity, freshness, popularity, collaborative, timeOfDay.
  features real[] NOT NULL
);
CREATE INDEX impressions_shown ON impressions (tenant_id, shown_at);
SELECT enable_tenant_isolation('impressions');

-- The hourly upkeep forgets impressions of every tenant older than two weeks, and only in a
-- transaction that says it is that upkeep.
CREATE POLICY forget_old_impressions ON impressions FOR DELETE
  USING (current_setting('app.upkeep', true) = 'impressions' AND shown_at < now() - interval '14 days');
CREATE POLICY see_old_impressions ON impressions FOR SELECT
  USING (current_setting('app.upkeep', true) = 'impressions' AND shown_at < now() - interval '14 days');

ALTER TABLE models DROP CONSTRAINT models_kind_check;
ALTER TABLE models ADD CONSTRAINT models_kind_check CHECK (kind IN ('als', 'reranker'));
