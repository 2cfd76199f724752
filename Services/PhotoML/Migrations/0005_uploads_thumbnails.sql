-- Two-step uploads for large photos: the client asks for a place to put the bytes, puts
-- them there (a presigned S3 URL, or this service), then completes the upload into a
-- session. The upload's id becomes the photo's.
CREATE TABLE photo_uploads (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  location_id uuid NOT NULL,
  product_id uuid,
  session_id uuid,
  parts int NOT NULL DEFAULT 1 CHECK (parts BETWEEN 1 AND 20),
  reprocess boolean NOT NULL DEFAULT false,
  declared_bytes bigint NOT NULL CHECK (declared_bytes > 0),
  storage_key text NOT NULL,
  created_by text NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Set once completed: the session the photo went into.
  completed_session_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id),
  FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX photo_uploads_expiry ON photo_uploads (expires_at) WHERE completed_session_id IS NULL;
SELECT enable_tenant_isolation('photo_uploads');

-- A small JPEG of the upright photo, made while it is processed.
ALTER TABLE photos ADD COLUMN thumbnail_key text;
