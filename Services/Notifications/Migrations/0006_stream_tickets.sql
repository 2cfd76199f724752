-- Single-use tickets that open a browser's inbox stream (EventSource cannot send an
-- Authorization header): stored hashed, valid 30 s, bound to user and tenant. A ticket is
-- redeemed by itself, before any tenant is known, so this table has no row-level security;
-- only the hash of a 32-byte secret finds a row.
CREATE TABLE stream_tickets (
  ticket_hash bytea PRIMARY KEY,
  tenant_id uuid NOT NULL,
  user_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);
