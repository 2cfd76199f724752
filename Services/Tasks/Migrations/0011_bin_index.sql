-- The purge job used to see every tenant's binned rows through a second policy on tasks;
-- OR-ed with the tenant policy it kept the planner from using the list indexes. Now the
-- bin has its own index of ids and times (no content, no row-level security), and the job
-- deletes tenant by tenant under the ordinary policy.
CREATE TABLE binned_tasks (
  tenant_id uuid NOT NULL,
  task_id uuid NOT NULL,
  deleted_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, task_id)
);
CREATE INDEX binned_tasks_age ON binned_tasks (deleted_at);

SELECT set_config('app.purge', 'on', true);
INSERT INTO binned_tasks (tenant_id, task_id, deleted_at) SELECT tenant_id, id, deleted_at FROM tasks WHERE deleted_at IS NOT NULL;
DROP POLICY purge_binned ON tasks;
