-- Backfill through a provider's Batch API (`embctl backfill <key> --batch-api`).
-- A remote job outlives the process that submitted it, so everything about it
-- is recorded before and after each remote call: the job and the texts each
-- of its requests (custom_id) covers are recorded before the upload; the file
-- id after the upload; status `creating` before the batch is created and the
-- batch id after. A rerun finds a job where its last call left it, and a text
-- is in at most one live job per version, so no text is submitted twice
-- while its remote batch is alive.
CREATE TABLE batch_api_jobs (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  embedding_version_id  integer NOT NULL REFERENCES embedding_versions (id) ON DELETE CASCADE,
  -- Local steps (preparing: recorded, not uploaded; uploaded: file id known;
  -- creating: batches.create may have been called), then the provider's
  -- statuses, then collected (its output is written and its leftovers freed).
  status                text NOT NULL DEFAULT 'preparing'
                        CHECK (status IN ('preparing', 'uploaded', 'creating', 'validating', 'in_progress',
                                          'finalizing', 'completed', 'failed', 'expired', 'cancelling',
                                          'cancelled', 'collected')),
  -- The remote status it ended with, once collected.
  remote_status         text,
  -- A unique tag, in the uploaded file's name and the batch's metadata, to find it again.
  tag                   text NOT NULL UNIQUE,
  input_file_id         text,
  batch_id              text UNIQUE,
  output_file_id        text,
  error_file_id         text,
  requests              integer NOT NULL,
  texts                 integer NOT NULL,
  tokens                bigint NOT NULL,
  bytes                 bigint NOT NULL,
  -- Counts the provider reported, and what collection made of them.
  completed_requests    integer NOT NULL DEFAULT 0,
  failed_requests       integer NOT NULL DEFAULT 0,
  billed_tokens         bigint NOT NULL DEFAULT 0,
  texts_written         integer NOT NULL DEFAULT 0,
  texts_failed          integer NOT NULL DEFAULT 0,
  last_error            text,
  -- A process making a remote call for this job holds it (host:pid:nonce) until then.
  locked_by             text,
  locked_until          timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  submitted_at          timestamptz,
  finished_at           timestamptz,
  collected_at          timestamptz
);
CREATE INDEX batch_api_jobs_version_idx ON batch_api_jobs (embedding_version_id, status);

-- Which texts each request of a job covers: custom_id → the content_sha256
-- at each position of its `input` list. `written` is set in the transaction
-- that writes the text's vector, so a text is written once even when an
-- output file is read again after a cut-off download or a crash.
CREATE TABLE batch_api_items (
  job_id                bigint NOT NULL REFERENCES batch_api_jobs (id) ON DELETE CASCADE,
  custom_id             text NOT NULL,
  position              integer NOT NULL,
  embedding_version_id  integer NOT NULL,
  content_sha256        bytea NOT NULL,
  written               boolean NOT NULL DEFAULT false,
  PRIMARY KEY (job_id, custom_id, position)
);
CREATE INDEX batch_api_items_text_idx ON batch_api_items (embedding_version_id, content_sha256);

-- Per text and version: how many times it was submitted, its last error, and
-- whether it was set aside after too many attempts.
CREATE TABLE batch_api_texts (
  embedding_version_id  integer NOT NULL REFERENCES embedding_versions (id) ON DELETE CASCADE,
  content_sha256        bytea NOT NULL,
  attempts              integer NOT NULL DEFAULT 0,
  last_error            text,
  set_aside             boolean NOT NULL DEFAULT false,
  updated_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (embedding_version_id, content_sha256)
);
