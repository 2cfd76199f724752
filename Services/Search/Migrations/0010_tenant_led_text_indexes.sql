-- The text and tag indexes lead with the tenant, as the title index does (btree_gin,
-- installed by infra/sql/bootstrap.sql), so a query reads only its tenant's postings. Indexed by the
-- text alone, a partition's index answered for every tenant the hash put there: a tenant
-- of 632 documents sharing a partition with one of 38,608 built the bitmap of a common
-- word's 4,100 documents and ANDed it with a scan of the whole primary key to find its
-- own 34 (4.7 ms; at 1M documents the key is five times larger). Led by the tenant, the
-- index gives those 34 directly (1.3 ms); the large tenant's queries take as long as before
-- (5-7 ms), and each new row version adds one more entry per index.
DROP INDEX documents_search;
CREATE INDEX documents_search ON documents USING gin (tenant_id, search);
DROP INDEX documents_tags;
CREATE INDEX documents_tags ON documents USING gin (tenant_id, tags);
