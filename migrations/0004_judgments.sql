-- Relevance judgments (issue 13): grades of (query, document or chunk) pairs
-- given by a judge — a cross-encoder, an LLM — or by people (judge 'human').
-- One row per pair per judge identity, so no pair is ever judged (or paid
-- for) twice by the same judge. Queries are matched by the sha256 of their
-- text, so judgments follow a query from one judged set or shadow log to
-- another. A pair the judge could not grade keeps its failure instead of a
-- grade: it is shown, not counted as a label, and judged again only on
-- request (`embctl judge --retry-failed`).
CREATE TABLE relevance_judgments (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  query_sha256    text NOT NULL CHECK (query_sha256 ~ '^[0-9a-f]{64}$'),
  query_text      text NOT NULL,
  key_kind        text NOT NULL CHECK (key_kind IN ('document_id', 'semantic_key')),
  doc_key         text NOT NULL,
  judge           text NOT NULL,
  judge_spec      text NOT NULL,
  judge_model     text,
  judge_revision  text,
  judge_settings  jsonb NOT NULL DEFAULT '{}'::jsonb,
  grade           smallint CHECK (grade BETWEEN 0 AND 3),
  raw_score       double precision,
  failure         text,
  actor           text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((grade IS NULL) <> (failure IS NULL)),
  UNIQUE (judge, key_kind, query_sha256, doc_key)
);
CREATE INDEX relevance_judgments_query_idx ON relevance_judgments (key_kind, query_sha256);

-- How far a judge agrees with people (`embctl judge calibrate`): Cohen's
-- kappa (quadratic-weighted) and accuracy on a human-labelled judged set,
-- Kendall's tau of the version rankings when several versions exist, and
-- for a cross-encoder the score thresholds fitted for grades 1, 2 and 3.
-- `judge` is the identity the judgments are stored under (thresholds
-- included); `judge_base` the identity without them.
CREATE TABLE judge_calibrations (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  judge              text NOT NULL,
  judge_base         text NOT NULL,
  judge_spec         text NOT NULL,
  judged_set_name    text NOT NULL,
  judged_set_sha256  text NOT NULL,
  pairs              integer NOT NULL CHECK (pairs > 0),
  kappa              double precision NOT NULL,
  accuracy           double precision NOT NULL,
  kendall_tau        double precision,
  thresholds         jsonb,
  details            jsonb NOT NULL DEFAULT '{}'::jsonb,
  actor              text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX judge_calibrations_judge_idx ON judge_calibrations (judge, id);
CREATE INDEX judge_calibrations_base_idx ON judge_calibrations (judge_base, id);
