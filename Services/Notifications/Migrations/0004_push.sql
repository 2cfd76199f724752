-- Browsers' Web Push subscriptions (RFC 8030): where the push service takes messages for
-- one browser, and the keys to encrypt them for it (RFC 8291).
CREATE TABLE push_subscriptions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  endpoint text NOT NULL,
  p256dh text NOT NULL,
  auth text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_id, endpoint)
);
SELECT enable_tenant_isolation('push_subscriptions');

-- The service's VAPID key pair (RFC 8292), made once: browsers subscribe with its public
-- key, so it must outlive restarts and be the same on every replica.
CREATE TABLE vapid_keys (
  id int PRIMARY KEY CHECK (id = 1),
  private_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

