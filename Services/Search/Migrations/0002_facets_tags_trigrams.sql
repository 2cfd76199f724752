-- Facet attributes (status, projectId, priority for tasks), tags as a list, the source's
-- own update time (recency), and matching on both stemmed (english) and unstemmed
-- (simple: names, codes) words. Titles get a trigram index for typo-tolerant lookups.
ALTER TABLE documents ADD COLUMN tags text[] NOT NULL DEFAULT '{}';
ALTER TABLE documents ADD COLUMN facets jsonb NOT NULL DEFAULT '{}';
ALTER TABLE documents ADD COLUMN source_updated_at timestamptz NOT NULL DEFAULT now();
UPDATE documents SET tags = string_to_array(keywords, ' ') WHERE keywords <> '';
ALTER TABLE documents DROP COLUMN search;
ALTER TABLE documents ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english', title), 'A') ||
  setweight(to_tsvector('simple', title), 'A') ||
  setweight(to_tsvector('simple', keywords), 'B') ||
  setweight(to_tsvector('english', body), 'C') ||
  setweight(to_tsvector('simple', body), 'D')
) STORED;
CREATE INDEX documents_search ON documents USING gin (search);
CREATE INDEX documents_title_trigrams ON documents USING gin (title search.gin_trgm_ops);
CREATE INDEX documents_tags ON documents USING gin (tags);
