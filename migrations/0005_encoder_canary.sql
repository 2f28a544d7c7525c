-- The encoder canary (issue 15): a fixed set of texts embedded when a version
-- is registered, stored with the version, and embedded again later
-- (`embctl versions verify`, `embctl serve`, `evaluate --gate`) to catch a
-- provider that changed the model behind the same name. One row per version
-- says what was recorded (the set, the model name the provider reported);
-- one row per text holds the text, its sha256 and its vector. Versions
-- registered before this migration have no canary until one is recorded
-- (`embctl versions verify <key> --record`).
CREATE TABLE encoder_canaries (
  embedding_version_id  integer PRIMARY KEY REFERENCES embedding_versions (id) ON DELETE CASCADE,
  set_name              text NOT NULL,
  -- sha256 hex over the texts' sha256 in position order.
  set_sha256            text NOT NULL CHECK (set_sha256 ~ '^[0-9a-f]{64}$'),
  texts                 integer NOT NULL CHECK (texts > 0),
  corpus_sample         integer NOT NULL DEFAULT 0 CHECK (corpus_sample >= 0),
  dimensions            integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
  -- The model the provider said it used (OpenAI: the response's `model`); for
  -- hash: and local: the encoder's own name and revision.
  reported_model        text NOT NULL,
  actor                 text NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE encoder_canary_texts (
  embedding_version_id  integer NOT NULL REFERENCES encoder_canaries (embedding_version_id) ON DELETE CASCADE,
  position              integer NOT NULL CHECK (position >= 0),
  source                text NOT NULL CHECK (source IN ('shipped', 'corpus')),
  content               text NOT NULL CHECK (content <> ''),
  content_sha256        text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
  -- float4 values: the vector exactly as the encoder returned it.
  embedding             real[] NOT NULL CHECK (cardinality(embedding) > 0),
  PRIMARY KEY (embedding_version_id, position)
);

-- Canary events in the audit trail: recorded (at registration or --record),
-- checked (within tolerance) and failed (the model moved).
ALTER TABLE version_events DROP CONSTRAINT version_events_event_check;
ALTER TABLE version_events ADD CONSTRAINT version_events_event_check CHECK (event IN (
  'registered', 'backfill_started', 'backfill_completed', 'backfill_failed',
  'index_built', 'gate_passed', 'gate_failed', 'activated', 'rolled_back',
  'retired', 'shadow_started', 'shadow_stopped',
  'canary_recorded', 'canary_checked', 'canary_failed'));
