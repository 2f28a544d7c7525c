import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import type { Db } from '../db/index.js';
import { RefusedError, UsageError } from '../errors.js';
import { activeVersion, coverage, recordEvent, requireVersion } from '../versions/index.js';
import { queryable, type Queryable } from '../db/index.js';
import { versionKeysById } from '../versions/index.js';

type Exec = Kysely<DB>;

/** The candidate currently shadowed (at most one). */
export interface ShadowTarget {
  versionId: number;
  versionKey: string;
  sampleRate: number;
  k: number;
  storeQueryText: boolean;
  startedAt: Date;
}

export interface StartShadowInput {
  key: string;
  /** Fraction of live queries mirrored, in (0, 1]. */
  sampleRate: number;
  /** Top-K compared. Default 10. */
  k?: number;
  /** Keep the raw query text (default: only its sha256). */
  storeQueryText?: boolean;
  /** Start even when the candidate has no vectors at all (logged as forced). */
  force?: boolean;
  reason?: string;
}

export interface StartShadowResult {
  target: ShadowTarget;
  /** The candidate that was shadowed before and is now stopped, if any. */
  replaced: string | null;
  /** Live chunks embedded for the candidate / live chunks (1 when there are none). */
  coverage: number;
  /** Things the operator should know (partial coverage, no active version...). */
  warnings: string[];
}

export interface ShadowDeps {
  actor: string;
}

/**
 * Start shadowing `key`: one candidate at a time, so a running shadow of
 * another version is stopped (with its own `shadow_stopped` event). Refuses
 * the active version, a retired one, and (unless forced) one with no vectors.
 */
