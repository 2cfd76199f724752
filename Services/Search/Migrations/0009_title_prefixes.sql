-- Search as you type expands the last word as a prefix. In the text index that means every
-- posting of every word it begins, in titles and bodies, of every tenant in the partition:
-- on the benchmark's largest tenant a four-letter prefix gathered 19,000 documents in 11 ms
-- before the first was read. Titles hold a fifth of a document's words; the same prefix in
-- an index of titles alone gathers 3,100 in 1.2 ms (built afresh, 6 MB against 31 MB for
-- the partition).
-- A prefix is first completed in titles; the whole text is searched only when titles give
-- less than a page.
--
-- The titles' vector is a column, not an index on to_tsvector(title): to_tsvector is not
-- leakproof, so under row-level security the planner may not evaluate it before the
-- tenant policy and never used such an index (a 4 ms query took 560 ms, a scan of the
-- tenant's partition). As with `search` (0008), the column is added generated, which
-- fills it in one rewrite of the table, then kept as an ordinary column that
-- apply_documents writes once per row.
ALTER TABLE documents ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED;
ALTER TABLE documents ALTER COLUMN title_vector DROP EXPRESSION;
-- Led by the tenant, as the other text indexes are from 0010 on.
CREATE INDEX documents_title_prefixes ON documents USING gin (tenant_id, title_vector);

-- As in 0008, and the titles' vector is written with the text's.
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
      (tenant_id, generation, doc_type, doc_id, title, body, keywords, tags, facets, visible_to, version, deleted, source_updated_at, search,
       title_vector)
    SELECT tenant, g.generation, x.doc_type, x.doc_id, x.title, x.body, x.keywords, x.tags, x.facets, x.visible_to,
           x.version, x.deleted, x.updated_at, document_vector(x.title, x.keywords, x.body), to_tsvector('simple', x.title)
    FROM (SELECT *, array_to_string(r.tags, ' ') AS keywords
          FROM jsonb_to_recordset(docs) AS r(doc_type text, doc_id uuid, title text, body text, tags text[], facets jsonb,
                                             visible_to uuid[], version int, deleted boolean, updated_at timestamptz)) x
    JOIN generations g ON g.tenant_id = tenant
      AND CASE WHEN reindex IS NULL THEN g.state IN ('live', 'building') ELSE g.state = 'building' AND g.reindex_id = reindex END
    ORDER BY g.generation, x.doc_type, x.doc_id
    ON CONFLICT (tenant_id, generation, doc_type, doc_id) DO UPDATE SET
      title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords, tags = EXCLUDED.tags, facets = EXCLUDED.facets,
      visible_to = EXCLUDED.visible_to, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
      source_updated_at = EXCLUDED.source_updated_at, updated_at = now(), search = EXCLUDED.search,
      title_vector = EXCLUDED.title_vector
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
