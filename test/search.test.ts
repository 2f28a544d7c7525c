import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { Writable } from 'node:stream';
import { freshDb, notOnCitus, ON_SERVER, type TestDb } from './support/db.js';
import { createExactRetriever } from './support/exact-retriever.js';
import { fillVersion, ingestDocs, recordGate, register, syntheticDocs } from './support/fill-version.js';
import {
  createSearcher,
  parseFilters,
  reciprocalRankFusion,
  scoreFromDistance,
  applyCalibration,
  quantileCalibration,
  calibrateVersion,
  type Searcher,
} from '../src/search/index.js';
import { activate } from '../src/lifecycle/index.js';
import { encoderForVersion } from '../src/versions/encoder-for-version.js';
import { requireVersion, type VersionRow } from '../src/versions/store.js';
import { runQuery } from '../src/search/run-query.js';
import { QueryVector } from '../src/db/query-vector.js';
import { parseVectorText } from '../src/db/vector-codec.js';
import { queryVectorSql } from '../src/partitions/transform.js';
import { createLogger } from '../src/log/logger.js';
import { InputError, RefusedError } from '../src/errors.js';

let db: TestDb;
const searchers: Searcher[] = [];
const searcher = (opts: Parameters<typeof createSearcher>[1] = {}) => {
  const s = createSearcher(db, opts);
  searchers.push(s);
  return s;
};

before(async () => {
  db = await freshDb();
  await ingestDocs(db, syntheticDocs(400));
  await register(db, { key: 'a', encoder: 'hash:words-256' });
  await register(db, { key: 'b', encoder: 'hash:mixed-384' });
  await fillVersion(db, 'a');
  await fillVersion(db, 'b');
  await recordGate(db, 'a', true);
  await recordGate(db, 'b', true);
});
after(async () => {
  for (const s of searchers) await s.close();
  await db?.destroy();
});

const ids = (r: { hits: { chunkId: number }[] }) => r.hits.map((h) => h.chunkId);

/**
 * Recall@k that counts ties as equals: a hit is right when it is among the
 * exact top k, or at the distance of the exact k-th hit (the hash encoders
 * give many chunks the same distance, and which of them fill the last places
 * is arbitrary: one HNSW graph and four shard graphs pick different ones).
 */
function tiedRecall(got: { chunkId: number; distance: number }[], exact: { chunkId: number; distance: number }[]) {
  const last = exact.at(-1)?.distance ?? Infinity;
  const top = new Set(exact.map((h) => h.chunkId));
  return got.filter((h) => top.has(h.chunkId) || h.distance <= last + 1e-6).length;
}

describe('the query vector parameter', () => {
  const values = new Float32Array([0, -0, 1e-45, 3.4028234663852886e38, -1.5, 0.1, 1 / 3]);
  const q = new QueryVector(values);

  test("its binary form is pgvector's vector_recv layout", () => {
    const b = q.binary();
    assert.equal(b.length, 4 + 4 * values.length);
    assert.equal(b.readInt16BE(0), values.length);
    assert.equal(b.readInt16BE(2), 0);
    values.forEach((x, i) => assert.ok(Object.is(b.readFloatBE(4 + 4 * i), x), `element ${i}`));
  });

  test('reaches the database as the same float32 values as its text form (vector, and halfvec through vector)', async () => {
    const half = new QueryVector(new Float32Array([0.1, -2.5, 1 / 3]));
    const r = await sql<{ sent: string; text: string; h: string; ht: string }>`
      select ${q}::vector(7)::text as sent, ${q.text()}::vector(7)::text as text,
             (${queryVectorSql({ index_storage: 'halfvec' }, half, 'halfvec(3)')})::text as h,
             ${half.text()}::halfvec(3)::text as ht`.execute(db.kysely);
    const row = r.rows[0]!;
    assert.equal(row.sent, row.text);
    parseVectorText(row.sent).forEach((x, i) => assert.ok(Object.is(x, values[i]), `element ${i}: ${x}`));
    assert.equal(row.h, row.ht);
  });

  test('a query vector of the wrong size is refused by the database', async () => {
    await assert.rejects(sql`select ${q}::vector(8)::text`.execute(db.kysely), /expected 8 dimensions, not 7/);
  });
});

