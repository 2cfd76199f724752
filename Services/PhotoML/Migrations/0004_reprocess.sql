-- A photo uploaded again for the same location reuses the first one's detections, unless
-- the upload asked for it to be processed again.
ALTER TABLE photos ADD COLUMN reprocess boolean NOT NULL DEFAULT false;
