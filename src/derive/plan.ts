import { createHash } from 'node:crypto';
import type { DistanceMetric, IndexKind, IndexStorage } from '../db/index.js';
import { InputError, RefusedError, UsageError } from '../errors.js';
import type { Derivation } from '../partitions/index.js';
import { VERSION_KEY, VERSION_KEY_RULE, type VersionRow } from '../versions/index.js';

/** What `embctl versions derive` takes. */
export interface DeriveInput {
  key: string;
  from: string;
  /** Keep the first N dimensions, renormalised (Matryoshka). Default: all of the parent's. */
  dimensions?: number;
  storage?: IndexStorage;
  /** Re-rank the top K by exact distance on the parent's vectors. */
  rerank?: number;
  index?: IndexKind;
  /** The metric of the results; bit storage compares by `hamming` (the only value it takes). */
  metric?: DistanceMetric;
  /** Truncate an encoder that does not declare Matryoshka training. */
  force?: boolean;
  /** Parent rows per INSERT … SELECT (default 2000). */
  batchSize?: number;
}

export interface DerivePlan {
  derivation: Derivation;
  metric: DistanceMetric;
  index: IndexKind;
  indexParams: Record<string, number>;
  /** A sha256 of the parent's identity and the transform: what makes two derived versions share vectors. */
  identity: string;
  /** Lines worth telling the user (a metric chosen for them, a forced truncation). */
  notes: string[];
}

export const MAX_RERANK = 1000;
/** pgvector's ANN index limits per stored type. */
const INDEX_LIMIT: Record<IndexStorage, number> = { vector: 2000, halfvec: 4000, bit: 64000 };

/** text-embedding-3 models were trained for shortening (OpenAI's `dimensions` parameter). */
export function declaresMatryoshka(parent: Pick<VersionRow, 'encoder_spec' | 'matryoshka'>): boolean {
  return parent.matryoshka || /^openai:text-embedding-3-/.test(parent.encoder_spec);
}

/** Checks the flags alone (exit 2 when wrong), before the database is read. */
export function checkDeriveFlags(input: DeriveInput): void {
  if (!VERSION_KEY.test(input.key))
    throw new UsageError(`version key ${JSON.stringify(input.key)}: must be ${VERSION_KEY_RULE}`);
  if (!input.from) throw new UsageError('--from <key> is required: the stored version to derive from');
  if (input.from === input.key) throw new UsageError(`--from names ${input.key} itself: derive from another version`);
  const d = input.dimensions;
  if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 16000))
    throw new UsageError(`--dimensions must be a whole number from 1 to 16000, not ${String(d)}`);
  const k = input.rerank;
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k > MAX_RERANK))
    throw new UsageError(`--rerank must be a whole number from 1 to ${MAX_RERANK}, not ${String(k)}`);
  if (input.storage !== undefined && !['vector', 'halfvec', 'bit'].includes(input.storage))
    throw new UsageError(`--storage must be vector, halfvec or bit, not ${String(input.storage)}`);
  if (input.index !== undefined && !['hnsw', 'ivfflat', 'none'].includes(input.index))
    throw new UsageError(`--index must be hnsw, ivfflat or none, not ${String(input.index)}`);
  if (input.metric !== undefined && !['cosine', 'l2', 'ip', 'hamming'].includes(input.metric))
    throw new UsageError(`--metric must be cosine, l2, ip or hamming, not ${String(input.metric)}`);
  const storage = input.storage ?? 'vector';
  if (storage === 'bit' && input.metric !== undefined && input.metric !== 'hamming') {
    throw new UsageError(
      `--storage bit compares vectors by Hamming distance, not ${input.metric}: pass --metric hamming or leave --metric out${input.rerank ? ' (--rerank then orders by the parent’s own metric)' : ''}`,
    );
  }
  if (storage !== 'bit' && input.metric === 'hamming')
    throw new UsageError(
      '--metric hamming applies to --storage bit only: leave --metric out (the parent’s metric is used)',
    );
  if (storage === 'bit' && (input.index ?? 'hnsw') === 'ivfflat')
    throw new UsageError('--storage bit is indexed with HNSW (bit_hamming_ops): use --index hnsw or none');
}

