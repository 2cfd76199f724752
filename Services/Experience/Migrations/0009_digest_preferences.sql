-- How each user wants their daily digest, and when it is due next (computed in their zone,
-- daylight saving included, whenever the preferences change and after each send).

CREATE TABLE digest_preferences (
  tenant_id uuid NOT NULL,
  user_key text NOT NULL,
  enabled boolean NOT NULL,
  local_time text NOT NULL CHECK (local_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
  max_items int NOT NULL CHECK (max_items BETWEEN 1 AND 50),
  muted_topics text[] NOT NULL DEFAULT '{}',
  next_send_at timestamptz,
  version int NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_key),
  CHECK (NOT enabled OR next_send_at IS NOT NULL)
);
CREATE INDEX digest_preferences_due ON digest_preferences (next_send_at) WHERE enabled;
SELECT enable_tenant_isolation('digest_preferences');
