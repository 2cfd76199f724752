-- Search as you type expands the last word as a prefix. In the text index that means every
-- posting of every word it begins, in titles and bodies, for every tenant of the partition:
-- on the benchmark's largest tenant a four-letter prefix gathered 19,000 documents in 11 ms
-- before the first was read. Titles hold a fifth of a document's words; the same prefix
-- in this index of titles alone gathers 3,100 in 1.2 ms (6 MB against 31 MB for the
-- partition). A prefix is first completed in titles; the whole text is searched only when
-- titles give less than a page.
CREATE INDEX documents_title_prefixes ON documents USING gin (to_tsvector('simple', title));
