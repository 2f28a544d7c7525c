/**
 * Recording a version's canary: at registration (register.ts calls
 * `storeCanary` in its transaction) and for a version that has none
 * (`embctl versions verify <key> --record`).
 */
import type { Kysely } from 'kysely';
import type { DB, Db } from '../../db/index.js';
import type { EncoderDeps } from '../../encoders/index.js';
import { InputError, RefusedError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { encoderForVersion } from '../encoder-for-version.js';
import { recordEvent, requireVersion, type VersionRow } from '../store.js';
import { queryDimensions } from '../../partitions/index.js';
import { canaryVectorsFor } from './derived-vectors.js';
import { assembleCanarySet, embedCanaryTexts, MAX_CANARY_SAMPLE, type CanarySet } from './embed.js';
import { insertCanary, readCanary } from './store.js';

export interface EmbeddedCanary {
  set: CanarySet;
  vectors: Float32Array[];
  reportedModel: string;
}

/** Store an embedded canary for a version and log `canary_recorded`, in the caller's transaction. */
export async function storeCanary(
  trx: Kysely<DB>,
  v: Pick<VersionRow, 'id' | 'version_key'>,
  c: EmbeddedCanary,
  audit: { actor: string; reason?: string | null; forced?: boolean; replaced: boolean },
): Promise<void> {
  await insertCanary(trx, v.id, {
    setName: c.set.name,
    setSha256: c.set.sha256,
    corpusSample: c.set.corpusSample,
    dimensions: c.vectors[0]!.length,
    reportedModel: c.reportedModel,
    actor: audit.actor,
    texts: c.set.texts.map((t, i) => ({ ...t, vector: c.vectors[i]! })),
  });
  await recordEvent(trx, {
    versionId: v.id,
    versionKey: v.version_key,
    event: 'canary_recorded',
    actor: audit.actor,
    reason: audit.reason ?? null,
    forced: audit.forced ?? false,
    details: {
      set: c.set.name,
      setSha256: c.set.sha256,
      texts: c.set.texts.length,
      corpusSample: c.set.corpusSample,
      dimensions: c.vectors[0]!.length,
      reportedModel: c.reportedModel,
      replaced: audit.replaced,
    },
  });
}

export function checkCanarySample(n: number | undefined): number {
  const sample = n ?? 0;
  if (!Number.isInteger(sample) || sample < 0 || sample > MAX_CANARY_SAMPLE)
    throw new InputError(`--canary-sample must be a whole number from 0 to ${MAX_CANARY_SAMPLE}, not ${n}`);
  return sample;
}

export interface RecordCanaryOptions {
  actor: string;
  logger?: Logger;
  encoderDeps?: EncoderDeps;
  /** Live corpus texts to add to the shipped set. */
  corpusSample?: number;
  /** Replace a canary the version already has (needs `reason`): verify compares against the new one afterwards. */
  force?: boolean;
  reason?: string;
}

/**
 * `versions verify <key> --record`: embed the canary set with the version's
 * encoder now and store it. Refused when the version already has one (it is
 * what verify compares against) unless forced with a reason, and for a
 * retired version.
 */
export async function recordCanary(
  db: Db,
  key: string,
  opts: RecordCanaryOptions,
): Promise<{ version: string; texts: number; reportedModel: string; replaced: boolean }> {
  const sample = checkCanarySample(opts.corpusSample);
  if (opts.force && !opts.reason?.trim())
    throw new InputError(
      '--force needs --reason "...": the replaced canary is recorded in the audit trail with its reason',
    );
  const v = await requireVersion(db.kysely, key);
  if (v.state === 'retired')
    throw new RefusedError(`version ${key} is retired: it serves nothing, so it needs no canary`, [], {
      code: 'retired',
    });
  const existing = await readCanary(db.kysely, v.id);
  if (existing && !opts.force)
    throw new RefusedError(
      `version ${key} already has a canary (${existing.texts.length} texts, recorded ${existing.createdAt.toISOString()}): it is what embctl versions verify ${key} compares against; replace it only if you are sure the encoder still is the model its vectors came from: --record --force --reason "..."`,
    );
  const set = await assembleCanarySet(db.kysely, sample);
  const encoder = await encoderForVersion(v, opts.encoderDeps ?? {});
  let embedded: EmbeddedCanary;
  try {
    const r = await embedCanaryTexts(encoder, set.texts, `cannot record a canary for ${key}`, {
      hint: `fix the encoder and run embctl versions verify ${key} --record again`,
    });
    embedded = { set, vectors: r.vectors, reportedModel: r.reportedModel };
  } finally {
    await encoder.close?.();
  }
  // A derived version's encoder is its parent's: it returns the parent's dimensions, then the transform applies.
  const expected = queryDimensions(v);
  if (embedded.vectors[0]!.length !== expected)
    throw new RefusedError(
      `cannot record a canary for ${key}: its encoder now returns ${embedded.vectors[0]!.length} dimensions, not the ${expected} it was registered with: the model changed; register and backfill a new version`,
      [],
      { code: 'canary_failed' },
    );
  embedded.vectors = await canaryVectorsFor(db.kysely, v, embedded.vectors);
  await db.kysely.transaction().execute((trx) =>
    storeCanary(trx, v, embedded, {
      actor: opts.actor,
      reason: opts.reason ?? null,
      forced: Boolean(existing),
      replaced: Boolean(existing),
    }),
  );
  opts.logger?.info({ version: key, texts: set.texts.length, replaced: Boolean(existing) }, 'encoder canary recorded');
  return { version: key, texts: set.texts.length, reportedModel: embedded.reportedModel, replaced: Boolean(existing) };
}
