-- Derived versions (issue 16): a version whose vectors are computed inside
-- the database from another version's stored vectors (Matryoshka truncation,
-- half precision, binary quantization), never by an encoder.
--
-- parent_version_id and derivation (the transform: dimensions, storage,
-- rerank, and what it was derived from) are set together or not at all.
-- matryoshka: the encoder was trained so that a prefix of its output still
-- works (text-embedding-3-*, or `versions register --matryoshka`).
ALTER TABLE embedding_versions
  ADD COLUMN parent_version_id integer REFERENCES embedding_versions (id),
  ADD COLUMN derivation jsonb,
  ADD COLUMN matryoshka boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT embedding_versions_derivation CHECK (
    (parent_version_id IS NULL) = (derivation IS NULL)
    AND (derivation IS NULL OR jsonb_typeof(derivation) = 'object'));
CREATE INDEX embedding_versions_parent_idx ON embedding_versions (parent_version_id) WHERE parent_version_id IS NOT NULL;

-- Binary quantized vectors are compared by Hamming distance (pgvector `<~>`).
ALTER TABLE embedding_versions DROP CONSTRAINT embedding_versions_distance_metric_check;
ALTER TABLE embedding_versions ADD CONSTRAINT embedding_versions_distance_metric_check
  CHECK (distance_metric IN ('cosine', 'l2', 'ip', 'hamming'));
ALTER TABLE embedding_versions DROP CONSTRAINT embedding_versions_index_storage_check;
ALTER TABLE embedding_versions ADD CONSTRAINT embedding_versions_index_storage_check
  CHECK (index_storage IN ('vector', 'halfvec', 'bit'));
-- pgvector: HNSW/IVFFlat up to 2000 dims on vector, 4000 on halfvec, 64000 on bit.
ALTER TABLE embedding_versions DROP CONSTRAINT embedding_versions_index_dims;
ALTER TABLE embedding_versions ADD CONSTRAINT embedding_versions_index_dims CHECK (
  index_kind = 'none'
  OR (index_storage = 'vector' AND dimensions <= 2000)
  OR (index_storage = 'halfvec' AND dimensions <= 4000)
  OR index_storage = 'bit');
-- Only a derived version stores bits, and Hamming distance goes with bits.
ALTER TABLE embedding_versions ADD CONSTRAINT embedding_versions_bit_derived CHECK (
  (index_storage <> 'bit' OR parent_version_id IS NOT NULL)
  AND (distance_metric <> 'hamming' OR index_storage = 'bit'));

-- A derived partition stores half precision or bits in a column of its own
-- type (half or 1/32 of the bytes); every row holds exactly one of the three.
-- Each partition's CHECK says which one and how many dimensions.
ALTER TABLE chunk_embeddings
  ADD COLUMN embedding_half halfvec,
  ADD COLUMN embedding_bits bit varying;
ALTER TABLE chunk_embeddings ALTER COLUMN embedding DROP NOT NULL;
ALTER TABLE chunk_embeddings ADD CONSTRAINT chunk_embeddings_one_vector
  CHECK (num_nonnulls(embedding, embedding_half, embedding_bits) = 1);
