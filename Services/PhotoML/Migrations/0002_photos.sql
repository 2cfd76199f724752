-- Photos of a location and the processing sessions that count what they show.

CREATE TABLE photo_sessions (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  product_id uuid,
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'processing', 'completed', 'completed_with_warnings', 'failed')),
  uploaded_by text NOT NULL,
  warnings jsonb NOT NULL DEFAULT '[]',
  error text,
  version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX photo_sessions_location ON photo_sessions (tenant_id, location_id, id DESC);
CREATE INDEX photo_sessions_state ON photo_sessions (tenant_id, state, id DESC);
SELECT enable_tenant_isolation('photo_sessions');

CREATE TABLE photos (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  session_id uuid NOT NULL,
  location_id uuid NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  format text NOT NULL CHECK (format IN ('jpeg', 'png')),
  width int NOT NULL CHECK (width > 0),
  height int NOT NULL CHECK (height > 0),
  orientation int NOT NULL CHECK (orientation BETWEEN 1 AND 8),
  bytes bigint NOT NULL CHECK (bytes > 0),
  storage_key text NOT NULL,
  -- The same bytes uploaded earlier for the same location: recognised, not counted again.
  duplicate_of uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, session_id) REFERENCES photo_sessions (tenant_id, id),
  FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id),
  FOREIGN KEY (tenant_id, duplicate_of) REFERENCES photos (tenant_id, id)
);
CREATE INDEX photos_session ON photos (tenant_id, session_id, id);
CREATE INDEX photos_same_bytes ON photos (tenant_id, location_id, sha256, id);
SELECT enable_tenant_isolation('photos');
