-- Campaigns: a pinned template version sent to lists and segments, one send record per
-- recipient, and the addresses no campaign may mail again.

CREATE TABLE campaigns (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  template_id uuid NOT NULL,
  -- Pinned: later saves of the template do not change what this campaign sends.
  template_version int NOT NULL,
  from_name text NOT NULL,
  from_email text NOT NULL,
  reply_to text,
  list_ids uuid[] NOT NULL DEFAULT '{}',
  segment_ids uuid[] NOT NULL DEFAULT '{}',
  -- Values for the template's declared variables.
  data jsonb NOT NULL DEFAULT '{}',
  state text NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'finished', 'cancelled')),
  scheduled_at timestamptz,
  time_zone text NOT NULL DEFAULT 'UTC',
  -- Messages per second for this campaign (the tenant's plan caps all its campaigns together).
  rate_per_second double precision NOT NULL DEFAULT 10 CHECK (rate_per_second > 0),
  -- Paused by itself after this many failures in a row.
  max_consecutive_failures int NOT NULL DEFAULT 20 CHECK (max_consecutive_failures > 0),
  consecutive_failures int NOT NULL DEFAULT 0,
  pause_reason text,
  -- Recipients frozen when it started.
  audience int,
  started_at timestamptz,
  finished_at timestamptz,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  -- A pinned version cannot be deleted from under the campaign.
  FOREIGN KEY (tenant_id, template_id, template_version) REFERENCES template_versions (tenant_id, template_id, version)
);
CREATE INDEX campaigns_newest ON campaigns (tenant_id, id DESC);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE state = 'scheduled';
SELECT enable_tenant_isolation('campaigns');

-- Exactly one row per campaign and recipient, written when the audience is frozen: a send
-- recorded as sent is never sent again, whatever restarts.
CREATE TABLE campaign_sends (
  tenant_id uuid NOT NULL,
  campaign_id uuid NOT NULL,
  subscriber_id uuid NOT NULL,
  email text NOT NULL,
  state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'bounced')),
  attempts int NOT NULL DEFAULT 0,
  -- While a sender holds it; a lapsed claim puts it back in the queue.
  claimed_until timestamptz,
  message_id text,
  error text,
  sent_at timestamptz,
  PRIMARY KEY (tenant_id, campaign_id, subscriber_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_sends_waiting ON campaign_sends (tenant_id, campaign_id, subscriber_id) WHERE state IN ('queued', 'sending');
SELECT enable_tenant_isolation('campaign_sends');

-- Addresses no campaign mails again: hard bounces, complaints, by hand.
CREATE TABLE suppressions (
  tenant_id uuid NOT NULL,
  email text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual')),
  detail text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, email)
);
SELECT enable_tenant_isolation('suppressions');

