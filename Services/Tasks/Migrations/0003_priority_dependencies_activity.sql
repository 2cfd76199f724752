-- Priority as a number: 0 none, 1 low, 2 medium, 3 high, 4 urgent.
ALTER TABLE tasks ADD COLUMN priority_level smallint NOT NULL DEFAULT 0 CHECK (priority_level BETWEEN 0 AND 4);
UPDATE tasks SET priority_level = CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 ELSE 0 END;
ALTER TABLE tasks DROP COLUMN priority;
ALTER TABLE tasks RENAME COLUMN priority_level TO priority;

ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check CHECK (status IN ('todo', 'in_progress', 'blocked', 'done', 'cancelled'));

-- The IANA zone the due date was given in (recurrence and "today" are read in it).
ALTER TABLE tasks ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
-- Manual order among siblings; new tasks go last.
ALTER TABLE tasks ADD COLUMN position bigint NOT NULL DEFAULT 0;

-- "task_id depends on depends_on": task_id cannot be completed while depends_on is open.
CREATE TABLE task_dependencies (
  tenant_id uuid NOT NULL,
  task_id uuid NOT NULL,
  depends_on uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, task_id, depends_on),
  CHECK (task_id <> depends_on),
  FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, depends_on) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX task_dependencies_blocking ON task_dependencies (tenant_id, depends_on);
SELECT enable_tenant_isolation('task_dependencies');

-- Who changed what, when: one row per change of a task.
CREATE TABLE task_activity (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  task_id uuid NOT NULL,
  actor text,
  action text NOT NULL,
  changes jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_activity_task ON task_activity (tenant_id, task_id, id);
SELECT enable_tenant_isolation('task_activity');
