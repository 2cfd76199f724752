-- Low-priority email waits in state 'digest' until the user's daily digest collects it.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
  CHECK (state IN ('queued', 'deferred', 'digest', 'sent', 'failed', 'suppressed'));
CREATE INDEX deliveries_digest ON deliveries (tenant_id, address, not_before) WHERE state = 'digest';
