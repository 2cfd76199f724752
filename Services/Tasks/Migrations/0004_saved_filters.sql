-- A user's saved list queries (the parameters of GET /v1/tasks).
CREATE TABLE task_filters (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  owner text NOT NULL,
  name text NOT NULL,
  parameters jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, owner, name)
);
SELECT enable_tenant_isolation('task_filters');
