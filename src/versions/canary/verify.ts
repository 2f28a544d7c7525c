/**
 * `embctl versions verify <key>`: embed a version's canary again, compare it
 * text by text with what was stored at registration, and record the figures
 * as a `canary_checked` or `canary_failed` event.
 */
import type { Db } from '../../db/index.js';
import { parseEncoderSpec, type Encoder, type EncoderDeps } from '../../encoders/index.js';
import { InvariantError } from '../../errors.js';
import type { Logger } from '../../log/index.js';
import { encoderForVersion } from '../encoder-for-version.js';
import type { EventDetailsMap } from '../event-details.js';
import { recordEvent, requireVersion, type VersionRow } from '../store.js';
import { CANARY_TOLERANCE, compareCanary, type CanaryTolerance } from './compare.js';
import { canaryVectorsFor } from './derived-vectors.js';
import { embedCanaryTexts } from './embed.js';
import { sha256Hex } from './shipped-set.js';
import { lastCanaryEvent, readCanary } from './store.js';

export interface CanaryCheck {
  version: string;
  encoder: string;
  /** `no_canary`: registered before embctl recorded canaries (record one with `verify --record`). */
  status: 'passed' | 'failed' | 'no_canary';
  texts: number;
  moved: number;
  minCosine: number | null;
  meanCosine: number | null;
  maxAbsDiff: number | null;
  tolerance: CanaryTolerance;
  reportedModel: string | null;
  recordedModel: string | null;
  dimensionsNow: number | null;
  /** The moved texts with the lowest cosine: position, cosine and the text (shortened). */
  worst: { position: number; cosine: number; text: string }[];
  /** The id of the event written for this check, or null when none was (serve writes on a change only). */
  eventId: number | null;
  /** One line saying the outcome and, when it failed or is missing, what to do. */
  message: string;
}

export interface VerifyCanaryDeps {
  actor: string;
  logger?: Logger;
  encoderDeps?: EncoderDeps;
  /** Which command checks (recorded in the event). */
  by?: 'verify' | 'serve' | 'gate';
  /**
   * When to write the event: `always` (verify, gate), `on-change` (serve: only
   * when the outcome differs from the version's last canary event, so a
   * periodic check does not fill the audit trail), `never` (a read-only replica).
   */
  record?: 'always' | 'on-change' | 'never';
  /** An encoder to reuse (serve keeps one per version); otherwise one is made and closed. */
  encoder?: Encoder;
  signal?: AbortSignal;
}

/** Embed the canary of `key` again and compare. Throws only when the check could not be made (encoder down). */
export async function verifyCanary(db: Db, key: string | VersionRow, deps: VerifyCanaryDeps): Promise<CanaryCheck> {
  const v = typeof key === 'string' ? await requireVersion(db.kysely, key) : key;
  const tolerance = CANARY_TOLERANCE[parseEncoderSpec(v.encoder_spec).provider];
  const canary = await readCanary(db.kysely, v.id);
  if (!canary) {
    return {
      ...empty(v, tolerance),
      message: `version ${v.version_key} has no canary (registered before embctl recorded one): record one with embctl versions verify ${v.version_key} --record, once you trust its encoder still is the model its vectors came from`,
    };
  }
  const altered = canary.texts.find((t) => sha256Hex(t.content) !== t.sha256);
  if (altered)
    throw new InvariantError(
      `the stored canary of version ${v.version_key} was altered (text ${altered.position} no longer has its recorded sha256): record it again with embctl versions verify ${v.version_key} --record --force --reason "..."`,
    );

  const encoder = deps.encoder ?? (await encoderForVersion(v, deps.encoderDeps ?? {}));
  let fresh;
  try {
    fresh = await embedCanaryTexts(encoder, canary.texts, `cannot verify the canary of ${v.version_key}`, {
      signal: deps.signal,
      hint: `fix the encoder and run embctl versions verify ${v.version_key} again`,
    });
  } finally {
    if (!deps.encoder) await encoder.close?.();
  }
  // A derived version's canary holds transformed vectors: the fresh ones go through the same transform.
  const freshVectors = await canaryVectorsFor(db.kysely, v, fresh.vectors);
  const cmp = compareCanary(
    canary.texts.map((t) => t.vector),
    freshVectors,
    tolerance,
  );
  const passed = cmp.moved === 0;
  const details: EventDetailsMap['canary_checked'] = {
    by: deps.by ?? 'verify',
    texts: cmp.texts,
    moved: cmp.moved,
    minCosine: cmp.minCosine,
    meanCosine: cmp.meanCosine,
    maxAbsDiff: Number.isFinite(cmp.maxAbsDiff) ? cmp.maxAbsDiff : null,
    tolerance,
    reportedModel: fresh.reportedModel,
    recordedModel: canary.reportedModel,
    dimensionsNow: cmp.dimensionsNow,
    worst: cmp.worst,
  };
  const eventId = await maybeRecord(db, v, passed, details, deps);
  const check: CanaryCheck = {
    version: v.version_key,
    encoder: v.encoder_spec,
    status: passed ? 'passed' : 'failed',
    texts: cmp.texts,
    moved: cmp.moved,
    minCosine: cmp.minCosine,
    meanCosine: cmp.meanCosine,
    maxAbsDiff: details.maxAbsDiff,
    tolerance,
    reportedModel: fresh.reportedModel,
    recordedModel: canary.reportedModel,
    dimensionsNow: cmp.dimensionsNow,
    worst: cmp.worst.map((w) => ({ ...w, text: shorten(canary.texts[w.position]!.content) })),
    eventId,
    message: '',
  };
  check.message = canaryMessage(check);
  const log = { version: v.version_key, moved: check.moved, texts: check.texts, minCosine: check.minCosine };
  if (passed) deps.logger?.info(log, 'encoder canary holds');
  else deps.logger?.error({ ...log, reportedModel: check.reportedModel }, check.message);
  return check;
}

