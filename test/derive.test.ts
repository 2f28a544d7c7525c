import { explainText } from './support/explain.js';
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, SERVER_ONLY, type TestDb } from './support/db.js';
import { fillVersion, ingestDocs, register, type TestDoc } from './support/fill-version.js';
import { createEncoder } from '../src/encoders/factory.js';
import { deriveVersion, storageFigures, type DeriveInput } from '../src/derive/index.js';
import { calibrateVersion, createSearcher, type Searcher } from '../src/search/index.js';
import { vectorCandidates } from '../src/search/sql.js';
import { annIndexName, partitionTable } from '../src/partitions/partition.js';
import { QueryVector } from '../src/db/query-vector.js';
import { requireVersion } from '../src/versions/store.js';
import { retire } from '../src/lifecycle/index.js';
import { syncLiveVersions } from '../src/backfill/index.js';
import { InputError, RefusedError, UsageError } from '../src/errors.js';
import { silentLogger } from '../src/log/logger.js';
import { normalize, toHalf, sign, hamming, cosineDistance } from './support/derive-oracle.js';

// Derived versions (issue 16) on both backends. Every check compares what
// the database computed (stored vectors, search results) with the same
// transform computed here in TypeScript from the parent's stored vectors.

const logger = silentLogger();
const DIMS = 384;
const WORDS =
  'tent stove lantern kayak paddle jacket boots trail summit river canyon ridge forest meadow harbor battery charger cable warranty refund invoice shipping order account password privacy camera lens tripod drone sensor firmware'.split(
    ' ',
  );
function docs(n: number, seed: number, prefix: string): TestDoc[] {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    text: Array.from({ length: 12 }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ') + ` ${prefix}${i}`,
    metadata: { segment: ['a', 'b'][i % 2] },
  }));
}
const QUERIES = ['kayak paddle river', 'refund invoice order', 'camera lens tripod', 'summit ridge trail boots'];

let db: TestDb;
let searcher: Searcher;
const derive = (input: Omit<DeriveInput, 'from'> & { from?: string }) =>
  deriveVersion(db, { from: 'base', ...input }, { actor: 'tester', logger });

before(async () => {
  db = await freshDb();
  await ingestDocs(db, docs(240, 7, 'd'));
  await register(db, { key: 'base', encoder: `hash:mixed-${DIMS}`, matryoshka: true, canary: false });
  await fillVersion(db, 'base');
  await register(db, { key: 'plain', encoder: 'hash:mixed-768', canary: false });
  await fillVersion(db, 'plain');
  searcher = createSearcher(db, { logger });
});
after(async () => {
  await searcher?.close();
  await db?.destroy();
});

/** chunk id → vector, read from a partition column as text and parsed here. */
async function readVectors(versionId: number, column: 'embedding' | 'embedding_half'): Promise<Map<number, number[]>> {
  const { rows } = await sql<{ id: string; v: string }>`
    select chunk_id as id, ${sql.ref(column)}::text as v from ${sql.raw(partitionTable(versionId))}`.execute(db.kysely);
  return new Map(rows.map((r) => [Number(r.id), JSON.parse(r.v) as number[]]));
}
async function readBits(versionId: number): Promise<Map<number, string>> {
  const { rows } = await sql<{ id: string; v: string }>`
    select chunk_id as id, embedding_bits::text as v from ${sql.raw(partitionTable(versionId))}`.execute(db.kysely);
  return new Map(rows.map((r) => [Number(r.id), r.v]));
}
async function parentVectors(): Promise<Map<number, number[]>> {
  return readVectors((await requireVersion(db.kysely, 'base')).id, 'embedding');
}
async function queryVector(q: string): Promise<number[]> {
  const e = await createEncoder(`hash:mixed-${DIMS}`, {});
  const [v] = await e.embed([q]);
  return Array.from(v!);
}

/**
 * The exactness check, with a tolerance for float rounding: every hit's
 * distance is the oracle's for that chunk, hits come in order, and no chunk
 * the oracle puts clearly closer than the last hit is missing.
 */
