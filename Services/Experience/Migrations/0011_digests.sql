-- Each user's digest of a day: at most one per user and local date, whatever the number of
-- dispatchers or their crashes (the unique key), with the articles it held.

CREATE TABLE digests (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_key text NOT NULL,
  local_date date NOT NULL,
  scheduled_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'due' CHECK (state IN ('due', 'sent', 'nothing_new', 'no_address')),
  -- [{"key", "title", "url", "summary", "topic", "provider"}], grouped by topic.
  articles jsonb NOT NULL DEFAULT '[]',
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_key, local_date),
  UNIQUE (tenant_id, id)
);
SELECT enable_tenant_isolation('digests');

-- The dispatcher finds every tenant's due users (keys only) in a transaction that says so.
CREATE POLICY see_due_digests ON digest_preferences FOR SELECT
  USING (current_setting('app.upkeep', true) = 'digests' AND enabled);
