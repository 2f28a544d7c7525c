import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { freshDb, type TestDb } from './support/db.js';
import { createPartition } from '../src/partitions/partition.js';
import { currentShadow, startShadow, stopShadow } from '../src/shadow/config.js';
import { createShadower, type SearchFn } from '../src/shadow/shadower.js';
import { shadowMetricsText } from '../src/serve/prometheus.js';
import { summarizeShadow } from '../src/shadow/summary.js';
import { loadReportModel } from '../src/upgrade-report/model.js';
import { agreement } from '../src/shadow/agreement.js';
import { InputError, RefusedError, UsageError } from '../src/errors.js';
import type { Db } from '../src/db/open.js';

let db: TestDb;
const ids: Record<string, number> = {};
const ACTOR = { actor: 'tester' };

before(async () => {
  db = await freshDb();
  for (const [key, extra] of [
    ['prim', { state: 'ready', active: true }],
    ['cand', { state: 'ready' }],
    ['cand2', { state: 'ready' }],
    ['empty', { state: 'registered' }],
    ['old', { state: 'retired' }],
  ] as const) {
    const row = await db.kysely
      .insertInto('embedding_versions')
      .values({
        version_key: key,
        encoder_spec: 'hash:test',
        encoder_name: 'hash:test',
        encoder_revision: '1',
        encoder_settings: '{}',
        encoder_identity: 'a'.repeat(64),
        dimensions: 3,
        distance_metric: 'cosine',
        index_kind: 'none',
        index_params: '{}',
        index_storage: 'vector',
        ...extra,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids[key] = row.id;
    await db.kysely.transaction().execute((trx) =>
      createPartition(trx, {
        id: row.id,
        dimensions: 3,
        distance_metric: 'cosine',
        index_kind: 'none',
        index_storage: 'vector',
        index_params: {},
      }),
    );
  }
  // Four live chunks: prim and cand have all, cand2 has two, empty none.
  const chunks = await db.kysely
    .insertInto('document_chunks')
    .values(
      Array.from({ length: 4 }, (_, i) => ({
        semantic_key: createHash('sha256').update(`shadow:${i}`).digest('hex'),
        document_id: `d${i}`,
        chunk_no: 0,
        content: `text ${i}`,
        content_sha256: createHash('sha256').update(`text ${i}`).digest(),
        metadata: '{}',
      })),
    )
    .returning('id')
    .execute();
  for (const [key, n] of [
    ['prim', 4],
    ['cand', 4],
    ['cand2', 2],
  ] as const) {
    for (const c of chunks.slice(0, n)) {
      await sql`insert into chunk_embeddings (chunk_id, embedding_version_id, embedding) values (${c.id}, ${ids[key]}, '[1,0,0]')`.execute(
        db.kysely,
      );
    }
  }
});
after(async () => {
  await db?.destroy();
});

async function events(key: string) {
  return db.kysely
    .selectFrom('version_events')
    .selectAll()
    .where('version_key', '=', key)
    .where('event', 'in', ['shadow_started', 'shadow_stopped'])
    .orderBy('id')
    .execute();
}

async function clearShadow(): Promise<void> {
  await stopShadow(db, {}, ACTOR);
  await db.kysely.deleteFrom('shadow_queries').execute();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('shadow start / stop', () => {
  test('refuses the active version, a retired one, an unknown one and a bad rate', async () => {
    await assert.rejects(
      startShadow(db, { key: 'prim', sampleRate: 0.1 }, ACTOR),
      (e) => e instanceof RefusedError && /is the active version/.test(e.message),
    );
    await assert.rejects(
      startShadow(db, { key: 'old', sampleRate: 0.1 }, ACTOR),
      (e) => e instanceof RefusedError && /is retired/.test(e.message),
    );
    await assert.rejects(startShadow(db, { key: 'nope', sampleRate: 0.1 }, ACTOR), InputError);
    await assert.rejects(startShadow(db, { key: 'cand', sampleRate: 0 }, ACTOR), UsageError);
    await assert.rejects(startShadow(db, { key: 'cand', sampleRate: 1.5 }, ACTOR), UsageError);
    assert.equal(await currentShadow(db.kysely), null);
    assert.equal((await events('prim')).length + (await events('old')).length, 0);
  });

  test('a candidate with no vectors is refused unless forced; partial coverage warns', async () => {
    await assert.rejects(
      startShadow(db, { key: 'empty', sampleRate: 0.1 }, ACTOR),
      (e) => e instanceof RefusedError && /no vectors yet \(0\/4/.test(e.message),
    );
    const forced = await startShadow(db, { key: 'empty', sampleRate: 0.1, force: true }, ACTOR);
    assert.equal(forced.coverage, 0);
    assert.equal((await events('empty')).at(-1)?.forced, true);
    const partial = await startShadow(db, { key: 'cand2', sampleRate: 0.2 }, ACTOR);
    assert.equal(partial.coverage, 0.5);
    assert.match(partial.warnings.join('\n'), /covers 2\/4 live chunks \(50\.0%\)/);
    assert.equal(partial.replaced, 'empty');
    await clearShadow();
  });

  test('start records an event with the actor; starting another replaces it; stop is idempotent', async () => {
    const a = await startShadow(
      db,
      { key: 'cand', sampleRate: 0.1, k: 5, storeQueryText: true, reason: 'try v2' },
      ACTOR,
    );
    assert.deepEqual(
      { ...a.target, startedAt: undefined },
      {
        versionId: ids.cand,
        versionKey: 'cand',
        sampleRate: 0.1,
        k: 5,
        storeQueryText: true,
        startedAt: undefined,
      },
    );
    assert.equal(a.replaced, null);
    assert.deepEqual(a.warnings, []);
    let ev = await events('cand');
    assert.equal(ev.at(-1)?.event, 'shadow_started');
    assert.equal(ev.at(-1)?.actor, 'tester');
    assert.equal(ev.at(-1)?.reason, 'try v2');
    assert.deepEqual(ev.at(-1)?.details, { sampleRate: 0.1, k: 5, storeQueryText: true, coverage: 1, replaced: null });

    const b = await startShadow(db, { key: 'cand2', sampleRate: 0.3 }, { actor: 'other' });
    assert.equal(b.replaced, 'cand');
    ev = await events('cand');
    assert.equal(ev.at(-1)?.event, 'shadow_stopped');
    assert.equal(ev.at(-1)?.actor, 'other');
    assert.equal(ev.at(-1)?.reason, 'replaced by cand2');
    assert.equal((await currentShadow(db.kysely))?.versionKey, 'cand2');
    const running = await db.kysely.selectFrom('shadow_configs').selectAll().where('stopped_at', 'is', null).execute();
    assert.deepEqual(
      running.map((r) => r.embedding_version_id),
      [ids.cand2],
    );

    await assert.rejects(
      stopShadow(db, { key: 'cand' }, ACTOR),
      (e) => e instanceof RefusedError && /cand2 is/.test(e.message),
    );
    const stopped = await stopShadow(db, { reason: 'done' }, ACTOR);
    assert.equal(stopped?.versionKey, 'cand2');
    assert.equal((await events('cand2')).at(-1)?.event, 'shadow_stopped');
    assert.equal(await currentShadow(db.kysely), null);
    assert.equal(await stopShadow(db, {}, ACTOR), null);

    // Restarting the same version reuses its row.
    await startShadow(db, { key: 'cand', sampleRate: 1 }, ACTOR);
    const cfg = await db.kysely
      .selectFrom('shadow_configs')
      .selectAll()
      .where('embedding_version_id', '=', ids.cand!)
      .executeTakeFirstOrThrow();
    assert.equal(cfg.sample_rate, 1);
    assert.equal(cfg.stopped_at, null);
    await clearShadow();
  });
});

/** A deterministic candidate: the primary's ids shifted by one, so agreement is known. */
const shifted: SearchFn = async (_key, query, k) => ({ ids: candidateIds(query).slice(0, k), ms: 7 });
function primaryIds(query: string): number[] {
  const n = Number(query.replace(/\D/g, '')) || 0;
  return Array.from({ length: 5 }, (_, i) => n * 100 + i);
}
function candidateIds(query: string): number[] {
  return primaryIds(query).map((x) => x + 1);
}

describe('the shadower', () => {
  test('at rate 1 every query is logged, with correct metrics; the hash always, the text only when asked', async () => {
    await startShadow(db, { key: 'cand', sampleRate: 1, k: 5 }, ACTOR);
    const s = createShadower(db, { search: shifted, workers: 2 });
    await s.refresh();
    for (let i = 0; i < 20; i++) {
      s.afterPrimary({
        query: `query ${i}`,
        segment: i % 2 ? 'odd' : 'even',
        primaryVersion: 'prim',
        primaryIds: primaryIds(`q${i}`),
        primaryMs: 3,
      });
    }
    await s.close();
    assert.deepEqual(
      { ...s.stats(), candidate: undefined },
      {
        enqueued: 20,
        completed: 20,
        dropped: 0,
        failed: 0,
        seen: 20,
        queueDepth: 0,
        inFlight: 0,
        candidate: undefined,
        sampleRate: 1,
      },
    );
    const rows = await db.kysely.selectFrom('shadow_queries').selectAll().orderBy('id').execute();
    assert.equal(rows.length, 20);
    const expected = agreement(primaryIds('q1'), candidateIds('q1'), 5); // 4 of 5 shared
    assert.equal(expected.overlapAtK, 0.8);
    // Each row carries the segment of its own query (query i is odd or even).
    const segmentOf = new Map(
      Array.from({ length: 20 }, (_, i) => [
        createHash('sha256').update(`query ${i}`).digest('hex'),
        i % 2 ? 'odd' : 'even',
      ]),
    );
    assert.deepEqual(rows.map((r) => r.segment).sort(), [...Array(10).fill('even'), ...Array(10).fill('odd')]);
    for (const r of rows) {
      assert.equal(r.segment, segmentOf.get(Buffer.from(r.query_sha256).toString('hex')));
      assert.equal(r.primary_version_id, ids.prim);
      assert.equal(r.candidate_version_id, ids.cand);
      assert.equal(r.k, 5);
      assert.equal(r.query_text, null);
      assert.equal(Buffer.from(r.query_sha256).length, 32);
      assert.equal(r.overlap_at_k, expected.overlapAtK);
      assert.equal(r.jaccard, expected.jaccard);
      assert.ok(Math.abs(r.rbo - expected.rbo) < 1e-12);
      assert.equal(r.primary_ms, 3);
      assert.equal(r.candidate_ms, 7);
      assert.equal(r.primary_ids.length, 5);
      assert.equal(r.candidate_ids[0], r.primary_ids[0]! + 1);
    }
    const q3 = rows.find((r) => Buffer.from(r.query_sha256).equals(createHash('sha256').update('query 3').digest()));
    assert.ok(q3, 'the query hash is sha256 of the text');
    assert.equal(q3.segment, 'odd');

    // With --store-text the raw text is kept too.
    await startShadow(db, { key: 'cand', sampleRate: 1, k: 3, storeQueryText: true }, ACTOR);
    const t = createShadower(db, { search: shifted });
    await t.refresh();
    t.afterPrimary({ query: 'keep me 7', primaryVersion: 'prim', primaryIds: primaryIds('7'), primaryMs: 1 });
    await t.close();
    const kept = await db.kysely
      .selectFrom('shadow_queries')
      .selectAll()
      .where('query_text', '=', 'keep me 7')
      .executeTakeFirstOrThrow();
    assert.equal(kept.k, 3);
    assert.deepEqual(kept.primary_ids, [700, 701, 702]);
    assert.deepEqual(kept.candidate_ids, [701, 702, 703]);
    assert.ok(Math.abs(kept.overlap_at_k - 2 / 3) < 1e-12);
    await clearShadow();
  });

  test('at rate 0 (or with no shadow running) nothing is logged', async () => {
    let calls = 0;
    const counting: SearchFn = async (...a) => {
      calls++;
      return shifted(...a);
    };
    const none = createShadower(db, { search: counting });
    await none.refresh();
    for (let i = 0; i < 10; i++)
      none.afterPrimary({ query: `q${i}`, primaryVersion: 'prim', primaryIds: [1, 2], primaryMs: 1 });
    await none.close();
    assert.equal(none.stats().candidate, null);

    await startShadow(db, { key: 'cand', sampleRate: 1 }, ACTOR);
    const off = createShadower(db, { search: counting, sampleRate: 0 });
    await off.refresh();
    for (let i = 0; i < 10; i++)
      off.afterPrimary({ query: `q${i}`, primaryVersion: 'prim', primaryIds: [1, 2], primaryMs: 1 });
    await off.close();
    assert.equal(off.stats().seen, 10);
    assert.equal(off.stats().enqueued, 0);

    // A fractional rate samples exactly the draws below it.
    await startShadow(db, { key: 'cand', sampleRate: 0.3 }, ACTOR);
    const draws = [0.1, 0.5, 0.29, 0.3, 0.9, 0.0];
    const half = createShadower(db, { search: counting, random: () => draws.shift()! });
    await half.refresh();
    for (let i = 0; i < 6; i++)
      half.afterPrimary({ query: `q${i}`, primaryVersion: 'prim', primaryIds: [1, 2], primaryMs: 1 });
    await half.close();
    assert.equal(half.stats().completed, 3);
    assert.equal(calls, 3);
    assert.equal(
      Number(
        (
          await db.kysely
            .selectFrom('shadow_queries')
            .select(sql<number>`count(*)`.as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
      3,
    );

    // A query served by the candidate itself (it was activated) is not compared with itself.
    const self = createShadower(db, { search: counting, random: () => 0 });
    await self.refresh();
    self.afterPrimary({ query: 'q', primaryVersion: 'cand', primaryIds: [1], primaryMs: 1 });
    await self.close();
    assert.equal(self.stats().enqueued, 0);
    await clearShadow();
  });

  test('a slow candidate never slows the primary: afterPrimary returns at once, the queue fills, drops are counted', async () => {
    await startShadow(db, { key: 'cand', sampleRate: 1, k: 5 }, ACTOR);
    const slow: SearchFn = async (key, q, k, signal) => {
      await sleep(200);
      signal?.throwIfAborted();
      return shifted(key, q, k);
    };
    // Count every database call the shadower makes.
    let dbCalls = 0;
    const kysely = new Proxy(db.kysely, {
      get(target, prop, recv) {
        if (
          typeof prop === 'string' &&
          ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom', 'transaction', 'executeQuery'].includes(prop)
        )
          dbCalls++;
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const spied: Db = { ...db, kysely };
    const s = createShadower(spied, { search: slow, queueSize: 5, workers: 1, refreshMs: 60_000 });
    await s.refresh();
    const before = dbCalls;
    const results = Array.from({ length: 50 }, (_, i) => Object.freeze([i, i + 1, i + 2, i + 3, i + 4]));
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) {
      const ret: unknown = s.afterPrimary({
        query: `q${i}`,
        primaryVersion: 'prim',
        primaryIds: results[i]!,
        primaryMs: 1,
      });
      assert.equal(ret, undefined, 'afterPrimary returns nothing (no promise to await)');
    }
    const elapsed = performance.now() - t0;
    assert.equal(dbCalls, before, 'no database call on the request path');
    assert.ok(elapsed < 100, `50 calls took ${elapsed.toFixed(1)} ms; one candidate search alone takes 200 ms`);
    const st = s.stats();
    assert.equal(st.enqueued, 6, 'one handed to the idle worker, five queued');
    assert.equal(st.dropped, 44);
    assert.equal(st.queueDepth, 5);
    assert.equal(st.inFlight, 1);
    assert.match(shadowMetricsText(st), /embctl_shadow_dropped_total\{candidate="cand"\} 44/);
    // The primary's results were not touched.
    results.forEach((r, i) => assert.deepEqual(r, [i, i + 1, i + 2, i + 3, i + 4]));

    await s.close({ timeoutMs: 10_000 });
    assert.equal(s.stats().completed, 6);
    assert.equal(s.stats().queueDepth, 0);
    await s.close(); // safe twice
    s.afterPrimary({ query: 'after close', primaryVersion: 'prim', primaryIds: [1], primaryMs: 1 });
    assert.equal(s.stats().enqueued, 6);
    // The drops were stored on close, so any process's report sees them.
    const stored = await summarizeShadow(db, { candidate: 'cand', since: new Date(Date.now() - 3_600_000) });
    assert.equal(stored.dropped, 44);
    await db.kysely.deleteFrom('shadow_drops').execute();
    await clearShadow();
  });

  test('close() gives up after its timeout and aborts in-flight searches; failures are counted', async () => {
    await startShadow(db, { key: 'cand', sampleRate: 1 }, ACTOR);
    const hang: SearchFn = (_k, _q, _n, signal) =>
      new Promise((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason));
      });
    const s = createShadower(db, { search: hang, queueSize: 10, workers: 2 });
    await s.refresh();
    for (let i = 0; i < 5; i++)
      s.afterPrimary({ query: `q${i}`, primaryVersion: 'prim', primaryIds: [1], primaryMs: 1 });
    const t0 = performance.now();
    await s.close({ timeoutMs: 100 });
    assert.ok(performance.now() - t0 < 2000);
    assert.deepEqual([s.stats().enqueued, s.stats().dropped, s.stats().completed, s.stats().inFlight], [5, 5, 0, 0]);

    const failing: SearchFn = async () => {
      throw new Error('candidate down');
    };
    const f = createShadower(db, { search: failing });
    await f.refresh();
    f.afterPrimary({ query: 'q', primaryVersion: 'prim', primaryIds: [1], primaryMs: 1 });
    f.afterPrimary({ query: 'q', primaryVersion: 'unknown-version', primaryIds: [1], primaryMs: 1 });
    await f.close();
    assert.equal(f.stats().failed, 2);
    assert.equal(f.stats().completed, 0);

    // A primary version unknown to the database fails the write, not the caller.
    const g = createShadower(db, { search: shifted });
    await g.refresh();
    g.afterPrimary({ query: 'q1', primaryVersion: 'unknown-version', primaryIds: [1], primaryMs: 1 });
    await g.close();
    assert.equal(g.stats().failed, 1);
    await clearShadow();
  });

  test('candidate searches wait while the primary is busy, and stale samples are dropped', async () => {
    await startShadow(db, { key: 'cand', sampleRate: 1 }, ACTOR);
    let busy = true;
    let calls = 0;
    const search: SearchFn = async () => {
      calls++;
      return { ids: [1], ms: 1 };
    };
    const s = createShadower(db, { search, busy: () => busy, workers: 1, maxQueueAgeMs: 10_000 });
    await s.refresh();
    s.afterPrimary({ query: 'waits', primaryVersion: 'prim', primaryIds: [1], primaryMs: 1 });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(calls, 0, 'no candidate search while the primary is busy');
    busy = false;
    for (let i = 0; i < 100 && s.stats().completed < 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls, 1);
    await s.close();

    const aging = createShadower(db, { search, busy: () => true, workers: 1, maxQueueAgeMs: 30 });
    await aging.refresh();
    aging.afterPrimary({ query: 'too old', primaryVersion: 'prim', primaryIds: [1], primaryMs: 1 });
    for (let i = 0; i < 100 && aging.stats().dropped < 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(aging.stats().dropped, 1);
    assert.equal(calls, 1, 'the stale sample was never searched');
    await aging.close();
    await db.kysely.deleteFrom('shadow_drops').execute();
    await clearShadow();
  });

  test('the configuration is cached and picked up on refresh', async () => {
    const s = createShadower(db, { search: shifted, refreshMs: 60_000 });
    await s.refresh();
    assert.equal(s.stats().candidate, null);
    await startShadow(db, { key: 'cand', sampleRate: 1 }, ACTOR);
    s.afterPrimary({ query: 'q1', primaryVersion: 'prim', primaryIds: [100], primaryMs: 1 });
    assert.equal(s.stats().enqueued, 0, 'still the cached config');
    await s.refresh();
    s.afterPrimary({ query: 'q1', primaryVersion: 'prim', primaryIds: [100], primaryMs: 1 });
    assert.equal(s.stats().enqueued, 1);
    await stopShadow(db, {}, ACTOR);
    await s.refresh();
    assert.equal(s.stats().candidate, null);
    await s.close();
    await clearShadow();
  });
});

describe('shadow report', () => {
  const now = new Date('2025-01-10T12:00:00Z');
  const at = (hhmm: string) => new Date(`2025-01-10T${hhmm}:00Z`);
  const hash = (s: string) => createHash('sha256').update(s).digest();

  before(async () => {
    const row = (o: {
      at: Date;
      q: string;
      text?: string;
      seg: string | null;
      overlap: number;
      rbo: number;
      pms: number;
      cms: number;
      cand?: number;
    }) => ({
      created_at: o.at,
      query_sha256: hash(o.q),
      query_text: o.text ?? null,
      segment: o.seg,
      primary_version_id: ids.prim!,
      candidate_version_id: o.cand ?? ids.cand!,
      k: 10,
      primary_ids: [1, 2],
      candidate_ids: [2, 3],
      overlap_at_k: o.overlap,
      jaccard: o.overlap / 2,
      rbo: o.rbo,
      primary_ms: o.pms,
      candidate_ms: o.cms,
    });
    await db.kysely.deleteFrom('shadow_queries').execute();
    await db.kysely.deleteFrom('shadow_drops').execute();
    await db.kysely
      .insertInto('shadow_queries')
      .values([
        row({ at: at('10:10'), q: 'a1', seg: 'a', overlap: 1.0, rbo: 0.9, pms: 10, cms: 12 }),
        row({ at: at('10:20'), q: 'shared', seg: 'a', overlap: 0.5, rbo: 0.6, pms: 10, cms: 15 }),
        row({
          at: at('11:05'),
          q: 'zero',
          text: 'why is the sky blue',
          seg: 'a',
          overlap: 0.0,
          rbo: 0.1,
          pms: 10,
          cms: 30,
        }),
        row({ at: at('11:10'), q: 'b1', seg: 'b', overlap: 0.8, rbo: 0.7, pms: 20, cms: 18 }),
        row({ at: at('11:40'), q: 'shared', seg: 'b', overlap: 0.6, rbo: 0.5, pms: 20, cms: 26 }),
        row({ at: at('11:50'), q: 'n1', seg: null, overlap: 0.2, rbo: 0.3, pms: 5, cms: 5 }),
        // Outside the window, and another candidate: both left out.
        row({ at: new Date('2025-01-09T11:00:00Z'), q: 'old', seg: 'a', overlap: 0, rbo: 0, pms: 1, cms: 1 }),
        row({ at: at('11:00'), q: 'other', seg: 'a', overlap: 0, rbo: 0, pms: 1, cms: 1, cand: ids.cand2 }),
      ])
      .execute();
  });

  const near = (a: number | null, b: number) =>
    assert.ok(a !== null && Math.abs(a - b) < 1e-9, `expected ${b}, got ${a}`);

  test('aggregates match hand-computed values', async () => {
    const r = await summarizeShadow(db, {
      candidate: 'cand',
      now,
      since: new Date(now.getTime() - 86_400_000),
      worst: 3,
    });
    assert.deepEqual(r.candidate, { key: 'cand', id: ids.cand });
    assert.deepEqual(r.primaries, ['prim']);
    assert.equal(r.overall.count, 6);
    // overlap [1, .5, 0, .8, .6, .2]: mean 3.1/6; sorted [0,.2,.5,.6,.8,1], p10 at h=0.5 → 0.1
    near(r.overall.overlap.mean, 3.1 / 6);
    near(r.overall.overlap.p10, 0.1);
    // rbo [.9,.6,.1,.7,.5,.3]: mean 3.1/6; sorted [.1,.3,.5,.6,.7,.9], p10 → 0.2
    near(r.overall.rbo.mean, 3.1 / 6);
    near(r.overall.rbo.p10, 0.2);
    // deltas [2,5,20,-2,6,0] sorted [-2,0,2,5,6,20]: p50 at h=2.5 → 3.5; p95 at h=4.75 → 6 + .75·14 = 16.5
    near(r.overall.latencyDeltaMs.p50, 3.5);
    near(r.overall.latencyDeltaMs.p95, 16.5);

    assert.deepEqual(
      r.segments.map((s) => [s.segment, s.count]),
      [
        ['a', 3],
        ['b', 2],
        [null, 1],
      ],
    );
    const [a, b, none] = r.segments;
    near(a!.overlap.mean, 0.5);
    near(a!.overlap.p10, 0.1);
    near(a!.rbo.mean, 1.6 / 3);
    near(a!.rbo.p10, 0.2);
    near(a!.latencyDeltaMs.p50, 5);
    near(a!.latencyDeltaMs.p95, 18.5);
    near(b!.overlap.mean, 0.7);
    near(b!.overlap.p10, 0.62);
    near(b!.rbo.mean, 0.6);
    near(b!.rbo.p10, 0.52);
    near(b!.latencyDeltaMs.p50, 2);
    near(b!.latencyDeltaMs.p95, 5.6);
    near(none!.overlap.mean, 0.2);
    near(none!.latencyDeltaMs.p95, 0);

    // Distinct queries, worst first; "shared" was seen twice, its worst overlap shown.
    assert.deepEqual(
      r.lowestOverlap.map((q) => [q.sha256, q.text, q.overlap, q.rbo, q.times]),
      [
        [hash('zero').toString('hex'), 'why is the sky blue', 0, 0.1, 1],
        [hash('n1').toString('hex'), null, 0.2, 0.3, 1],
        [hash('shared').toString('hex'), null, 0.5, 0.6, 2],
      ],
    );

    assert.deepEqual(r.distributions.overlap, [1, 0.5, 0, 0.8, 0.6, 0.2]);
    assert.deepEqual(r.distributions.rbo, [0.9, 0.6, 0.1, 0.7, 0.5, 0.3]);
    assert.deepEqual(r.distributions.latencyDeltaMs, [2, 5, 20, -2, 6, 0]);
    assert.equal(r.bucketMs, 3_600_000);
    assert.deepEqual(
      r.timeSeries.map((t) => [t.bucketStart.toISOString(), t.count]),
      [
        ['2025-01-10T10:00:00.000Z', 2],
        ['2025-01-10T11:00:00.000Z', 4],
      ],
    );
    near(r.timeSeries[0]!.meanOverlap, 0.75);
    near(r.timeSeries[0]!.meanRbo, 0.75);
    near(r.timeSeries[1]!.meanOverlap, 0.4);
    near(r.timeSeries[1]!.meanRbo, 0.4);
    assert.equal(r.dropped, 0, 'no drops stored yet');
  });

  test('per-query values are bounded to the newest ones; the aggregates still cover the whole window', async () => {
    const r = await summarizeShadow(db, {
      candidate: 'cand',
      now,
      since: new Date(now.getTime() - 86_400_000),
      distributionLimit: 2,
    });
    assert.deepEqual(r.distributions.overlap, [0.6, 0.2], 'the two newest, in time order');
    assert.deepEqual(r.distributions.latencyDeltaMs, [6, 0]);
    assert.equal(r.overall.count, 6);
    near(r.overall.overlap.mean, 3.1 / 6);
  });

  test('the upgrade report reads the same aggregate over the whole log', async () => {
    const all = await summarizeShadow(db, { candidate: 'cand', now, since: new Date('2025-01-01T00:00:00Z') });
    const model = await loadReportModel(db, { candidate: 'cand', now });
    const s = model.shadow!;
    assert.equal(s.queries, 7, 'the row outside the 24 h window counts here');
    assert.equal(all.overall.count, 7);
    near(s.overlap.mean, all.overall.overlap.mean!);
    near(s.overlap.p10, all.overall.overlap.p10!);
    near(s.rbo.mean, all.overall.rbo.mean!);
    near(s.rbo.p10, all.overall.rbo.p10!);
    near(s.latency!.primary.p50, all.overall.primaryMs.p50!);
    near(s.latency!.candidate.p95, all.overall.candidateMs.p95!);
    assert.deepEqual(s.primaryKeys, all.primaries);
    assert.deepEqual(
      s.segments.map((x) => [x.segment, x.queries]),
      [
        ['a', 4],
        ['b', 2],
        ['(none)', 1],
      ],
      'by count, then name',
    );
  });

  test('window, default candidate, live drop counters, and an empty report', async () => {
    const narrow = await summarizeShadow(db, { candidate: 'cand', now, since: at('11:30') });
    assert.equal(narrow.overall.count, 2);
    // No candidate named and none running: the last one logged (cand2's row was inserted last).
    const last = await summarizeShadow(db, { now, since: new Date(now.getTime() - 86_400_000) });
    assert.equal(last.candidate?.key, 'cand2');
    assert.equal(last.overall.count, 1);
    await startShadow(db, { key: 'cand', sampleRate: 0.5 }, ACTOR);
    const running = await summarizeShadow(db, {
      now,
      since: new Date(now.getTime() - 86_400_000),
      live: { unflushedDropped: 4, unflushedFailed: 1 },
    });
    assert.equal(running.candidate?.key, 'cand');
    assert.equal(running.config?.sampleRate, 0.5);
    assert.equal(running.dropped, 4);
    await stopShadow(db, {}, ACTOR);
    const empty = await summarizeShadow(db, { candidate: 'empty', now });
    assert.equal(empty.overall.count, 0);
    assert.equal(empty.overall.overlap.mean, null);
    assert.deepEqual(empty.segments, []);
    await assert.rejects(summarizeShadow(db, { candidate: 'nope' }), InputError);
  });
});
