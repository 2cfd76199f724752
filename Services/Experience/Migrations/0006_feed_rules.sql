-- A tenant's business rules over its home feeds: sponsored items at fixed positions of
-- "for you", and providers never recommended. One row per tenant that set any.

CREATE TABLE feed_rules (
  tenant_id uuid PRIMARY KEY,
  sponsored_positions int[] NOT NULL DEFAULT '{}',
  sponsored_items text[] NOT NULL DEFAULT '{}',
  blocked_providers text[] NOT NULL DEFAULT '{}',
  version int NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT enable_tenant_isolation('feed_rules');
