-- Articles sharing an LSH band, found by a btree lookup of the bands instead of array
-- overlap: `bands && $1` with a batch's 3,200 band hashes was planned as a filter over the
-- tenant's rows, comparing every pair of elements (0.6 s a batch at 10,000 articles).
-- Bands older than the matching window are forgotten by the hourly upkeep.
CREATE TABLE signature_bands (
  tenant_id uuid NOT NULL,
  band bigint NOT NULL,
  item_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, band, item_key)
);
CREATE INDEX signature_bands_age ON signature_bands (created_at);

-- The last week's bands carried over, every tenant's: the owner reads past the isolation
-- for this one statement, before the new table has its own.
ALTER TABLE item_signatures NO FORCE ROW LEVEL SECURITY;
INSERT INTO signature_bands (tenant_id, band, item_key, created_at)
SELECT tenant_id, unnest(bands), item_key, created_at FROM item_signatures WHERE created_at > now() - interval '7 days'
ON CONFLICT DO NOTHING;
ALTER TABLE item_signatures FORCE ROW LEVEL SECURITY;
SELECT enable_tenant_isolation('signature_bands');

DROP INDEX item_signatures_bands;
ALTER TABLE item_signatures DROP COLUMN bands;

CREATE POLICY forget_old_bands ON signature_bands FOR DELETE
  USING (current_setting('app.upkeep', true) = 'signature_bands' AND created_at < now() - interval '7 days');
CREATE POLICY see_old_bands ON signature_bands FOR SELECT
  USING (current_setting('app.upkeep', true) = 'signature_bands' AND created_at < now() - interval '7 days');
