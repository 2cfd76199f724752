-- Under a steady stream of changes the index's cost is its updates: at 1M documents a
-- batched update of a document's text took about 330 µs of PostgreSQL time, and two parts
-- of that were waste:
--
-- 1. The text vector was a generated column. An INSERT … ON CONFLICT DO UPDATE computes a
--    generated column for the proposed row and then again for the updated one, so every
--    update parsed its title and body twice. The vector is now an ordinary column that
--    apply_documents, the index's one writer, fills from document_vector(); the update
--    takes the proposed row's vector (EXCLUDED.search).
-- 2. 0007's 256 kB pending lists made the insert that fills one merge it into the index
--    sixteen times as often, with fewer new entries per word each time. Back to the 4 MB
--    default. Measured on the benchmark's index with 96 batches of 1,000 updates:
--    331 µs an update before, 273 µs with the vector written once, 268 µs with 4 MB
--    pending lists, 236 µs with both; the slowest batch took 500 ms, against 862 ms.
CREATE FUNCTION document_vector(title text, keywords text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english', title), 'A') ||
         setweight(to_tsvector('simple', title), 'A') ||
         setweight(to_tsvector('simple', keywords), 'B') ||
         setweight(to_tsvector('english', body), 'C') ||
         setweight(to_tsvector('simple', body), 'D')
$$;

-- Keeps every stored vector; only later writes change.
ALTER TABLE documents ALTER COLUMN search DROP EXPRESSION;

DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT relid FROM pg_partition_tree('documents_search') WHERE isleaf LOOP
    EXECUTE format('ALTER INDEX %s RESET (gin_pending_list_limit)', part);
  END LOOP;
END $$;

-- As in 0006, with the vector computed once, in the statement.
CREATE OR REPLACE FUNCTION apply_documents(batch jsonb, reindex uuid DEFAULT NULL) RETURNS int LANGUAGE plpgsql SET search_path = search AS $$
DECLARE
  tenant uuid;
  docs jsonb;
  changed int := 0;
  n int;
BEGIN
  FOR tenant, docs IN SELECT key::uuid, value FROM jsonb_each(batch) ORDER BY key LOOP
    PERFORM set_config('app.tenant_id', tenant::text, true);
    IF reindex IS NULL THEN
      INSERT INTO generations (tenant_id, generation, state, live_since) VALUES (tenant, 1, 'live', now()) ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO documents AS d
      (tenant_id, generation, doc_type, doc_id, title, body, keywords, tags, facets, visible_to, version, deleted, source_updated_at, search)
    SELECT tenant, g.generation, x.doc_type, x.doc_id, x.title, x.body, x.keywords, x.tags, x.facets, x.visible_to,
           x.version, x.deleted, x.updated_at, document_vector(x.title, x.keywords, x.body)
    FROM (SELECT *, array_to_string(r.tags, ' ') AS keywords
          FROM jsonb_to_recordset(docs) AS r(doc_type text, doc_id uuid, title text, body text, tags text[], facets jsonb,
                                             visible_to uuid[], version int, deleted boolean, updated_at timestamptz)) x
    JOIN generations g ON g.tenant_id = tenant
      AND CASE WHEN reindex IS NULL THEN g.state IN ('live', 'building') ELSE g.state = 'building' AND g.reindex_id = reindex END
    ORDER BY g.generation, x.doc_type, x.doc_id
    ON CONFLICT (tenant_id, generation, doc_type, doc_id) DO UPDATE SET
      title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords, tags = EXCLUDED.tags, facets = EXCLUDED.facets,
      visible_to = EXCLUDED.visible_to, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
      source_updated_at = EXCLUDED.source_updated_at, updated_at = now(), search = EXCLUDED.search
    WHERE d.version < EXCLUDED.version;
    GET DIAGNOSTICS n = ROW_COUNT;
    changed := changed + n;
    INSERT INTO title_words (tenant_id, word)
    SELECT DISTINCT tenant, w FROM jsonb_to_recordset(docs) AS x(title text, deleted boolean),
                                   regexp_split_to_table(lower(x.title), '[^[:alnum:]]+') w
    WHERE NOT x.deleted AND length(w) BETWEEN 3 AND 40
    ORDER BY 2
    ON CONFLICT DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  RETURN changed;
END $$;
