-- A refresh, the hot path of every client, in one statement and so one round trip: bind
-- the tenant for row-level security, spend the token, insert its successor and read whom
-- it is for. No row: the token was not spendable, and the caller looks at why.
CREATE FUNCTION rotate_refresh_token(tenant uuid, spent_hash bytea, successor bytea, idle_seconds integer)
RETURNS TABLE (
  user_id uuid, email text, name text, email_verified boolean, platform_operator boolean,
  tenant_id uuid, tenant_name text, slug text, status text, plan text, role text
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  PERFORM set_config('app.tenant_id', tenant::text, true);
  RETURN QUERY
  WITH spent AS (
    UPDATE auth.refresh_tokens SET spent_at = now(), successor_hash = successor
    WHERE token_hash = spent_hash AND spent_at IS NULL AND revoked_at IS NULL
      AND expires_at > now() AND family_expires_at > now()
    RETURNING tenant_id, user_id, family_id, family_expires_at
  ), inserted AS (
    INSERT INTO auth.refresh_tokens (token_hash, tenant_id, user_id, family_id, expires_at, family_expires_at)
    SELECT successor, s.tenant_id, s.user_id, s.family_id, now() + make_interval(secs => idle_seconds), s.family_expires_at
    FROM spent s
    RETURNING user_id, tenant_id
  )
  SELECT u.id, u.email, u.name, u.email_verified, u.platform_operator, t.id, t.name, t.slug, t.status, t.plan, m.role
  FROM inserted i JOIN auth.users u ON u.id = i.user_id
  LEFT JOIN auth.memberships m ON m.user_id = i.user_id AND m.tenant_id = i.tenant_id
  LEFT JOIN auth.tenants t ON t.id = m.tenant_id;
END
$$;
