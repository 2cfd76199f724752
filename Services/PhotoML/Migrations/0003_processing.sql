-- Processing: each photo is a job; its detections are kept, and the session gets its result
-- once every photo of it is done.

ALTER TABLE photos
  ADD COLUMN state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'processing', 'done', 'failed')),
  ADD COLUMN detected int,
  ADD COLUMN stages jsonb NOT NULL DEFAULT '{}',
  -- The photo's own warnings (its size, its seams), for the session's result.
  ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN error text;

ALTER TABLE photo_sessions
  -- A location shot in parts: the session completes once this many photos are done.
  ADD COLUMN expected_photos int NOT NULL DEFAULT 1 CHECK (expected_photos BETWEEN 1 AND 20),
  ADD COLUMN result jsonb,
  ADD COLUMN completed_at timestamptz;

-- Detections, partitioned by the day they were found (partitions are made ahead by a job,
-- and dropped after the retention period).
CREATE TABLE detections (
  id bigserial,
  tenant_id uuid NOT NULL,
  photo_id uuid NOT NULL,
  session_id uuid NOT NULL,
  found_on date NOT NULL,
  x1 real NOT NULL,
  y1 real NOT NULL,
  x2 real NOT NULL,
  y2 real NOT NULL,
  score real NOT NULL,
  class_id smallint NOT NULL,
  tile int
) PARTITION BY RANGE (found_on);
CREATE INDEX detections_photo ON detections (tenant_id, photo_id);
CREATE INDEX detections_session ON detections (tenant_id, session_id, id);
SELECT enable_tenant_isolation('detections');

-- The day partitions from `from_day` for `days` days, unless they exist.
CREATE FUNCTION ensure_detection_partitions(from_day date, days int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  day date;
BEGIN
  FOR offset_days IN 0..days - 1 LOOP
    day := from_day + offset_days;
    EXECUTE format(
      'CREATE TABLE IF NOT EXISTS photoml.%I PARTITION OF photoml.detections FOR VALUES FROM (%L) TO (%L)',
      'detections_' || to_char(day, 'YYYYMMDD'), day, day + 1);
  END LOOP;
END;
$$;

-- Drops the day partitions before `day` (retention); answers how many went.
CREATE FUNCTION drop_detection_partitions_before(day date) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped int := 0;
BEGIN
  FOR part IN
    SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'photoml.detections'::regclass AND c.relname ~ '^detections_[0-9]{8}$'
      AND to_date(substr(c.relname, 12), 'YYYYMMDD') < day
  LOOP
    EXECUTE format('DROP TABLE photoml.%I', part.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END;
$$;

SELECT ensure_detection_partitions(current_date - 1, 9);
