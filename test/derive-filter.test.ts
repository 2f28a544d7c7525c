import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, type TestDb } from './support/db.js';
import { fillVersion, ingestDocs, register, type TestDoc } from './support/fill-version.js';
import { createEncoder } from '../src/encoders/factory.js';
import { deriveVersion } from '../src/derive/index.js';
import { createSearcher, type Searcher } from '../src/search/index.js';
import { partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';
import { cosineDistance, hamming, sign } from './support/derive-oracle.js';

// A selective metadata filter on a re-ranking derived version (issue 16,
// `--rerank K`): the filter is applied INSIDE the top-K candidate fetch
// (src/search/sql.ts `reranked`), so the K candidates re-ranked on the
// parent's vectors all pass it. Were it applied after the fetch, the top K
// of the whole partition would hold fewer than k matching chunks, and the
// search would return fewer than k (the test computes how many). Both
// backends; the ANN statement itself must return k rows (no exact fallback).

const logger = silentLogger();
const DIMS = 384;
const N = 360;
const RARE_EVERY = 30; // 12 rare chunks
const K = 20; // rerank depth: more than the rare chunks, so every one of them is a candidate
const k = 10;
const WORDS =
  'tent stove lantern kayak paddle jacket boots trail summit river canyon ridge forest meadow harbor battery charger cable warranty refund invoice shipping order account password privacy camera lens tripod drone sensor firmware'.split(
    ' ',
  );
const QUERIES = ['kayak paddle river', 'refund invoice order', 'camera lens tripod', 'summit ridge trail boots'];
const FILTER = { tier: 'rare' };

function docs(): TestDoc[] {
  let s = 11;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  return Array.from({ length: N }, (_, i) => ({
    id: `d-${i}`,
    text: Array.from({ length: 12 }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ') + ` doc${i}`,
    metadata: { tier: i % RARE_EVERY === 0 ? 'rare' : 'common' },
  }));
}

let db: TestDb;
let searcher: Searcher;

before(async () => {
  db = await freshDb();
  await ingestDocs(db, docs());
  await register(db, { key: 'base', encoder: `hash:mixed-${DIMS}`, canary: false });
  await fillVersion(db, 'base');
  const deps = { actor: 'tester', logger };
  await deriveVersion(db, { key: 'bit-rr', from: 'base', storage: 'bit', rerank: K }, deps);
  await deriveVersion(db, { key: 'half-rr', from: 'base', storage: 'halfvec', rerank: K, index: 'none' }, deps);
  searcher = createSearcher(db, { logger });
});
after(async () => {
  await searcher?.close();
  await db?.destroy();
});

/** chunk id → (parent vector, rare?) read from the database. */
async function parentChunks(): Promise<Map<number, { v: number[]; rare: boolean }>> {
  const base = await requireVersion(db.kysely, 'base');
  const { rows } = await sql<{ id: string; v: string; tier: string }>`
    select e.chunk_id as id, e.embedding::text as v, c.metadata->>'tier' as tier
    from ${sql.raw(partitionTable(base.id))} e join document_chunks c on c.id = e.chunk_id`.execute(db.kysely);
  return new Map(rows.map((r) => [Number(r.id), { v: JSON.parse(r.v) as number[], rare: r.tier === 'rare' }]));
}

test('a selective filter with --rerank K: the K candidates are fetched among the matching chunks, so k come back', async () => {
  const chunks = await parentChunks();
  const rare = [...chunks].filter(([, c]) => c.rare);
  assert.equal(rare.length, N / RARE_EVERY);
  assert.ok(rare.length >= k && rare.length <= K);
  const encoder = await createEncoder(`hash:mixed-${DIMS}`, {});
  for (const q of QUERIES) {
    const qv = Array.from((await encoder.embed([q]))[0]!);
    // What a filter applied after the fetch would leave: the rare chunks among the top K of the whole
    // partition by Hamming distance (ties at the K-th distance counted in, the most it could be).
    const ham = [...chunks].map(([id, c]) => ({ id, d: hamming(sign(c.v), sign(qv)), rare: c.rare }));
    const kth = ham.map((h) => h.d).sort((a, b) => a - b)[K - 1]!;
    const postFiltered = ham.filter((h) => h.d <= kth && h.rare).length;
    assert.ok(postFiltered < k, `${q}: the unfiltered top ${K} holds ${postFiltered} matching chunks`);

    // Every matching chunk is a candidate (there are fewer than K): the answer is the k nearest
    // matching chunks by exact distance on the parent's vectors.
    const want = rare
      .map(([id, c]) => ({ id, d: cosineDistance(c.v, qv) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, k);
    for (const [version, exact] of [
      ['bit-rr', false],
      ['bit-rr', true],
      ['half-rr', false],
    ] as const) {
      const res = await searcher.search({ query: q, version, k, filters: FILTER, exact });
      const what = `${q} on ${version}${exact ? ' (exact)' : ''}`;
      assert.equal(res.exactFallback, undefined, `${what}: the re-rank statement itself returned ${k} rows`);
      assert.deepEqual(
        res.hits.map((h) => h.chunkId),
        want.map((w) => w.id),
        what,
      );
      res.hits.forEach((h, i) => assert.ok(Math.abs(h.distance - want[i]!.d) < 1e-5, `${what}: distance ${i}`));
    }
  }
  await encoder.close?.();
});
