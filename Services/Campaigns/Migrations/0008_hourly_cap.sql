-- At most this many messages of the campaign in any 60 minutes (a sliding window), on
-- top of its per-second rate; none when NULL.
ALTER TABLE campaigns ADD COLUMN max_per_hour int CHECK (max_per_hour > 0);
