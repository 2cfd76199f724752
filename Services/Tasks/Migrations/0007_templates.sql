-- A task tree kept for reuse: titles and descriptions may hold {{variables}}, due dates are
-- offsets from the start given when it is instantiated.
CREATE TABLE task_templates (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  description text,
  tree jsonb NOT NULL,
  created_by text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
SELECT enable_tenant_isolation('task_templates');
