-- One index per list order (the expressions are TaskSort.key), so a page is an index range
-- scan from the cursor instead of a sort of the tenant's tasks.
CREATE INDEX tasks_by_created ON tasks (tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_by_priority ON tasks (tenant_id, (priority::bigint), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_by_due ON tasks (tenant_id, (COALESCE(due_at, 'infinity'::timestamptz)), id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_by_position ON tasks (tenant_id, position, id) WHERE deleted_at IS NULL;
