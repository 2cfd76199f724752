-- What users did with items: the log every counter and model is computed from. One
-- partition per UTC day, so keeping 180 days is dropping a table a day, not deleting rows.
-- There is no default partition: the upkeep makes each day's partition days ahead (and a
-- write for a missing day makes it), and without one, attaching and detaching a day never
-- needs more than a SHARE UPDATE EXCLUSIVE lock on the log, so readers never wait on it.

CREATE TABLE interactions (
  tenant_id uuid NOT NULL,
  event_id text NOT NULL,
  user_key text NOT NULL CHECK (length(user_key) BETWEEN 1 AND 200),
  item_key text NOT NULL CHECK (length(item_key) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('view', 'click', 'like', 'save', 'share', 'dismiss', 'progress')),
  progress smallint CHECK (progress BETWEEN 0 AND 100 AND (kind = 'progress') = (progress IS NOT NULL)),
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);
CREATE INDEX interactions_user ON interactions (tenant_id, user_key, occurred_at DESC);
CREATE INDEX interactions_item ON interactions (tenant_id, item_key, occurred_at DESC);
SELECT enable_tenant_isolation('interactions');

-- The client's event ids seen lately: a batch sent again records nothing twice. Events
-- older than 7 days are refused, so ids are kept 8.
CREATE TABLE interaction_ids (
  tenant_id uuid NOT NULL,
  event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 100),
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX interaction_ids_age ON interaction_ids (received_at);
SELECT enable_tenant_isolation('interaction_ids');
-- The hourly upkeep forgets old ids of every tenant at once; only ids no repeat could
-- still be accepted for, and only in a transaction that says it is that upkeep.
-- (A DELETE with a WHERE clause must see the rows too, hence the SELECT policy.)
CREATE POLICY forget_old_ids ON interaction_ids FOR DELETE
  USING (current_setting('app.upkeep', true) = 'interaction_ids' AND received_at < now() - interval '8 days');
CREATE POLICY see_old_ids ON interaction_ids FOR SELECT
  USING (current_setting('app.upkeep', true) = 'interaction_ids' AND received_at < now() - interval '8 days');

-- The partition of one UTC day, made when missing: a table of its own first, with the
-- day's range as a check so attaching it scans nothing.
CREATE FUNCTION ensure_interaction_partition(day date) RETURNS void
LANGUAGE plpgsql SET search_path = experience AS $$
DECLARE
  name text := 'interactions_' || to_char(day, 'YYYYMMDD');
  first timestamptz := (day::text || ' 00:00:00+00')::timestamptz;
  next timestamptz := ((day + 1)::text || ' 00:00:00+00')::timestamptz;
BEGIN
  IF to_regclass('experience.' || name) IS NOT NULL THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TABLE experience.%I (LIKE experience.interactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
  EXECUTE format('ALTER TABLE experience.%I ADD CONSTRAINT day CHECK (occurred_at >= %L AND occurred_at < %L)', name, first, next);
  EXECUTE format('ALTER TABLE experience.interactions ATTACH PARTITION experience.%I FOR VALUES FROM (%L) TO (%L)', name, first, next);
END $$;

SELECT ensure_interaction_partition(d::date)
FROM generate_series(current_date - 8, current_date + 3, interval '1 day') AS d;
