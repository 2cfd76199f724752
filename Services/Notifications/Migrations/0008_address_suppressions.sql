-- Addresses campaigns stopped mailing (hard bounces, complaints, by hand), as
-- campaigns.suppression.v1 announces them: transactional email to them stops too.
CREATE TABLE address_suppressions (
  tenant_id uuid NOT NULL,
  email text NOT NULL,
  reason text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, email)
);
SELECT enable_tenant_isolation('address_suppressions');
