-- What users did with items: the log every counter and model is computed from. One
-- partition per UTC day, so keeping 180 days is dropping a table a day, not deleting rows.

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
-- Catches a day whose partition is not there yet; making that partition moves its rows out.
CREATE TABLE interactions_default PARTITION OF interactions DEFAULT;

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

-- The partition of one UTC day, made when missing (rows the default partition caught for
-- that day move into it).
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
  EXECUTE format(
    'WITH moved AS (DELETE FROM experience.interactions_default WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
    'INSERT INTO experience.%I SELECT * FROM moved', first, next, name);
  EXECUTE format('ALTER TABLE experience.interactions ATTACH PARTITION experience.%I FOR VALUES FROM (%L) TO (%L)', name, first, next);
END $$;

-- Drops the days before `keep_from`; returns how many.
CREATE FUNCTION drop_interaction_partitions(keep_from date) RETURNS int
LANGUAGE plpgsql SET search_path = experience AS $$
DECLARE
  child record;
  dropped int := 0;
BEGIN
  FOR child IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'experience.interactions'::regclass AND c.relname ~ '^interactions_[0-9]{8}$'
      AND to_date(substr(c.relname, 14), 'YYYYMMDD') < keep_from
  LOOP
    EXECUTE format('DROP TABLE experience.%I', child.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;

SELECT ensure_interaction_partition(d::date)
FROM generate_series(current_date - 8, current_date + 3, interval '1 day') AS d;
