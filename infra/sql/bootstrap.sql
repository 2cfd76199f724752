-- One login role per service, owning exactly one schema and nothing else.
-- Run as a superuser against the platform database; safe to run again.
-- Development passwords equal the role name; production sets real ones.
DO $$
DECLARE
  svc text;
BEGIN
  FOREACH svc IN ARRAY ARRAY['gateway','auth','tasks','experience','search','notifications','campaigns','photoml'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'svc_' || svc) THEN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', 'svc_' || svc, 'svc_' || svc);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', svc, 'svc_' || svc);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', svc);
    EXECUTE format('ALTER ROLE %I SET search_path = %I', 'svc_' || svc, svc);
  END LOOP;
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE platform FROM PUBLIC;
GRANT CONNECT ON DATABASE platform TO svc_gateway, svc_auth, svc_tasks, svc_experience, svc_search, svc_notifications, svc_campaigns, svc_photoml;
-- Trigram similarity for search's typo tolerance, installed in the schema that uses it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA search;
-- GIN operator classes for plain types, so search's text indexes can lead with the tenant.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA search;
-- Under row-level security PostgreSQL uses an index for a condition only if its function
-- is LEAKPROOF (it must not reveal other tenants' rows through errors); full-text match,
-- trigram similarity and array containment are not marked so, and search would scan a
-- whole table per query. These return a boolean and raise no error that depends on a
-- row's contents, so they are declared leakproof (only a superuser may, hence here).
ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
ALTER FUNCTION search.word_similarity_op(text, text) LEAKPROOF;
ALTER FUNCTION search.similarity_op(text, text) LEAKPROOF;
ALTER FUNCTION pg_catalog.arraycontains(anyarray, anyarray) LEAKPROOF;
-- The services run short queries: JIT compilation would cost more than it saves.
ALTER ROLE svc_gateway SET jit = off;
ALTER ROLE svc_auth SET jit = off;
ALTER ROLE svc_tasks SET jit = off;
ALTER ROLE svc_experience SET jit = off;
ALTER ROLE svc_search SET jit = off;
ALTER ROLE svc_notifications SET jit = off;
ALTER ROLE svc_campaigns SET jit = off;
ALTER ROLE svc_photoml SET jit = off;
