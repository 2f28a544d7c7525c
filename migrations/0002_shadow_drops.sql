-- Shadow queries a serving process dropped (queue full, shutdown) or failed,
-- per candidate and hour, so `embctl shadow report` can show them from any
-- process. Each serving process adds its counts when it refreshes its config.
CREATE TABLE shadow_drops (
  candidate_version_id  integer NOT NULL REFERENCES embedding_versions (id) ON DELETE CASCADE,
  bucket_start          timestamptz NOT NULL,
  dropped               bigint NOT NULL DEFAULT 0,
  failed                bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (candidate_version_id, bucket_start)
);
