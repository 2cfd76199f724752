-- A tenant's DKIM key per sending domain: campaign mail from that domain is signed with
-- it; the admin publishes the public part at <selector>._domainkey.<domain>.
CREATE TABLE dkim_keys (
  tenant_id uuid NOT NULL,
  domain text NOT NULL CHECK (domain = lower(domain)),
  selector text NOT NULL CHECK (selector ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  algorithm text NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  -- PEM (RSA) or the raw key in base64 (Ed25519). Only the service reads it; the API never shows it.
  private_key text NOT NULL,
  dns_record text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, domain)
);
SELECT enable_tenant_isolation('dkim_keys');