function assertExact(
  hits: { chunkId: number; distance: number }[],
  oracle: Map<number, number>,
  k: number,
  tol: number,
) {
  assert.equal(hits.length, k);
  for (const h of hits) {
    const want = oracle.get(h.chunkId);
    assert.ok(want !== undefined, `chunk ${h.chunkId} is not in the oracle`);
    assert.ok(Math.abs(h.distance - want) <= tol, `chunk ${h.chunkId}: distance ${h.distance}, oracle ${want}`);
  }
  for (let i = 1; i < hits.length; i++)
    assert.ok(hits[i]!.distance >= hits[i - 1]!.distance - tol, 'hits out of order');
  const last = hits[hits.length - 1]!.distance;
  const got = new Set(hits.map((h) => h.chunkId));
  for (const [id, d] of oracle)
    if (d < last - 2 * tol) assert.ok(got.has(id), `chunk ${id} (distance ${d}) is missing`);
}

describe('versions derive: transforms', () => {
  test('truncation stores l2_normalize(first N) and searches match exact search on those vectors', async () => {
    const r = await derive({ key: 'trunc', dimensions: 96 });
    assert.equal(r.state, 'ready');
    assert.equal(r.complete, true);
    const parent = await parentVectors();
    assert.equal(r.vectors, parent.size);
    const v = await requireVersion(db.kysely, 'trunc');
    assert.equal(v.dimensions, 96);
    assert.equal(v.parent_version_id, (await requireVersion(db.kysely, 'base')).id);
    assert.deepEqual(
      {
        dims: (v.derivation as { dimensions: number }).dimensions,
        storage: (v.derivation as { storage: string }).storage,
      },
      { dims: 96, storage: 'vector' },
    );
    const stored = await readVectors(v.id, 'embedding');
    assert.equal(stored.size, parent.size);
    for (const [id, p] of parent) {
      const want = normalize(p.slice(0, 96));
      const got = stored.get(id)!;
      assert.equal(got.length, 96);
      for (let i = 0; i < 96; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5, `chunk ${id} dim ${i}`);
    }
    for (const q of QUERIES) {
      const qv = normalize((await queryVector(q)).slice(0, 96));
      const oracle = new Map([...parent].map(([id, p]) => [id, cosineDistance(normalize(p.slice(0, 96)), qv)]));
      const res = await searcher.search({ query: q, version: 'trunc', k: 10, exact: true });
      assertExact(res.hits, oracle, 10, 1e-4);
      const ann = await searcher.search({ query: q, version: 'trunc', k: 10 });
      assert.equal(ann.mode, 'ann');
      assertExact(ann.hits, oracle, 10, 1e-4); // 240 rows, ef_search 200: the HNSW scan is exhaustive
    }
  });

  test('halfvec stores the vectors in half precision and searches match exact search on them', async () => {
    const r = await derive({ key: 'half', storage: 'halfvec' });
    assert.equal(r.state, 'ready');
    const v = await requireVersion(db.kysely, 'half');
    assert.equal(v.index_storage, 'halfvec');
    const parent = await parentVectors();
    const stored = await readVectors(v.id, 'embedding_half');
    assert.equal(stored.size, parent.size);
    for (const [id, p] of parent) {
      const got = stored.get(id)!;
      for (let i = 0; i < DIMS; i++) assert.ok(Math.abs(got[i]! - toHalf(p[i]!)) <= 1e-6, `chunk ${id} dim ${i}`);
    }
    const figures = await storageFigures(db.kysely, v);
    const parentFigures = await storageFigures(db.kysely, await requireVersion(db.kysely, 'base'));
    assert.ok(
      figures!.bytesPerVector < parentFigures!.bytesPerVector * 0.55,
      JSON.stringify({ figures, parentFigures }),
    );
    for (const q of QUERIES) {
      const qv = (await queryVector(q)).map(toHalf);
      const oracle = new Map([...parent].map(([id, p]) => [id, cosineDistance(p.map(toHalf), qv)]));
      assertExact((await searcher.search({ query: q, version: 'half', k: 10, exact: true })).hits, oracle, 10, 1e-4);
      assertExact((await searcher.search({ query: q, version: 'half', k: 10 })).hits, oracle, 10, 1e-4);
    }
  });

  test('bit stores binary_quantize of the (truncated) vectors; results are by Hamming distance', async () => {
    const r = await derive({ key: 'bits', storage: 'bit', dimensions: 256 });
    assert.equal(r.state, 'ready');
    assert.ok(r.notes.some((n) => /Hamming/.test(n)));
    const v = await requireVersion(db.kysely, 'bits');
    assert.equal(v.distance_metric, 'hamming');
    const parent = await parentVectors();
    const stored = await readBits(v.id);
    for (const [id, p] of parent) assert.equal(stored.get(id), sign(normalize(p.slice(0, 256))), `chunk ${id}`);
    const figures = await storageFigures(db.kysely, v);
    assert.ok(figures!.bytesPerVector <= 256 / 8 + 8, JSON.stringify(figures));
    for (const q of QUERIES) {
      const qb = sign(normalize((await queryVector(q)).slice(0, 256)));
      const oracle = new Map([...parent].map(([id, p]) => [id, hamming(sign(normalize(p.slice(0, 256))), qb)]));
      const res = await searcher.search({ query: q, version: 'bits', k: 10, exact: true });
      assertExact(res.hits, oracle, 10, 0);
      assert.equal(res.metric, 'hamming');
      assert.equal(res.hits[0]!.score, -res.hits[0]!.distance);
      assertExact((await searcher.search({ query: q, version: 'bits', k: 10 })).hits, oracle, 10, 0);
    }
  });

  test('bit with --rerank: top K by Hamming, re-ordered by exact cosine distance on the parent vectors', async () => {
    const K = 40;
    const r = await derive({ key: 'bitrr', storage: 'bit', rerank: K });
    assert.equal(r.state, 'ready');
    const v = await requireVersion(db.kysely, 'bitrr');
    assert.equal(v.distance_metric, 'cosine', 'the results are distances on the parent');
    const parent = await parentVectors();
    for (const q of QUERIES) {
      const qf = await queryVector(q);
      const qb = sign(qf);
      const ham = new Map([...parent].map(([id, p]) => [id, hamming(sign(p), qb)]));
      const kth = [...ham.values()].sort((a, b) => a - b)[K - 1]!;
      const cos = new Map([...parent].map(([id, p]) => [id, cosineDistance(p, qf)]));
      for (const exact of [true, false]) {
        const res = await searcher.search({ query: q, version: 'bitrr', k: 10, exact });
        assert.equal(res.hits.length, 10);
        for (const h of res.hits) {
          assert.ok(ham.get(h.chunkId)! <= kth, `chunk ${h.chunkId} is not among the top ${K} by Hamming`);
          assert.ok(Math.abs(h.distance - cos.get(h.chunkId)!) < 1e-5, 'distance is the exact parent distance');
        }
        for (let i = 1; i < 10; i++) assert.ok(res.hits[i]!.distance >= res.hits[i - 1]!.distance);
        // Every candidate strictly inside the top K that is closer than the 10th hit is a hit.
        const last = res.hits[9]!.distance;
        const got = new Set(res.hits.map((h) => h.chunkId));
        for (const [id, hd] of ham)
          if (hd < kth && cos.get(id)! < last - 1e-6) assert.ok(got.has(id), `candidate ${id} missing`);
      }
    }
  });

  test('hybrid search on a re-ranking version reports parent distances; derived versions calibrate', async () => {
    const parent = await parentVectors();
    const q = 'kayak paddle river';
    const qf = await queryVector(q);
    const res = await searcher.search({ query: q, version: 'bitrr', k: 10, hybrid: true });
    assert.equal(res.mode, 'hybrid');
    assert.ok(res.hits.length > 0);
    for (const h of res.hits)
      assert.ok(Math.abs(h.distance - cosineDistance(parent.get(h.chunkId)!, qf)) < 1e-5, `hybrid hit ${h.chunkId}`);
    for (const key of ['half', 'bits', 'bitrr', 'trunc']) {
      const v = await requireVersion(db.kysely, key);
      const cal = await calibrateVersion(db, key, { dryRun: true, sample: 20, k: 5 });
      assert.equal(cal.metric, v.distance_metric);
      assert.ok(
        cal.points.length > 1 && cal.points.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
        `${key}: ${JSON.stringify(cal)}`,
      );
    }
    // bit scores are −Hamming (≤ 0); a re-ranking version's are the parent's cosines.
    const bits = await calibrateVersion(db, 'bits', { dryRun: true, sample: 20, k: 5 });
    assert.ok(
      bits.points.every(([x]) => x <= 0),
      JSON.stringify(bits.points),
    );
    const rr = await calibrateVersion(db, 'bitrr', { dryRun: true, sample: 20, k: 5 });
    assert.ok(
      rr.points.every(([x]) => x > -1.0001 && x < 1.0001),
      JSON.stringify(rr.points),
    );
  });

  test('the re-rank is one statement that uses the derived index and the parent partition', async () => {
    const v = await requireVersion(db.kysely, 'bitrr');
    const base = await requireVersion(db.kysely, 'base');
    const q = new QueryVector(new Float32Array(await queryVector('kayak paddle river')));
    // A 240-row partition: make the planner show the plan it uses on a large one (settings that
    // explainText also sends to the shards on Citus).
    const plan = await explainText(db.kysely, vectorCandidates(v, q, 10).compile(db.kysely), {
      enable_seqscan: 'off',
      enable_sort: 'off',
    });
    assert.match(plan, new RegExp(annIndexName(v.id)), plan);
    assert.match(plan, new RegExp(partitionTable(base.id)), plan);
  });
});

