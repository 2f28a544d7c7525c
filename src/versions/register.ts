import { z } from 'zod';
import type { Db } from '../db/index.js';
import type { DistanceMetric, IndexKind, IndexStorage } from '../db/index.js';
import { InputError } from '../errors.js';
import type { Logger } from '../log/index.js';
import {
  createEncoder,
  identityHash,
  resolveSettings,
  type EncoderDeps,
  type EncoderSettings,
} from '../encoders/index.js';
import type { Encoder } from '../encoders/index.js';
import { EncoderDimensionsError } from '../encoders/index.js';
import { createPartition } from '../partitions/index.js';
import { findVersion, recordEvent, VERSION_KEY, VERSION_KEY_RULE, type VersionRow } from './store.js';
import { insertVersion } from './queries/index.js';
import {
  assembleCanarySet,
  embedCanaryTexts,
  MAX_CANARY_SAMPLE,
  storeCanary,
  type EmbeddedCanary,
} from './canary/index.js';

export const PROBE_TEXT = 'embctl probe: does this encoder produce the vectors it promises?';

const registerSchema = z.object({
  key: z.string().regex(VERSION_KEY, `must be ${VERSION_KEY_RULE}`),
  encoder: z.string().min(1, 'is required, e.g. --encoder openai:text-embedding-3-small'),
  dimensions: z.number().int().min(1).max(16000).optional(),
  metric: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
  index: z.enum(['hnsw', 'ivfflat', 'none']).default('hnsw'),
  storage: z.enum(['vector', 'halfvec']).default('vector'),
  m: z.number().int().min(2).max(100).optional(),
  efConstruction: z.number().int().min(4).max(1000).optional(),
  lists: z.number().int().min(1).max(32768).optional(),
  settings: z.custom<EncoderSettings>().default({}),
  /** Embed and store the encoder canary (default true; false: `--no-canary`). */
  canary: z.boolean().default(true),
  /** Live corpus texts added to the shipped canary set. */
  canarySample: z.number().int().min(0).max(MAX_CANARY_SAMPLE).default(0),
  /** The model was trained so that a prefix of its output still works: `versions derive --dimensions` may truncate it. */
  matryoshka: z.boolean().default(false),
});

export type RegisterInput = z.input<typeof registerSchema>;

export interface RegisterDeps extends EncoderDeps {
  actor: string;
  logger: Logger;
  /** Test seam: build the encoder another way. */
  makeEncoder?: (spec: string, settings: EncoderSettings) => Promise<Encoder>;
}

/** pgvector's ANN index limits per storage type. */
export const INDEX_DIMENSION_LIMIT: Record<IndexStorage, number> = { vector: 2000, halfvec: 4000, bit: 64000 };

/**
 * Register an encoder version: probe the encoder, refuse what cannot work,
 * then in one transaction record the version, create its partition and log
 * a `registered` event.
 */