/**
 * The derived version a parent and the flags make, or a one-line refusal
 * (InputError: the flags do not fit this parent; RefusedError: the parent's
 * state does not allow it).
 */
export function planDerive(parent: VersionRow, input: DeriveInput): DerivePlan {
  checkDeriveFlags(input);
  const notes: string[] = [];
  if (parent.parent_version_id !== null)
    throw new InputError(
      `version ${parent.version_key} is itself derived: derive from the stored version it comes from instead`,
    );
  if (parent.state === 'retired')
    throw new RefusedError(
      `version ${parent.version_key} is retired: its vectors are gone; derive from a live version`,
    );
  if (parent.distance_metric === 'hamming')
    throw new InputError(`version ${parent.version_key} stores bits: derive from a stored float version`);
  const storage = input.storage ?? 'vector';
  const dims = input.dimensions ?? parent.dimensions;
  if (dims > parent.dimensions)
    throw new InputError(
      `--dimensions ${dims} is more than the ${parent.dimensions} dimensions of ${parent.version_key}: pick at most ${parent.dimensions}`,
    );
  if (dims < parent.dimensions && !declaresMatryoshka(parent)) {
    if (!input.force)
      throw new InputError(
        `${parent.encoder_spec} does not declare Matryoshka training, so its first ${dims} dimensions may not work alone: register the parent with --matryoshka if the model supports it, or pass --force to try anyway (and evaluate the result)`,
      );
    notes.push(`--force: truncating ${parent.encoder_spec}, which does not declare Matryoshka training`);
  }
  if (dims === parent.dimensions && storage === 'vector')
    throw new InputError(
      `nothing to derive: the same ${dims} dimensions in the same storage as ${parent.version_key}; pass --dimensions N below ${parent.dimensions}, or --storage halfvec or bit`,
    );
  const index = input.index ?? 'hnsw';
  if (index !== 'none' && dims > INDEX_LIMIT[storage])
    throw new InputError(
      `pgvector cannot build an ${index.toUpperCase()} index on ${storage}(${dims}) (limit ${INDEX_LIMIT[storage]}): use --storage halfvec or bit, fewer --dimensions, or --index none`,
    );
  const rerank = input.rerank ?? null;
  let metric: DistanceMetric;
  if (storage === 'bit') {
    metric = rerank ? parent.distance_metric : 'hamming';
    notes.push(
      rerank
        ? `bit storage: the top ${rerank} by Hamming distance are re-ranked by ${parent.distance_metric} distance on ${parent.version_key}`
        : `bit storage: results are ordered and scored by Hamming distance (metric hamming)`,
    );
  } else {
    metric = input.metric ?? parent.distance_metric;
    if (rerank && metric !== parent.distance_metric)
      throw new InputError(
        `--rerank orders by ${parent.version_key}'s ${parent.distance_metric} distance: leave --metric out or pass --metric ${parent.distance_metric}`,
      );
  }
  const derivation: Derivation = {
    parentId: parent.id,
    parentKey: parent.version_key,
    parentIdentity: parent.encoder_identity,
    parentDimensions: parent.dimensions,
    parentMetric: parent.distance_metric,
    dimensions: dims,
    storage,
    rerank,
  };
  const indexParams: Record<string, number> = index === 'hnsw' ? { m: 16, ef_construction: 64 } : {};
  const identity = createHash('sha256')
    .update(
      JSON.stringify({
        parent: parent.encoder_identity,
        dimensions: dims,
        storage,
        truncated: dims < parent.dimensions,
      }),
    )
    .digest('hex');
  return { derivation, metric, index, indexParams, identity, notes };
}

/** Whether an existing derived version was made by the same plan (a rerun resumes it). */
export function samePlan(existing: VersionRow, plan: DerivePlan): boolean {
  const d = existing.derivation as Partial<Derivation> | null;
  if (!d) return false;
  return (
    d.parentId === plan.derivation.parentId &&
    d.dimensions === plan.derivation.dimensions &&
    d.storage === plan.derivation.storage &&
    (d.rerank ?? null) === plan.derivation.rerank &&
    existing.index_kind === plan.index &&
    existing.distance_metric === plan.metric
  );
}
