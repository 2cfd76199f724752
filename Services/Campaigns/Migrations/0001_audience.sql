-- A tenant's audience: subscribers, the lists they are on, and saved segments.

CREATE TABLE subscribers (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  -- Normalised (trimmed, lower-cased) when written: unique per tenant as written.
  email text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
  name text NOT NULL DEFAULT '',
  attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  status text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'blocklisted')),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, email)
);
CREATE INDEX subscribers_newest ON subscribers (tenant_id, id DESC);
CREATE INDEX subscribers_attributes ON subscribers USING gin (attributes jsonb_path_ops);
SELECT enable_tenant_isolation('subscribers');

CREATE TABLE lists (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  description text,
  -- A public list may be offered on subscription and preference pages; a private one not.
  visibility text NOT NULL DEFAULT 'private' CHECK (visibility IN ('public', 'private')),
  -- Double opt-in: a subscriber is unconfirmed until the signed link in the confirmation
  -- email is followed.
  opt_in text NOT NULL DEFAULT 'single' CHECK (opt_in IN ('single', 'double')),
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX lists_name ON lists (tenant_id, lower(name));
SELECT enable_tenant_isolation('lists');

CREATE TABLE list_members (
  tenant_id uuid NOT NULL,
  list_id uuid NOT NULL,
  subscriber_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, list_id, subscriber_id),
  FOREIGN KEY (tenant_id, list_id) REFERENCES lists (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, subscriber_id) REFERENCES subscribers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX list_members_subscriber ON list_members (tenant_id, subscriber_id);
SELECT enable_tenant_isolation('list_members');

-- A filter over attributes and memberships, in the segment language (Domain/Segment*.swift),
-- kept as written and compiled to parameterised SQL whenever it is used.
CREATE TABLE segments (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  expression text NOT NULL,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX segments_name ON segments (tenant_id, lower(name));
SELECT enable_tenant_isolation('segments');