export async function registerVersion(db: Db, input: RegisterInput, deps: RegisterDeps): Promise<VersionRow> {
  const parsed = registerSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${flagName(String(i.path[0]))}: ${i.message}`);
    throw new InputError(
      problems.length === 1 ? problems[0]! : `invalid version options (${problems.length} problems)`,
      problems.length > 1 ? problems : [],
    );
  }
  const opt = parsed.data;
  if (opt.index !== 'ivfflat' && opt.lists !== undefined)
    throw new InputError('--lists applies to --index ivfflat only');
  if (opt.index !== 'hnsw' && (opt.m !== undefined || opt.efConstruction !== undefined)) {
    throw new InputError('--m and --ef-construction apply to --index hnsw only');
  }
  if (await findVersion(db.kysely, opt.key)) {
    throw new InputError(
      `version ${opt.key} already exists: pick another key (versions are immutable; register a new one for a new model or setting)`,
    );
  }

  const settings = resolveSettings(
    opt.encoder,
    { ...opt.settings, dimensions: opt.dimensions ?? opt.settings.dimensions },
    deps,
  );
  const encoder = await (deps.makeEncoder ?? ((s, st) => createEncoder(s, st, deps)))(opt.encoder, settings);
  try {
    const probe = await encoder.embed([PROBE_TEXT], { label: 'registration probe' }).catch((e: unknown) => {
      if (e instanceof EncoderDimensionsError) throw dimensionsRefused(opt.encoder, e.actual, e.expected);
      throw e;
    });
    const vector = probe[0];
    if (!vector || vector.length === 0)
      throw new InputError(`encoder ${opt.encoder} returned no vector for the probe text`);
    const real = vector.length;
    if (opt.dimensions !== undefined && opt.dimensions !== real)
      throw dimensionsRefused(opt.encoder, real, opt.dimensions);
    checkIndexFits(opt.index, opt.storage, real);
    checkMetric(opt.metric, encoder, vector);
    // The canary: embedded now, before anything is written, so an encoder that cannot embed it leaves nothing behind.
    let canary: EmbeddedCanary | undefined;
    if (opt.canary) {
      const set = await assembleCanarySet(db.kysely, opt.canarySample);
      const r = await embedCanaryTexts(encoder, set.texts, `cannot register ${opt.key}`, {
        hint: `fix the encoder and register again, or register with --no-canary (and record one later with embctl versions verify ${opt.key} --record)`,
      });
      canary = { set, vectors: r.vectors, reportedModel: r.reportedModel };
    }

    const identity = encoder.identity;
    const indexParams: Record<string, number> = {};
    if (opt.index === 'hnsw') {
      indexParams.m = opt.m ?? 16;
      indexParams.ef_construction = opt.efConstruction ?? 64;
    } else if (opt.index === 'ivfflat' && opt.lists !== undefined) {
      indexParams.lists = opt.lists;
    }
    const row = await db.kysely.transaction().execute(async (trx) => {
      const v = await insertVersion(trx, {
        version_key: opt.key,
        encoder_spec: opt.encoder,
        encoder_name: identity.name,
        encoder_revision: identity.revision,
        encoder_settings: JSON.stringify(settings),
        encoder_identity: identityHash(identity),
        dimensions: real,
        distance_metric: opt.metric as DistanceMetric,
        index_kind: opt.index as IndexKind,
        index_params: JSON.stringify(indexParams),
        index_storage: opt.storage as IndexStorage,
        matryoshka: opt.matryoshka,
      });
      await createPartition(trx, v);
      await recordEvent(trx, {
        versionId: v.id,
        versionKey: v.version_key,
        event: 'registered',
        actor: deps.actor,
        details: {
          encoder: opt.encoder,
          identity: { name: identity.name, revision: identity.revision, settings: identity.settings },
          dimensions: real,
          metric: opt.metric,
          index: opt.index,
          storage: opt.storage,
        },
      });
      if (canary) await storeCanary(trx, v, canary, { actor: deps.actor, replaced: false });
      return v;
    });
    deps.logger.info(
      { version: row.version_key, encoder: row.encoder_spec, dimensions: row.dimensions },
      'version registered',
    );
    return row;
  } finally {
    await encoder.close?.();
  }
}

function dimensionsRefused(encoder: string, actual: number, expected: number): InputError {
  return new InputError(
    `encoder ${encoder} produces ${actual} dimensions: expected ${expected} dimensions, not ${actual} (fix --dimensions, or pass the model's dimensions setting)`,
  );
}

function checkIndexFits(index: IndexKind, storage: IndexStorage, dims: number): void {
  if (index === 'none') return;
  const limit = INDEX_DIMENSION_LIMIT[storage];
  if (dims <= limit) return;
  if (storage === 'vector' && dims <= INDEX_DIMENSION_LIMIT.halfvec) {
    throw new InputError(
      `pgvector cannot build an ${index.toUpperCase()} index on vector(${dims}) (limit ${limit} dimensions): add --storage halfvec (index on half precision, up to 4000 dimensions; vectors stay full precision)`,
    );
  }
  throw new InputError(
    `pgvector cannot index ${dims} dimensions (limit 4000 with halfvec): use a model setting with fewer dimensions, or --index none for exact search`,
  );
}

function checkMetric(metric: string, encoder: Encoder, probe: Float32Array): void {
  if (metric !== 'ip') return;
  let sq = 0;
  for (const x of probe) sq += x * x;
  const norm = Math.sqrt(sq);
  if (!encoder.normalized && Math.abs(norm - 1) > 1e-3) {
    throw new InputError(
      `--metric ip ranks by vector length on unnormalised output (probe norm ${norm.toFixed(3)}): use --metric cosine, or an encoder that normalises its vectors`,
    );
  }
}

function flagName(key: string): string {
  if (key === 'key') return 'version key';
  return '--' + key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
