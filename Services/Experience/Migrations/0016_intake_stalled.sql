-- Articles can be left at a stage with no job to move them: the stage's job was discarded
-- after its last attempt (the database away for longer than its retries, a deploy that
-- killed it each time). Each minute the upkeep looks across tenants for rows queued over
-- ten minutes ago, and queues their stage's job again where none is pending.
CREATE POLICY see_stalled_intake ON intake FOR SELECT
  USING (current_setting('app.upkeep', true) = 'intake' AND created_at < now() - interval '10 minutes');