describe('search', () => {
  test('no active version: refused with the fix', async () => {
    await assert.rejects(
      searcher().search({ query: 'whale' }),
      (e: Error) =>
        e instanceof RefusedError && /no version is active: activate one with embctl activate <key>/.test(e.message),
    );
  });

  test("serves the requested version only, with that version's own encoder", async () => {
    const used: string[] = [];
    const s = searcher({
      makeEncoder: (v: VersionRow) => {
        used.push(v.version_key);
        return encoderForVersion(v, {});
      },
    });
    const q = 'whale coral reef garlic';
    const ra = await s.search({ query: q, version: 'a', k: 10 });
    const rb = await s.search({ query: q, version: 'b', k: 10 });
    await s.search({ query: 'again', version: 'a', k: 3 });
    assert.deepEqual(used, ['a', 'b'], 'one encoder per version, cached');
    assert.equal(ra.version, 'a');
    assert.equal(rb.version, 'b');
    assert.equal(ra.source, 'request');
    assert.equal(ra.hits.length, 10);
    assert.ok(ra.hits.every((h) => h.version === 'a'));
    assert.ok(rb.hits.every((h) => h.version === 'b'));
    assert.notDeepEqual(ids(ra), ids(rb), 'different encoders rank differently');
    // Each matches exact search of its own partition with its own query vector.
    for (const key of ['a', 'b']) {
      const ann = await s.search({ query: q, version: key, k: 10 });
      const exact = await s.search({ query: q, version: key, k: 10, exact: true });
      assert.equal(exact.mode, 'exact');
      assert.equal(ann.mode, 'ann');
      const overlap = tiedRecall(ann.hits, exact.hits);
      assert.ok(overlap >= 9, `recall@10 of ${key}: ${overlap}/10`);
    }
    // Distances are those of the version's metric, and sorted.
    for (let i = 1; i < ra.hits.length; i++) assert.ok(ra.hits[i]!.distance >= ra.hits[i - 1]!.distance);
    assert.ok(Math.abs(ra.hits[0]!.score - (1 - ra.hits[0]!.distance)) < 1e-9);
    assert.equal(ra.efSearch, 200);
  });

  test('the active version serves by default, and a flip is seen by the next request', async () => {
    const s = searcher();
    await activate(db, 'a', { actor: 'tester' });
    const r1 = await s.search({ query: 'planet orbit' });
    assert.equal(r1.version, 'a');
    assert.equal(r1.source, 'active');
    await activate(db, 'b', { actor: 'tester' });
    const r2 = await s.search({ query: 'planet orbit' });
    assert.equal(r2.version, 'b');
    assert.ok(r2.hits.every((h) => h.version === 'b'));
  });

  test('EMBCTL_PIN_VERSION pins the process to a version, and says so in the log', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    });
    const s = searcher({ pinVersion: 'a', logger });
    const r = await s.search({ query: 'planet orbit' });
    assert.equal(r.version, 'a');
    assert.equal(r.source, 'pinned');
    assert.ok(
      lines.some((l) => /pinned to version a by EMBCTL_PIN_VERSION/.test(l)),
      lines.join(''),
    );
    assert.equal((await s.servingVersion()).row.version_key, 'a');
    // An explicit version still wins over the pin.
    assert.equal((await s.search({ query: 'planet', version: 'b' })).version, 'b');
    await assert.rejects(searcher({ pinVersion: 'nope' }).search({ query: 'x' }), InputError);
  });

  test('a filter matching 2% of rows still returns k results (iterative scan)', async () => {
    const s = searcher();
    // bucket 3 holds 8 chunks, all about cooking; the query is about the ocean.
    const r = await s.search({ query: 'whale coral reef tide', version: 'b', k: 5, filters: { bucket: '3' } });
    assert.equal(r.hits.length, 5);
    assert.ok(r.hits.every((h) => h.metadata.bucket === '3'));
    const exact = await s.search({
      query: 'whale coral reef tide',
      version: 'b',
      k: 5,
      filters: { bucket: '3' },
      exact: true,
    });
    assert.deepEqual(ids(r), ids(exact));
    const all = await s.search({ query: 'whale coral reef tide', version: 'b', k: 20, filters: { bucket: '3' } });
    assert.equal(all.hits.length, 8, 'every matching chunk, no more');
    const two = await s.search({ query: 'whale', version: 'a', k: 10, filters: { topic: 'space', lang: 'en' } });
    assert.equal(two.hits.length, 10);
    assert.ok(two.hits.every((h) => h.metadata.topic === 'space' && h.metadata.lang === 'en'));
  });

  test(
    'falls back to exact search when the ANN scan stops short, and says so',
    {
      skip: notOnCitus(
        'the scan this test builds (one HNSW graph that stops short under planner settings) is a single-node plan; on Citus each shard walks its own graph, and the same fallback code runs on the merged rows',
      ),
    },
    async () => {
      // On 400 rows the planner prefers an exact scan; enable_sort=off makes it
      // walk the HNSW index, here without iterative scan (one ef_search batch),
      // while half the chunks are retired: the index cannot find 20 live ones.
      const v = await requireVersion(db.kysely, 'b');
      const enc = await encoderForVersion(v, {});
      const vector = new QueryVector((await enc.embed(['whale coral reef tide']))[0]!);
      const plan = {
        target: v,
        index: { kind: v.index_kind },
        vector,
        limit: 20,
        knobs: { iterativeScan: false, efSearch: 10 },
        exact: false,
      };
      const walkIndex = <T>(fn: (trx: typeof db.kysely) => Promise<T>) =>
        db.kysely.transaction().execute(async (trx) => {
          await sql`select set_config('enable_sort', 'off', true), set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)`.execute(
            trx,
          );
          return fn(trx);
        });
      // With the iterative scan, walking the index under a 2% filter finds every row.
      const filtered = await walkIndex((trx) =>
        runQuery(trx, { ...plan, limit: 5, knobs: {}, filter: { bucket: '3' } }),
      );
      assert.equal(filtered.vector.length, 5);
      assert.equal(filtered.exactFallback, undefined, 'the iterative scan was enough');
      await db.kysely
        .updateTable('document_chunks')
        .set({ retired_at: new Date() })
        .where(sql`id % 2`, '=', 0)
        .execute();
      try {
        const out = await db.kysely.transaction().execute(async (trx) => {
          await sql`select set_config('enable_sort', 'off', true), set_config('enable_seqscan', 'off', true)`.execute(
            trx,
          );
          return runQuery(trx, plan);
        });
        assert.equal(out.vector.length, 20);
        assert.ok(
          out.vector.every((r) => r.chunk_id % 2 === 1),
          'live chunks only',
        );
        assert.ok(out.exactFallback, 'fallback reported');
        assert.ok(out.exactFallback!.annRows < 20);
        assert.match(out.exactFallback!.reason, /exact search on the partition found 20/);
        const exact = await db.kysely.transaction().execute((trx) => runQuery(trx, { ...plan, exact: true }));
        assert.deepEqual(
          out.vector.map((r) => r.chunk_id),
          exact.vector.map((r) => r.chunk_id),
        );
      } finally {
        await db.kysely.updateTable('document_chunks').set({ retired_at: null }).execute();
      }
    },
  );

  test('hybrid fuses full-text and vector results', async () => {
    const s = searcher();
    const r = await s.search({ query: 'item17 note', version: 'a', k: 10, hybrid: true });
    assert.equal(r.mode, 'hybrid');
    assert.equal(r.hits.length, 10);
    const doc17 = r.hits.find((h) => h.documentId === 'doc-17');
    assert.ok(doc17, 'the only chunk with the token item17');
    assert.equal(doc17!.textRank, 1);
    for (let i = 1; i < r.hits.length; i++) assert.ok(r.hits[i]!.fusedScore! <= r.hits[i - 1]!.fusedScore!);
    assert.ok(
      r.hits.some((h) => h.vectorRank !== null && h.textRank !== null),
      'some hits in both lists',
    );
    const filtered = await s.search({
      query: 'recipe garlic',
      version: 'a',
      k: 5,
      hybrid: true,
      filters: { lang: 'fr' },
    });
    assert.ok(filtered.hits.length > 0 && filtered.hits.every((h) => h.metadata.lang === 'fr'));
  });

  test('min-score is refused without a calibration, and applies to calibrated scores with one', async () => {
    const s = searcher();
    await assert.rejects(
      s.search({ query: 'whale', version: 'a', minScore: 0.5 }),
      (e: Error) =>
        e instanceof InputError &&
        /needs a calibration for version a.*0\.85 from one is not 0\.85 from another.*embctl versions calibrate a/.test(
          e.message,
        ),
    );
    const cal = await calibrateVersion(db, 'a', { sample: 50, k: 10 });
    assert.equal(cal.kind, 'quantile');
    assert.ok((await requireVersion(db.kysely, 'a')).calibration);
    // A query that is a document's own text: its top hits score high for this version.
    const doc = syntheticDocs(400)[42]!.text;
    const r = await s.search({ query: doc, version: 'a', k: 50, minScore: 0.5 });
    assert.ok(r.hits.length > 0, 'hits above the threshold');
    assert.equal(r.hits[0]!.documentId, 'doc-42');
    assert.ok(
      r.hits.every((h) => h.calibratedScore! >= 0.5),
      'all calibrated >= 0.5',
    );
    assert.ok((r.belowMinScore ?? 0) > 0, 'some were dropped');
    const all = await s.search({ query: doc, version: 'a', k: 50 });
    assert.ok(
      all.hits.every((h) => typeof h.calibratedScore === 'number'),
      'calibrated scores reported',
    );
  });

  test('bad requests are input errors', async () => {
    const s = searcher();
    await assert.rejects(s.search({ query: '  ', version: 'a' }), InputError);
    await assert.rejects(s.search({ query: 'x', version: 'a', k: 0 }), InputError);
    await assert.rejects(s.search({ query: 'x', version: 'zz' }), /no version "zz" \(known: a, b\)/);
  });

  test(`a serving process learns about flips (${ON_SERVER ? 'LISTEN/NOTIFY' : 'a poll of the audit trail'})`, async () => {
    const s = searcher({ watchActive: true });
    await activate(db, 'a', { actor: 'tester' });
    // The cached active version is only dropped by the watcher: without it, the searcher would keep serving a.
    await s.search({ query: 'planet' });
    await activate(db, 'b', { actor: 'tester' });
    // Generous: a loaded machine is slow, not wrong. The watcher's own delay is ~1 s (poll) or one round trip (notify).
    const deadline = Date.now() + 120_000;
    while ((await s.servingVersion()).row.version_key !== 'b') {
      assert.ok(Date.now() < deadline, 'flip not seen');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await s.search({ query: 'planet' })).version, 'b');
  });
  test('search agrees with the exact oracle: identical without an index, recall@10 >= 0.9 through HNSW', async () => {
    await register(db, { key: 'plain', encoder: 'hash:words-256', index: 'none' });
    await fillVersion(db, 'plain');
    const oracle = createExactRetriever(db.kysely);
    const s = searcher();
    const queries = [
      'whale coral reef tide',
      'planet orbit rocket',
      'recipe oven garlic',
      'guitar chord tempo',
      'postgres index vacuum',
    ];
    try {
      let found = 0;
      for (const q of queries) {
        const plain = await requireVersion(db.kysely, 'plain');
        const want = (await oracle(plain, q, 10)).map((h) => h.chunkId);
        assert.deepEqual(ids(await s.search({ query: q, version: 'plain', k: 10 })), want, q);
        const a = await requireVersion(db.kysely, 'a');
        const truth = (await oracle(a, q, 10)).map((h) => ({ chunkId: h.chunkId, distance: -h.score }));
        found += tiedRecall((await s.search({ query: q, version: 'a', k: 10 })).hits, truth);
      }
      assert.ok(found / (queries.length * 10) >= 0.9, `recall@10 ${found / (queries.length * 10)}`);
    } finally {
      await oracle.close();
    }
  });
});