describe('versions derive: refusals', () => {
  test('flags that cannot work are usage errors', async () => {
    await assert.rejects(derive({ key: 'z0', dimensions: 0 }), UsageError);
    await assert.rejects(derive({ key: 'z1', dimensions: 1.5 }), UsageError);
    await assert.rejects(derive({ key: 'z2', storage: 'bit', metric: 'cosine' }), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /Hamming.*--metric hamming/);
      return true;
    });
    await assert.rejects(derive({ key: 'z3', storage: 'bit', metric: 'ip' }), /--metric hamming/);
    await assert.rejects(derive({ key: 'z4', rerank: 0 }), UsageError);
  });

  test('the parent must exist, be complete, and have the dimensions asked for', async () => {
    await assert.rejects(derive({ key: 'z5', from: 'nope', dimensions: 8 }), /no version "nope"/);
    await assert.rejects(derive({ key: 'z6', dimensions: DIMS + 1 }), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, new RegExp(`more than the ${DIMS} dimensions of base`));
      return true;
    });
    await register(db, { key: 'empty', encoder: 'hash:mixed-384', canary: false });
    await assert.rejects(derive({ key: 'z7', from: 'empty', storage: 'halfvec' }), (e: Error) => {
      assert.ok(e instanceof RefusedError);
      assert.match(e.message, /not fully backfilled.*embctl backfill empty/);
      return true;
    });
    await assert.rejects(derive({ key: 'z8', from: 'bits', storage: 'halfvec' }), /itself derived/);
    for (const key of ['z5', 'z6', 'z7', 'z8']) {
      assert.equal(
        await db.kysely.selectFrom('embedding_versions').select('id').where('version_key', '=', key).executeTakeFirst(),
        undefined,
      );
    }
  });

  test('truncation needs a Matryoshka encoder, or --force', async () => {
    await assert.rejects(derive({ key: 'p-128', from: 'plain', dimensions: 128 }), (e: Error) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /does not declare Matryoshka.*--matryoshka.*--force/);
      return true;
    });
    const r = await derive({ key: 'p-128', from: 'plain', dimensions: 128, force: true });
    assert.equal(r.state, 'ready');
    assert.ok(r.notes.some((n) => /--force/.test(n)));
  });

  test('two derives of one key at once: the second is refused, the first finishes', async () => {
    const first = derive({ key: 'twice', storage: 'halfvec', dimensions: 64 });
    const second = derive({ key: 'twice', storage: 'halfvec', dimensions: 64 });
    await assert.rejects(
      second,
      (e: Error) => e instanceof RefusedError && /another derive of twice is running/.test(e.message),
    );
    assert.equal((await first).state, 'ready');
    // A rerun afterwards finds it done; the same key with another transform is refused.
    assert.equal((await derive({ key: 'twice', storage: 'halfvec', dimensions: 64 })).written, 0);
    await assert.rejects(derive({ key: 'twice', storage: 'bit' }), /already exists with another transform/);
  });
});

