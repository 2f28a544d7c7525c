import { sql, type Kysely } from 'kysely';
import { buildIndex, type IndexResult } from '../backfill/index.js';
import type { DB, Db } from '../db/index.js';
import { InputError, RefusedError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { createPartition, fillDerived, partitionTable, type DeriveFillProgress } from '../partitions/index.js';
import {
  deriveCanary,
  findVersion,
  lockVersion,
  markReady,
  recordEvent,
  requireVersion,
  transitionState,
  type VersionRow,
} from '../versions/index.js';
import { planDerive, samePlan, type DeriveInput, type DerivePlan } from './plan.js';

export interface DeriveDeps {
  actor: string;
  logger: Logger;
  /** Checked between batches: a stop leaves whole batches (a rerun continues). */
  signal?: AbortSignal;
  onProgress?: (p: DeriveFillProgress & { version: string }) => void;
}

export interface DeriveResult {
  version: string;
  parent: string;
  /** True when this call registered the version; false when it resumed or found it done. */
  registered: boolean;
  written: number;
  vectors: number;
  complete: boolean;
  index: IndexResult | null;
  state: string;
  notes: string[];
  seconds: number;
}

const DERIVE_LOCK = 0x656d6264; // "embd"
/** Derives running in this process, per database (PGlite's one session would grant the advisory lock twice). */
const running = new WeakMap<Db, Set<string>>();

/**
 * `embctl versions derive`: register a version whose vectors are computed
 * from a stored version's inside the database (no encoder call), fill its
 * partition in resumable batches, build its index, and make it ready. A
 * rerun with the same flags continues an interrupted derive; two derives of
 * one key at once are refused (an advisory lock, plus a guard in-process).
 */
export async function deriveVersion(db: Db, input: DeriveInput, deps: DeriveDeps): Promise<DeriveResult> {
  const started = performance.now();
  const mine = running.get(db) ?? new Set<string>();
  running.set(db, mine);
  if (mine.has(input.key)) throw busy(input.key);
  mine.add(input.key);
  try {
    // PGlite: one process holds the folder, so the in-process guard is enough
    // (and its one connection cannot be held aside while the work runs).
    if (db.backend !== 'postgres') return await deriveLocked(db, input, deps, started);
    // Server: a session lock on a connection set aside; the work runs on others.
    return await db.kysely.connection().execute(async (lock) => {
      const got = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_lock(${DERIVE_LOCK}, hashtext(${input.key})) as ok`.execute(lock);
      if (got.rows[0]?.ok !== true) throw busy(input.key);
      try {
        return await deriveLocked(db, input, deps, started);
      } finally {
        await sql`select pg_advisory_unlock(${DERIVE_LOCK}, hashtext(${input.key}))`.execute(lock).catch(() => {});
      }
    });
  } finally {
    mine.delete(input.key);
  }
}

function busy(key: string): RefusedError {
  return new RefusedError(
    `another derive of ${key} is running: wait for it to finish (or stop it; a rerun continues where it stopped)`,
  );
}

async function deriveLocked(db: Db, input: DeriveInput, deps: DeriveDeps, started: number): Promise<DeriveResult> {
  const conn = db.kysely;
  const parent = await requireVersion(conn, input.from);
  const plan = planDerive(parent, input);
  await refuseIncompleteParent(conn, parent);
  const existing = await findVersion(conn, input.key);
  let v: VersionRow;
  let registered = false;
  if (existing) {
    if (!samePlan(existing, plan))
      throw new InputError(
        `version ${input.key} already exists${existing.derivation ? ' with another transform' : ''}: pick another key (versions are immutable)`,
      );
    if (existing.state === 'retired')
      throw new RefusedError(`version ${input.key} is retired: derive under another key`);
    v = existing;
  } else {
    const r = await register(conn, parent, input.key, plan, deps.actor);
    v = r.version;
    if (!r.canary)
      plan.notes.push(
        `${parent.version_key} has no encoder canary, so ${input.key} got none: record one with embctl versions verify ${parent.version_key} --record, then embctl versions verify ${input.key} --record`,
      );
    registered = true;
    deps.logger.info({ version: v.version_key, parent: parent.version_key }, 'derived version registered');
  }
  if (v.state === 'registered') {
    await conn.transaction().execute(async (trx) => {
      if (!(await transitionState(trx, v.id, 'registered', 'backfilling'))) return;
      const chunks = await countRows(trx, parent.id);
      await recordEvent(trx, {
        versionId: v.id,
        versionKey: v.version_key,
        event: 'backfill_started',
        actor: deps.actor,
        details: { chunks, batches: 0, worker: `derive from ${parent.version_key}` },
      });
    });
  }
  const fill = await fillDerived(conn, v, {
    batchSize: input.batchSize,
    signal: deps.signal,
    onProgress: (p) => deps.onProgress?.({ ...p, version: v.version_key }),
  });
  let index: IndexResult | null = null;
  let state: string = (await requireVersion(conn, v.version_key)).state;
  if (fill.complete && state === 'backfilling') {
    index = await buildIndex(db, v, { logger: deps.logger });
    if (!index.built) await sql.raw(`ANALYZE ${partitionTable(v.id)}`).execute(conn);
    state = await finishVersion(conn, v, deps.actor, index, fill, (performance.now() - started) / 1000);
  }
  return {
    version: v.version_key,
    parent: parent.version_key,
    registered,
    written: fill.written,
    vectors: fill.done,
    complete: fill.complete,
    index,
    state,
    notes: plan.notes,
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** The parent must hold a vector for every live chunk: a derived version is as complete as its parent. */
async function refuseIncompleteParent(db: Kysely<DB>, parent: VersionRow): Promise<void> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from document_chunks c
    where c.retired_at is null
      and not exists (select 1 from ${sql.raw(partitionTable(parent.id))} p where p.chunk_id = c.id)`.execute(db);
  const missing = Number(rows[0]?.n ?? 0);
  if (parent.state !== 'ready' || missing > 0) {
    throw new RefusedError(
      `version ${parent.version_key} is not fully backfilled (${parent.state}${missing ? `, ${missing} live chunks without a vector` : ''}): run embctl backfill ${parent.version_key} (or embctl sync) first`,
      [],
      { code: 'incomplete' },
    );
  }
}

async function register(
  db: Kysely<DB>,
  parent: VersionRow,
  key: string,
  plan: DerivePlan,
  actor: string,
): Promise<{ version: VersionRow; canary: boolean }> {
  const d = plan.derivation;
  return db.transaction().execute(async (trx) => {
    // The parent's row lock orders this against a retire of the parent.
    const p = await lockVersion(trx, parent.version_key);
    if (p.state === 'retired')
      throw new RefusedError(`version ${p.version_key} was retired: derive from a live version`);
    const v = await trx
      .insertInto('embedding_versions')
      .values({
        version_key: key,
        encoder_spec: parent.encoder_spec,
        encoder_name: parent.encoder_name,
        encoder_revision: parent.encoder_revision,
        encoder_settings: JSON.stringify(parent.encoder_settings),
        encoder_identity: plan.identity,
        dimensions: d.dimensions,
        distance_metric: plan.metric,
        index_kind: plan.index,
        index_params: JSON.stringify(plan.indexParams),
        index_storage: d.storage,
        matryoshka: parent.matryoshka,
        parent_version_id: parent.id,
        derivation: JSON.stringify(d),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await createPartition(trx, v);
    await recordEvent(trx, {
      versionId: v.id,
      versionKey: key,
      event: 'registered',
      actor,
      details: {
        encoder: parent.encoder_spec,
        identity: { name: parent.encoder_name, revision: parent.encoder_revision, settings: {} },
        dimensions: d.dimensions,
        metric: plan.metric,
        index: plan.index,
        storage: d.storage,
        derivation: { ...d },
      },
    });
    // The parent's canary, transformed as the derived queries are: verify then works without --record.
    const canary = await deriveCanary(trx, parent, v, actor);
    return { version: v, canary };
  });
}

async function countRows(db: Kysely<DB>, versionId: number): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from ${sql.raw(partitionTable(versionId))}`.execute(
    db,
  );
  return Number(rows[0]?.n ?? 0);
}

async function finishVersion(
  db: Kysely<DB>,
  v: VersionRow,
  actor: string,
  index: IndexResult,
  fill: DeriveFillProgress,
  seconds: number,
): Promise<string> {
  await markReady(db, v, actor, index, { derived: fill.done, embedded: 0, tokens: 0, seconds });
  return (await requireVersion(db, v.version_key)).state;
}
