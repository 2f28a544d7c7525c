-- Placeholder on the batch-api branch only: migration 0005 belongs to the
-- encoder canary branch (the runner refuses gaps). When merging, take the
-- canary branch's file instead of this one.
SELECT 1;
