CREATE TABLE projects (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  description text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
SELECT enable_tenant_isolation('projects');

CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  project_id uuid,
  parent_id uuid,
  title text NOT NULL,
  description text,
  status text NOT NULL CHECK (status IN ('todo', 'in_progress', 'done', 'cancelled')),
  priority text NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  tags text[] NOT NULL DEFAULT '{}',
  due_at timestamptz,
  assignee_id uuid,
  estimate_minutes int,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  UNIQUE (tenant_id, id),
  -- Composite keys: a foreign-key check ignores row-level security, so the tenant is part
  -- of the key to make a reference to another tenant's row impossible, not just invisible.
  FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX tasks_tenant_id ON tasks (tenant_id, id DESC);
CREATE INDEX tasks_parent ON tasks (tenant_id, parent_id);
SELECT enable_tenant_isolation('tasks');
