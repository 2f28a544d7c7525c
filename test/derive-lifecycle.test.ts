import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { freshDb, type TestDb } from './support/db.js';
import { fillVersion, register } from './support/fill-version.js';
import { ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import { createSearchRetriever, readGatesFile, runEvaluation, type GatesConfig } from '../src/evaluate/index.js';
import { deriveVersion } from '../src/derive/index.js';
import { activate, rollback } from '../src/lifecycle/index.js';
import { createSearcher } from '../src/search/index.js';
import { requireVersion, type VersionRow } from '../src/versions/store.js';

// A derived version is a normal version: it is gated by `evaluate --gate`
// (through the same search users get), activated without --force once its
// gate passed, serves the searches that name no version, and rolls back.
// On the demo corpus and judged set, both backends.

const CORPUS = fileURLToPath(new URL('../examples/demo/corpus.jsonl', import.meta.url));
const JUDGED = fileURLToPath(new URL('../evals/demo.judged.jsonl', import.meta.url));
const GATES = fileURLToPath(new URL('../evals/gates.json', import.meta.url));
const logger = silentLogger();

let db: TestDb;
let set: JudgedSet;
let gates: GatesConfig;

before(async () => {
  db = await freshDb();
  await ingest(db, [CORPUS], {}, { logger });
  await register(db, { key: 'v2', encoder: 'hash:mixed-1536', canary: false });
  await fillVersion(db, 'v2');
  set = await loadJudgedSet(JUDGED);
  gates = await readGatesFile(GATES);
});
after(async () => db?.destroy());

test('a derived version passes evaluate --gate against its parent, activates, serves searches and rolls back', async () => {
  const retriever = createSearchRetriever(db, { logger });
  const searcher = createSearcher(db, { logger });
  const gate = (candidate: VersionRow, baseline: VersionRow | null) =>
    runEvaluation(db, { candidate, baseline, judgedSet: set, retriever, gates, gated: true, actor: 'tester' });
  try {
    const v2 = await requireVersion(db.kysely, 'v2');
    assert.equal((await gate(v2, null)).passed, true);
    await activate(db, 'v2', { actor: 'tester' });

    for (const [key, flags] of [
      ['v2-half', { storage: 'halfvec' as const }],
      ['v2-bit', { storage: 'bit' as const, rerank: 100 }],
    ] as const) {
      const d = await deriveVersion(db, { key, from: 'v2', ...flags }, { actor: 'tester', logger });
      assert.equal(d.state, 'ready');
      const run = await gate(await requireVersion(db.kysely, key), await requireVersion(db.kysely, 'v2'));
      assert.equal(run.passed, true, run.outcomes.map((o) => o.message).join('\n'));
      const rel = run.outcomes[0]!;
      // Half precision, or bits re-ranked on the full vectors, keep the parent's nDCG@10 within the gate.
      assert.ok(rel.comparison!.delta > -0.01, rel.message);
    }

    const a = await activate(db, 'v2-bit', { actor: 'tester' });
    assert.equal(a.previous, 'v2');
    const served = await searcher.search({ query: 'how do I get a refund for a damaged item' });
    assert.equal(served.version, 'v2-bit');
    assert.equal(served.hits.length, 10);
    const parent = await searcher.search({ query: 'how do I get a refund for a damaged item', version: 'v2' });
    // Re-ranked on the parent's vectors: the distances are the parent's own.
    const byChunk = new Map(parent.hits.map((h) => [h.chunkId, h.distance]));
    for (const h of served.hits)
      if (byChunk.has(h.chunkId)) assert.ok(Math.abs(h.distance - byChunk.get(h.chunkId)!) < 1e-5);

    const back = await rollback(db, { actor: 'tester' });
    assert.equal(back.version, 'v2');
    assert.equal((await searcher.search({ query: 'refund' })).version, 'v2');
  } finally {
    await retriever.close();
    await searcher.close();
  }
});
