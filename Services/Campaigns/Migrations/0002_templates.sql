-- Email templates: every save is a new, immutable version; a campaign pins one.

CREATE TABLE templates (
  id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  name text NOT NULL,
  -- A marketing template must carry {{unsubscribeUrl}}.
  kind text NOT NULL DEFAULT 'marketing' CHECK (kind IN ('marketing', 'transactional')),
  latest_version int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX templates_name ON templates (tenant_id, lower(name));
SELECT enable_tenant_isolation('templates');

CREATE TABLE template_versions (
  tenant_id uuid NOT NULL,
  template_id uuid NOT NULL,
  version int NOT NULL CHECK (version >= 1),
  subject text NOT NULL,
  html text NOT NULL,
  -- Absent: derived from the HTML when sent.
  text_body text,
  -- The variables the template declares (besides the platform's own).
  variables text[] NOT NULL DEFAULT '{}',
  -- The version this one restored, if it is a restore.
  restored_from int,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, template_id, version),
  FOREIGN KEY (tenant_id, template_id) REFERENCES templates (tenant_id, id) ON DELETE CASCADE
);
SELECT enable_tenant_isolation('template_versions');

-- A tenant's shared pieces ({{> header}}, {{> footer}}), named, included by templates.
CREATE TABLE partials (
  tenant_id uuid NOT NULL,
  name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_-]{0,63}$'),
  body text NOT NULL,
  version int NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
SELECT enable_tenant_isolation('partials');