describe('search pieces', () => {
  test('scores per metric', () => {
    assert.equal(scoreFromDistance('cosine', 0.25), 0.75);
    assert.equal(scoreFromDistance('ip', -0.8), 0.8);
    assert.equal(scoreFromDistance('l2', 1), 0.5);
  });
  test('filters', () => {
    assert.deepEqual(parseFilters(['lang=en', 'year:=2020', 'tags:=["a"]', 'q=a=b']), {
      lang: 'en',
      year: 2020,
      tags: ['a'],
      q: 'a=b',
    });
    assert.throws(
      () => parseFilters(['nope', 'x:=bad', 'a=1', 'a=2']),
      (e: InputError) => e.details.length === 3,
    );
  });
  test('reciprocal rank fusion', () => {
    const f = reciprocalRankFusion(
      [
        [1, 2, 3],
        [3, 4],
      ],
      (x) => x,
    );
    assert.deepEqual(
      f.map((x) => x.item),
      [3, 1, 2, 4],
    );
    assert.deepEqual(f[0]!.ranks, [3, 1]);
  });
  test('calibration maps raw scores to percentiles', () => {
    const cal = quantileCalibration(Array.from({ length: 101 }, (_, i) => i / 100));
    assert.ok(Math.abs(applyCalibration(cal, 0.5) - 0.5) < 1e-9);
    assert.equal(applyCalibration(cal, 2), 1);
    assert.equal(applyCalibration(cal, -1), 0);
  });
});