/** The one line for a check's outcome. */
export function canaryMessage(c: CanaryCheck): string {
  if (c.status === 'no_canary') return c.message;
  const tol = `cosine ≥ ${c.tolerance.minCosine}${c.tolerance.maxAbsDiff !== null ? `, max abs diff ≤ ${c.tolerance.maxAbsDiff.toExponential()}` : ''}`;
  const model =
    c.reportedModel !== c.recordedModel
      ? `; the provider now reports model ${c.reportedModel} (recorded: ${c.recordedModel})`
      : '';
  if (c.status === 'passed')
    return `canary of ${c.version} holds: ${c.texts} texts, min cosine ${fmt(c.minCosine!)}, max abs diff ${fmt(c.maxAbsDiff ?? 0)} (tolerance ${tol})${model}`;
  const dims = c.dimensionsNow !== null ? `, dimensions now ${c.dimensionsNow}` : '';
  return `canary FAILED for version ${c.version} (${c.encoder}): ${c.moved} of ${c.texts} canary texts moved, min cosine ${fmt(c.minCosine!)} (tolerance ${tol})${dims}${model}: the encoder no longer returns the vectors ${c.version} was registered with, so queries will not match its stored vectors; register and backfill a new version for this model`;
}

async function maybeRecord(
  db: Db,
  v: VersionRow,
  passed: boolean,
  details: EventDetailsMap['canary_checked'],
  deps: VerifyCanaryDeps,
): Promise<number | null> {
  const mode = deps.record ?? 'always';
  if (mode === 'never') return null;
  if (mode === 'on-change') {
    const last = await lastCanaryEvent(db.kysely, v.id);
    const wasFailed = last?.event === 'canary_failed';
    if (passed !== wasFailed) return null;
  }
  return db.kysely.transaction().execute(async (trx) => {
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: v.version_key,
      event: passed ? 'canary_checked' : 'canary_failed',
      actor: deps.actor,
      details,
    });
    const row = await lastCanaryEvent(trx, v.id);
    return row?.id ?? null;
  });
}

function empty(v: VersionRow, tolerance: CanaryTolerance): CanaryCheck {
  return {
    version: v.version_key,
    encoder: v.encoder_spec,
    status: 'no_canary',
    texts: 0,
    moved: 0,
    minCosine: null,
    meanCosine: null,
    maxAbsDiff: null,
    tolerance,
    reportedModel: null,
    recordedModel: null,
    dimensionsNow: null,
    worst: [],
    eventId: null,
    message: '',
  };
}

/** Six decimals, or the exponent for tiny differences. */
function fmt(x: number): string {
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(2);
  return x.toFixed(6).replace(/\.?0+$/, '') || '0';
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 60 ? `${one.slice(0, 59)}…` : one;
}
