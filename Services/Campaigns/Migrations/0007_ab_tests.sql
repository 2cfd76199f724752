-- A/B tests: variants of subject and/or template version sent to a test share of the
-- audience; the rest waits ('held') until a winner is picked (by open or click rate after a
-- wait, or by hand) and then gets the winner.
ALTER TABLE campaigns ADD COLUMN ab_test jsonb;
ALTER TABLE campaigns ADD COLUMN winner text;
ALTER TABLE campaign_sends ADD COLUMN variant text;
ALTER TABLE campaign_sends DROP CONSTRAINT campaign_sends_state_check;
ALTER TABLE campaign_sends ADD CONSTRAINT campaign_sends_state_check
  CHECK (state IN ('queued', 'held', 'sending', 'sent', 'failed', 'bounced'));
