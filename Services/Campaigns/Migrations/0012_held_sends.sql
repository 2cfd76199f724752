-- What is left of a campaign is asked of two partial indexes: waiting (queued or sending,
-- which also orders the claims) and held (the A/B test's rest). One index over all three
-- states looked cheaper to the planner than the ordered one while a new audience had no
-- statistics yet, and claims sorted the whole campaign.
DROP INDEX campaign_sends_open;
CREATE INDEX campaign_sends_held ON campaign_sends (tenant_id, campaign_id) WHERE state = 'held';