export async function startShadow(db: Db, input: StartShadowInput, deps: ShadowDeps): Promise<StartShadowResult> {
  const k = input.k ?? 10;
  if (!(input.sampleRate > 0 && input.sampleRate <= 1)) {
    throw new UsageError(
      `the sample rate must be in (0, 1], got ${input.sampleRate}: use shadow stop to turn shadowing off`,
    );
  }
  if (!(Number.isInteger(k) && k >= 1 && k <= 1000))
    throw new UsageError(`K must be a whole number from 1 to 1000, got ${k}`);

  const v = await requireVersion(db.kysely, input.key);
  if (v.state === 'retired') {
    throw new RefusedError(`version ${v.version_key} is retired: shadow a live candidate (embctl versions list)`);
  }
  if (v.active) {
    throw new RefusedError(
      `version ${v.version_key} is the active version, it already serves every query: shadow a candidate instead`,
    );
  }
  const warnings: string[] = [];
  const cov = await coverage(db.kysely);
  const embedded = cov.byVersion.get(v.id) ?? 0;
  const ratio = cov.live === 0 ? 1 : embedded / cov.live;
  if (cov.live > 0 && embedded === 0 && !input.force) {
    throw new RefusedError(
      `version ${v.version_key} has no vectors yet (0/${cov.live} live chunks): run embctl backfill ${v.version_key} first, or pass --force`,
    );
  }
  if (ratio < 1) {
    warnings.push(
      `version ${v.version_key} covers ${embedded}/${cov.live} live chunks (${(ratio * 100).toFixed(1)}%): its results, and the agreement measured, are partial until embctl backfill ${v.version_key} finishes`,
    );
  }
  if (!(await activeVersion(db.kysely))) {
    warnings.push('no version is active: queries are shadowed only once a primary serves them (embctl activate <key>)');
  }

  const { target, replaced } = await db.kysely.transaction().execute(async (trx) => {
    // Serialise concurrent starts and stops: at most one running shadow.
    await sql`lock table shadow_configs in share row exclusive mode`.execute(trx);
    const running = await runningConfigs(trx);
    let replaced: string | null = null;
    for (const r of running) {
      if (r.versionId === v.id) continue;
      await trx
        .updateTable('shadow_configs')
        .set({ stopped_at: sql`now()` })
        .where('embedding_version_id', '=', r.versionId)
        .execute();
      await recordEvent(trx, {
        versionId: r.versionId,
        versionKey: r.versionKey,
        event: 'shadow_stopped',
        actor: deps.actor,
        reason: `replaced by ${v.version_key}`,
        details: { replacedBy: v.version_key },
      });
      replaced = r.versionKey;
    }
    const previous = running.find((r) => r.versionId === v.id);
    const row = await trx
      .insertInto('shadow_configs')
      .values({
        embedding_version_id: v.id,
        sample_rate: input.sampleRate,
        k,
        store_query_text: input.storeQueryText ?? false,
      })
      .onConflict((oc) =>
        oc.column('embedding_version_id').doUpdateSet({
          sample_rate: input.sampleRate,
          k,
          store_query_text: input.storeQueryText ?? false,
          // the inserted row's own default (Citus refuses now() in DO UPDATE SET on a reference table)
          started_at: sql`excluded.started_at`,
          stopped_at: null,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: v.version_key,
      event: 'shadow_started',
      actor: deps.actor,
      reason: input.reason ?? null,
      forced: Boolean(input.force && embedded === 0 && cov.live > 0),
      details: {
        sampleRate: input.sampleRate,
        k,
        storeQueryText: input.storeQueryText ?? false,
        coverage: ratio,
        replaced,
        ...(previous
          ? { previous: { sampleRate: previous.sampleRate, k: previous.k, storeQueryText: previous.storeQueryText } }
          : {}),
      },
    });
    const target: ShadowTarget = {
      versionId: v.id,
      versionKey: v.version_key,
      sampleRate: Number(row.sample_rate),
      k: row.k,
      storeQueryText: row.store_query_text,
      startedAt: row.started_at,
    };
    return { target, replaced };
  });
  return { target, replaced, coverage: ratio, warnings };
}

export interface StopShadowInput {
  /** When given, refuse if this is not the version being shadowed. */
  key?: string;
  reason?: string;
}

/** Stop the running shadow. Stopping when nothing runs is not an error: it returns null. */
export async function stopShadow(db: Db, input: StopShadowInput, deps: ShadowDeps): Promise<ShadowTarget | null> {
  return db.kysely.transaction().execute(async (trx) => {
    await sql`lock table shadow_configs in share row exclusive mode`.execute(trx);
    const running = await runningConfigs(trx);
    if (input.key !== undefined && !running.some((r) => r.versionKey === input.key)) {
      const now = running.map((r) => r.versionKey).join(', ');
      throw new RefusedError(
        `version ${input.key} is not being shadowed${now ? ` (${now} is)` : ' (nothing is)'}: run embctl shadow stop without a key to stop whatever runs`,
      );
    }
    for (const r of running) {
      await trx
        .updateTable('shadow_configs')
        .set({ stopped_at: sql`now()` })
        .where('embedding_version_id', '=', r.versionId)
        .execute();
      await recordEvent(trx, {
        versionId: r.versionId,
        versionKey: r.versionKey,
        event: 'shadow_stopped',
        actor: deps.actor,
        reason: input.reason ?? null,
        details: {},
      });
    }
    return running[0] ?? null;
  });
}

/**
 * Stop shadowing one version inside the caller's transaction (activation,
 * rollback, retire): once it serves every query, or is gone, a shadow of it
 * compares nothing. Records `shadow_stopped` when one was running.
 */
export async function endShadowOf(
  trx: Exec,
  v: { id: number; version_key: string },
  actor: string,
  reason: string,
): Promise<boolean> {
  const r = await trx
    .updateTable('shadow_configs')
    .set({ stopped_at: sql`now()` })
    .where('embedding_version_id', '=', v.id)
    .where('stopped_at', 'is', null)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows ?? 0) === 0) return false;
  await recordEvent(trx, {
    versionId: v.id,
    versionKey: v.version_key,
    event: 'shadow_stopped',
    actor,
    reason,
    details: {},
  });
  return true;
}

/** The running shadow (not stopped, candidate not retired), or null. */
export async function currentShadow(from: Queryable): Promise<ShadowTarget | null> {
  const db = queryable(from);
  return (await runningConfigs(db))[0] ?? null;
}

async function runningConfigs(db: Exec): Promise<ShadowTarget[]> {
  const live = await versionKeysById(db, { liveOnly: true });
  const rows = (
    await db
      .selectFrom('shadow_configs as s')
      .select(['s.embedding_version_id', 's.sample_rate', 's.k', 's.store_query_text', 's.started_at'])
      .where('s.stopped_at', 'is', null)
      .orderBy('s.started_at', 'desc')
      .execute()
  ).filter((r) => live.has(r.embedding_version_id));
  return rows.map((r) => ({
    versionId: r.embedding_version_id,
    versionKey: live.get(r.embedding_version_id)!,
    sampleRate: Number(r.sample_rate),
    k: r.k,
    storeQueryText: r.store_query_text,
    startedAt: r.started_at,
  }));
}
