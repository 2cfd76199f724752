-- The text, trigram and tag indexes lead with the tenant (btree_gin), so a query reads
-- only its tenant's postings: a small tenant no longer pays for a large one's matches,
-- and no second index is needed to filter by tenant.
DROP INDEX documents_search;
DROP INDEX documents_title_trigrams;
DROP INDEX documents_tags;
CREATE INDEX documents_tenant_search ON documents USING gin (tenant_id, search);
CREATE INDEX documents_tenant_title_trigrams ON documents USING gin (tenant_id, title gin_trgm_ops);
CREATE INDEX documents_tenant_tags ON documents USING gin (tenant_id, tags);
