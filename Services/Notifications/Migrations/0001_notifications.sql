-- The tenant's people as auth announces them (auth.membership.v1): where to send, and who
-- the admins are. A removed member keeps their row, marked inactive, so an old version
-- arriving late cannot bring them back.
CREATE TABLE members (
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL,
  active boolean NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (tenant_id, user_id)
);
SELECT enable_tenant_isolation('members');

-- One row per accepted request (the idempotency key makes a redelivered request a no-op).
-- `in_app` rows are the user's inbox; `seq` orders one user's inbox in commit order (it
-- is taken under a per-user lock, see NotificationStore), which the SSE stream resumes from.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  idempotency_key text NOT NULL,
  user_id uuid,
  email text,
  category text NOT NULL,
  template_key text NOT NULL,
  locale text NOT NULL,
  priority text NOT NULL CHECK (priority IN ('urgent', 'normal', 'low')),
  data jsonb NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  in_app boolean NOT NULL,
  seq bigint,
  read_at timestamptz,
  archived_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX notifications_inbox ON notifications (tenant_id, user_id, seq DESC) WHERE in_app;
CREATE INDEX notifications_unread ON notifications (tenant_id, user_id) WHERE in_app AND read_at IS NULL AND archived_at IS NULL;
SELECT enable_tenant_isolation('notifications');

-- Per-channel outcome of a notification (email now; push and digest later).
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  notification_id uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  channel text NOT NULL,
  address text NOT NULL,
  state text NOT NULL CHECK (state IN ('queued', 'deferred', 'sent', 'failed', 'suppressed')),
  attempts int NOT NULL DEFAULT 0,
  last_error text,
  message_id text,
  not_before timestamptz,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (notification_id, channel)
);
CREATE INDEX deliveries_notification ON deliveries (tenant_id, notification_id);
SELECT enable_tenant_isolation('deliveries');

-- A user's choices: opt-outs per category and channel ({"tasks": {"email": false}}),
-- quiet hours in their own time zone (a window may wrap midnight), digest time.
CREATE TABLE preferences (
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  time_zone text NOT NULL DEFAULT 'UTC',
  quiet_start time,
  quiet_end time,
  digest_time time NOT NULL DEFAULT '08:00',
  channels jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id),
  CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
SELECT enable_tenant_isolation('preferences');

-- A tenant's own wording of a template; the built-in one applies where there is none.
CREATE TABLE templates (
  tenant_id uuid NOT NULL,
  template_key text NOT NULL,
  locale text NOT NULL,
  subject text NOT NULL,
  text_body text NOT NULL,
  html_body text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, template_key, locale)
);
SELECT enable_tenant_isolation('templates');
