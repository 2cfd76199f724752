-- The text index takes updates into a pending list (GIN fast update) that the insert which
-- finds it full merges into the index while its batch waits. With the 4 MB default an update
-- under 2,500 updates/s took 221-311 ms (p99) to become searchable; with 256 kB, 153-156 ms
-- (make bench-search, two runs each). The index also stays smaller; indexing from events
-- kept to 8,000-9,500 documents/s.
DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN SELECT relid FROM pg_partition_tree('documents_search') WHERE isleaf LOOP
    EXECUTE format('ALTER INDEX %s SET (gin_pending_list_limit = 256)', part);
  END LOOP;
END $$;
