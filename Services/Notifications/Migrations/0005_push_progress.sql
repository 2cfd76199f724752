-- The subscriptions a push delivery has reached. When one browser's push service fails
-- (429, 5xx, no answer) the job is retried, and the retry skips the browsers that
-- already have the message instead of showing it to them twice.
ALTER TABLE deliveries ADD COLUMN pushed_to uuid[] NOT NULL DEFAULT '{}';
