-- A tenant's brand on the platform's own emails (security emails included): a name, a
-- logo and a colour. Links and tokens stay the platform's; only these values are the tenant's.
CREATE TABLE branding (
  tenant_id uuid PRIMARY KEY,
  name text,
  logo_url text,
  color text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT enable_tenant_isolation('branding');