describe('versions derive: two processes', () => {
  test(
    'another session deriving the same key holds the advisory lock: this derive is refused and writes nothing',
    { skip: SERVER_ONLY },
    async () => {
      // Another process's derive, stood in for by its session lock on a connection of its own.
      await db.kysely.connection().execute(async (other) => {
        await sql`select pg_advisory_lock(${0x656d6264}, hashtext(${'elsewhere'}))`.execute(other);
        try {
          await assert.rejects(
            derive({ key: 'elsewhere', storage: 'halfvec' }),
            (e: Error) => e instanceof RefusedError && /another derive of elsewhere is running/.test(e.message),
          );
        } finally {
          await sql`select pg_advisory_unlock(${0x656d6264}, hashtext(${'elsewhere'}))`.execute(other);
        }
      });
      const row = await db.kysely
        .selectFrom('embedding_versions')
        .select('id')
        .where('version_key', '=', 'elsewhere')
        .executeTakeFirst();
      assert.equal(row, undefined);
    },
  );
});

describe('versions derive: resume, sync, retire', () => {
  test('a stopped derive leaves whole batches and a rerun finishes it', async () => {
    const stop = new AbortController();
    const first = await deriveVersion(
      db,
      { key: 'resumed', from: 'base', dimensions: 64, storage: 'halfvec', batchSize: 50 },
      { actor: 'tester', logger, signal: stop.signal, onProgress: (p) => p.batches === 2 && stop.abort() },
    );
    assert.equal(first.complete, false);
    assert.equal(first.vectors, 100);
    assert.equal((await requireVersion(db.kysely, 'resumed')).state, 'backfilling');
    const again = await deriveVersion(
      db,
      { key: 'resumed', from: 'base', dimensions: 64, storage: 'halfvec', batchSize: 50 },
      { actor: 'tester', logger },
    );
    assert.equal(again.registered, false);
    assert.equal(again.complete, true);
    const parent = await parentVectors();
    assert.equal(again.written, parent.size - 100);
    assert.equal(again.state, 'ready');
    const stored = await readVectors((await requireVersion(db.kysely, 'resumed')).id, 'embedding_half');
    assert.equal(stored.size, parent.size);
    for (const [id, p] of parent) {
      const want = normalize(p.slice(0, 64)).map(toHalf);
      assert.ok(
        stored.get(id)!.every((x, i) => Math.abs(x - want[i]!) <= 1e-3),
        `chunk ${id}`,
      );
    }
  });

  test('sync turns new parent vectors into derived vectors', async () => {
    await ingestDocs(db, docs(30, 99, 'new'));
    const summaries = await syncLiveVersions(db, { workers: 1 }, { actor: 'tester', logger });
    const bits = summaries.find((s) => s.version === 'bits')!;
    assert.equal(bits.chunksWritten, 30);
    assert.equal(bits.embedded, 0, 'no encoder call for a derived version');
    const parent = await parentVectors();
    assert.equal(parent.size, 270);
    const stored = await readBits((await requireVersion(db.kysely, 'bits')).id);
    assert.equal(stored.size, 270);
    for (const [id, p] of parent) assert.equal(stored.get(id), sign(normalize(p.slice(0, 256))), `chunk ${id}`);
    const trunc = await readVectors((await requireVersion(db.kysely, 'trunc')).id, 'embedding');
    assert.equal(trunc.size, 270);
  });

  test('retiring the parent is refused while a live derived version re-ranks on it', async () => {
    await assert.rejects(retire(db, 'base', { actor: 'tester' }), (e: Error) => {
      assert.ok(e instanceof RefusedError);
      assert.match(e.message, /cannot retire base: bitrr re-ranks on its vectors.*retire that version first/);
      return true;
    });
    assert.equal((await requireVersion(db.kysely, 'base')).state, 'ready');
    await retire(db, 'bitrr', { actor: 'tester' });
    await retire(db, 'base', { actor: 'tester' });
    await assert.rejects(derive({ key: 'late', rerank: 10, storage: 'bit' }), (e: Error) => {
      assert.ok(e instanceof RefusedError);
      assert.match(e.message, /base is retired/);
      return true;
    });
    // Its other derived versions stay searchable (they hold their own vectors).
    assert.equal((await searcher.search({ query: 'kayak', version: 'bits', k: 5 })).hits.length, 5);
  });
});
