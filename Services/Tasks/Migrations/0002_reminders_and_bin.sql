-- Reminders: remind_at is when to remind; reminded_at is the remind_at a reminder went out
-- for, written with the notification request, so a job that runs twice reminds once.
ALTER TABLE tasks ADD COLUMN created_by uuid;
ALTER TABLE tasks ADD COLUMN remind_at timestamptz;
ALTER TABLE tasks ADD COLUMN reminded_at timestamptz;

-- The bin: a deleted task keeps its row for 30 days (restorable), then a cron job purges it.
ALTER TABLE tasks ADD COLUMN deleted_at timestamptz;
CREATE INDEX tasks_in_bin ON tasks (deleted_at) WHERE deleted_at IS NOT NULL;

-- The purge job works across tenants. It sets app.purge for its own transaction and then
-- sees only binned rows; every other path still sees one tenant's rows.
CREATE POLICY purge_binned ON tasks USING (current_setting('app.purge', true) = 'on' AND deleted_at IS NOT NULL);
