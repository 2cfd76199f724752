-- Typo tolerance looks words up, not titles: each tenant's distinct title words, with a
-- trigram index. A misspelt word becomes its nearest title words, and the full-text pass
-- runs again with them, ranked and filtered like any query. Comparing the text with titles
-- instead had to stop at the first 1,000 titles sharing a trigram (a large tenant has tens
-- of thousands), and kept a trigram index over every title (180 MB at 1M documents) that
-- every indexed title had to update. Words of deleted documents stay: a word that matches
-- nothing any more only costs the query an alternative that finds nothing.
--
-- Split by tenant like the documents: a lookup reads only its tenant's partition, so a
-- small tenant does not pay for the words of every other (a large one has 20,000).
CREATE TABLE title_words (
  tenant_id uuid NOT NULL,
  word text NOT NULL,
  PRIMARY KEY (tenant_id, word)
) PARTITION BY HASH (tenant_id);
DO $$
BEGIN
  FOR remainder IN 0..15 LOOP
    EXECUTE format('CREATE TABLE title_words_p%s PARTITION OF title_words FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
                   lpad(remainder::text, 2, '0'), remainder);
    -- Reached through the parent, whose policy applies; a partition read directly shows nothing.
    EXECUTE format('ALTER TABLE title_words_p%s ENABLE ROW LEVEL SECURITY', lpad(remainder::text, 2, '0'));
    EXECUTE format('ALTER TABLE title_words_p%s FORCE ROW LEVEL SECURITY', lpad(remainder::text, 2, '0'));
  END LOOP;
END $$;
CREATE INDEX title_words_trigrams ON title_words USING gin (word search.gin_trgm_ops);
SELECT enable_tenant_isolation('title_words');

-- Row-level security hides every row from this migration (no tenant is set): the words of
-- the documents already indexed are read with the policy switched off, then it is forced again.
ALTER TABLE documents NO FORCE ROW LEVEL SECURITY;
ALTER TABLE title_words NO FORCE ROW LEVEL SECURITY;
INSERT INTO title_words (tenant_id, word)
SELECT DISTINCT d.tenant_id, w FROM documents d, regexp_split_to_table(lower(d.title), '[^[:alnum:]]+') w
WHERE length(w) BETWEEN 3 AND 40;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE title_words FORCE ROW LEVEL SECURITY;
DROP INDEX documents_title_trigrams;

-- As in 0004, and each tenant's new title words are added (in word order, so two
-- writers adding the same new words never wait on each other in a cycle).
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
      (tenant_id, generation, doc_type, doc_id, title, body, keywords, tags, facets, visible_to, version, deleted, source_updated_at)
    SELECT tenant, g.generation, x.doc_type, x.doc_id, x.title, x.body, array_to_string(x.tags, ' '), x.tags, x.facets, x.visible_to,
           x.version, x.deleted, x.updated_at
    FROM jsonb_to_recordset(docs) AS x(doc_type text, doc_id uuid, title text, body text, tags text[], facets jsonb,
                                      visible_to uuid[], version int, deleted boolean, updated_at timestamptz)
    JOIN generations g ON g.tenant_id = tenant
      AND CASE WHEN reindex IS NULL THEN g.state IN ('live', 'building') ELSE g.state = 'building' AND g.reindex_id = reindex END
    ORDER BY g.generation, x.doc_type, x.doc_id
    ON CONFLICT (tenant_id, generation, doc_type, doc_id) DO UPDATE SET
      title = EXCLUDED.title, body = EXCLUDED.body, keywords = EXCLUDED.keywords, tags = EXCLUDED.tags, facets = EXCLUDED.facets,
      visible_to = EXCLUDED.visible_to, version = EXCLUDED.version, deleted = EXCLUDED.deleted,
      source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
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
