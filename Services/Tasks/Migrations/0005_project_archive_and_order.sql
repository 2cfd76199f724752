ALTER TABLE projects ADD COLUMN archived_at timestamptz;
-- The order GET /v1/tasks?projectId=… uses when the request names none (a TaskSort value).
ALTER TABLE projects ADD COLUMN default_sort text NOT NULL DEFAULT 'position';
ALTER TABLE projects ADD CONSTRAINT projects_name_length CHECK (char_length(name) BETWEEN 1 AND 200);
