-- Tenant settings (allowed redirect URIs for the OAuth SPA flow), membership versions for
-- auth.membership.v1, MFA and verification state on users, platform operators.
ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb;
-- Milliseconds since the epoch at the last change: keeps increasing when a removed member
-- is invited back, so consumers never mistake the new membership for an old event.
ALTER TABLE memberships ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN platform_operator boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN mfa_secret_sealed bytea;
ALTER TABLE users ADD COLUMN mfa_enabled boolean NOT NULL DEFAULT false;
-- The last TOTP time step accepted: a code is never accepted twice (RFC 6238 §5.2).
ALTER TABLE users ADD COLUMN mfa_last_step bigint NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();

-- Security and admin events. Rows of a tenant are isolated like any tenant row; rows
-- without a tenant (a failed login for an unknown email) are the platform's own.
CREATE TABLE audit_log (
  id uuid PRIMARY KEY,
  tenant_id uuid,
  actor text,
  actor_ip text,
  action text NOT NULL,
  target text,
  result text NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_time ON audit_log (tenant_id, created_at DESC, id DESC);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY platform_events ON audit_log FOR INSERT WITH CHECK (tenant_id IS NULL);
-- Append-only, even for the service's own role.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Failed-login counters per account and per client IP (brute-force protection).
CREATE TABLE login_throttle (
  key text PRIMARY KEY,
  failures int NOT NULL DEFAULT 0,
  locked_until timestamptz,
  last_failure_at timestamptz NOT NULL DEFAULT now()
);

-- Single-use, expiring tokens sent by email (verification, password reset); only hashes.
CREATE TABLE email_tokens (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_tokens_user ON email_tokens (user_id, purpose);

CREATE TABLE mfa_recovery_codes (
  user_id uuid NOT NULL REFERENCES users (id),
  code_hash bytea NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- The second step of an MFA login: a short-lived token naming the user and tenant.
CREATE TABLE mfa_challenges (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  expires_at timestamptz NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  used_at timestamptz
);

CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  email text NOT NULL,
  email_normalized text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  token_hash bytea NOT NULL UNIQUE,
  invited_by uuid REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX invitations_tenant ON invitations (tenant_id, created_at DESC, id DESC);
SELECT enable_tenant_isolation('invitations');

-- OAuth client-credentials clients of a tenant. Secrets are 256-bit random, so a SHA-256
-- is enough (a slow hash protects low-entropy passwords, not these).
CREATE TABLE api_clients (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  client_id text NOT NULL UNIQUE,
  secret_hash bytea NOT NULL,
  name text NOT NULL,
  scopes text[] NOT NULL,
  created_by uuid REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_clients_tenant ON api_clients (tenant_id, created_at DESC, id DESC);
SELECT enable_tenant_isolation('api_clients');
-- The token endpoint learns a client's tenant before it can enter that tenant's rows.
CREATE TABLE api_client_directory (
  client_id text PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id)
);

-- Social-login identities linked to users.
CREATE TABLE external_identities (
  provider text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id),
  email text,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, subject)
);
CREATE INDEX external_identities_user ON external_identities (user_id);

-- An authorization request in flight: state, nonce and PKCE verifier stay on the server;
-- the browser holds only the state, in a signed cookie and in the redirect.
CREATE TABLE oauth_requests (
  state_hash bytea PRIMARY KEY,
  provider text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  redirect_uri text NOT NULL,
  tenant_id uuid REFERENCES tenants (id),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- The one-time code the SPA exchanges for our tokens at /v1/auth/oauth/exchange.
CREATE TABLE oauth_codes (
  code_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  tenant_id uuid REFERENCES tenants (id),
  redirect_uri text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
