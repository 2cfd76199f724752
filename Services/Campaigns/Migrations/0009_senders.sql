-- The addresses a tenant may send campaigns from: each proven by a link emailed to it.
CREATE TABLE senders (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  email text NOT NULL CHECK (email = lower(email)),
  verified_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, email)
);
SELECT enable_tenant_isolation('senders');
