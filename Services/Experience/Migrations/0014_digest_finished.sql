-- When each digest was assembled and handed to notifications (or found empty): how long a
-- day's fan-out took, and how far behind its time a digest went out.
ALTER TABLE digests ADD COLUMN finished_at timestamptz;
