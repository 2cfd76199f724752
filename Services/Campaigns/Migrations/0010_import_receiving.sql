-- An import exists while its file is still arriving ('receiving'), a chunk per statement,
-- so the file is never whole in the service's memory.
ALTER TABLE subscriber_imports DROP CONSTRAINT subscriber_imports_state_check;
ALTER TABLE subscriber_imports ADD CONSTRAINT subscriber_imports_state_check
  CHECK (state IN ('receiving', 'queued', 'running', 'finished', 'failed'));
