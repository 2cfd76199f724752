-- One row per import: its Idempotency-Key (a retried request finds the first answer),
-- and, for large imports run as a job, the parsed rows and the outcome.
CREATE TABLE task_imports (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  idempotency_key text,
  actor text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('all-or-nothing', 'best-effort')),
  status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  rows jsonb,
  total int NOT NULL,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
SELECT enable_tenant_isolation('task_imports');
