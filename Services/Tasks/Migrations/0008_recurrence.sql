-- A recurring task carries its rule; completing occurrence n makes occurrence n + 1 (a job),
-- and next_occurrence_id, written with the new task, makes that happen once.
ALTER TABLE tasks ADD COLUMN recurrence text;
ALTER TABLE tasks ADD COLUMN occurrence int NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN next_occurrence_id uuid;
