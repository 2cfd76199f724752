-- Opens (the pixel) and clicks (the redirect) of campaign emails, one row each; unique
-- counts are by subscriber.
CREATE TABLE tracking_events (
  id bigserial,
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  subscriber_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('open', 'click')),
  -- The link a click followed.
  url text,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, campaign_id, id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tracking_events_kind ON tracking_events (tenant_id, campaign_id, kind, subscriber_id);
SELECT enable_tenant_isolation('tracking_events');
