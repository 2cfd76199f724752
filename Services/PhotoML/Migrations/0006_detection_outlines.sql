-- A segmenting model's outline of each detection: x, y pairs in upright photo pixels.
ALTER TABLE detections ADD COLUMN polygon real[];
