-- Delivery walks a campaign's sends in subscriber order from where the last claim stopped
-- (claim_cursor), so a claim does not step over every send already made (their index
-- entries stay until vacuum); it starts over only when nothing is left ahead.
ALTER TABLE campaigns ADD COLUMN claim_cursor uuid;
-- Whether a campaign has anything left (queued, sending or held back for an A/B test)
-- without reading the sends already made.
CREATE INDEX campaign_sends_open ON campaign_sends (tenant_id, campaign_id) WHERE state IN ('queued', 'sending', 'held');
