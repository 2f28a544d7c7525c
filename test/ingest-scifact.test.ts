import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCIFACT_DIR, SCIFACT_SKIP } from './support/data.js';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { freshDb, BACKEND, type TestDb } from './support/db.js';
import { ingest, prepareDocument, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';

// Read in place (EMBCTL_SCIFACT_DIR), never copied.
const CORPUS = join(SCIFACT_DIR, 'corpus.jsonl');
const CHUNKING = { size: DEFAULT_CHUNK_SIZE, overlap: DEFAULT_CHUNK_OVERLAP };

interface BeirDoc {
  _id: string;
  title: string;
  text: string;
}

let db: TestDb;
let dir: string;
before(async () => {
  if (SCIFACT_SKIP) return;
  db = await freshDb();
  dir = mkdtempSync(join(tmpdir(), 'embctl-scifact-'));
});
after(async () => {
  await db?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function readCorpus(): Promise<BeirDoc[]> {
  const docs: BeirDoc[] = [];
  for await (const line of createInterface({ input: createReadStream(CORPUS) }))
    if (line.trim()) docs.push(JSON.parse(line) as BeirDoc);
  return docs;
}
const keysOf = (d: BeirDoc) =>
  prepareDocument({ id: d._id, title: d.title, text: d.text, metadata: {} }, CHUNKING).chunks.map((c) => c.key);

test(
  'SciFact: ingest twice (idempotent), then 10 edits and 5 removals with prune',
  { skip: SCIFACT_SKIP },
  async (t) => {
    const docs = await readCorpus();
    assert.equal(docs.length, 5183);
    const total = docs.reduce((n, d) => n + keysOf(d).length, 0);

    let started = performance.now();
    const first = await ingest(db, [CORPUS], {}, { logger: silentLogger() });
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(
      `${BACKEND}: first ingest of ${first.documents} docs / ${first.chunks.new} chunks in ${seconds.toFixed(2)} s ` +
        `(${Math.round(first.documents / seconds)} docs/s, ${Math.round(first.chunks.new / seconds)} chunks/s)`,
    );
    assert.equal(first.documents, 5183);
    assert.deepEqual(first.chunks, { new: total, unchanged: 0, retired: 0, metadataUpdated: 0, unretired: 0 });
    assert.deepEqual(first.skipped, []);

    started = performance.now();
    const second = await ingest(db, [CORPUS], {}, { logger: silentLogger() });
    t.diagnostic(`${BACKEND}: unchanged re-ingest in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    assert.deepEqual(second.chunks, { new: 0, unchanged: total, retired: 0, metadataUpdated: 0, unretired: 0 });
    assert.equal(second.documentsChanged, 0);

    // A modified copy: 10 documents edited three different ways, 5 removed.
    const editAt = [3, 400, 900, 1400, 1900, 2400, 2900, 3400, 3900, 4400];
    const removeAt = [10, 1010, 2010, 3010, 4010];
    const edited = new Map<string, { before: BeirDoc; after: BeirDoc }>();
    const modified: BeirDoc[] = [];
    docs.forEach((d, i) => {
      if (removeAt.includes(i)) return;
      const k = editAt.indexOf(i);
      if (k < 0) return void modified.push(d);
      const after =
        k % 3 === 0
          ? { ...d, text: `${d.text} An added closing sentence.` }
          : k % 3 === 1
            ? { ...d, title: `${d.title} (revised)` }
            : { ...d, text: d.text.replace(/\S+/, 'Rewritten') };
      edited.set(d._id, { before: d, after });
      modified.push(after);
    });
    const copy = join(dir, 'corpus.jsonl');
    writeFileSync(copy, modified.map((d) => JSON.stringify(d)).join('\n') + '\n');

    let expectNew = 0;
    let expectRetired = 0;
    for (const { before: b, after: a } of edited.values()) {
      const was = new Set(keysOf(b));
      const now = new Set(keysOf(a));
      expectNew += [...now].filter((k) => !was.has(k)).length;
      expectRetired += [...was].filter((k) => !now.has(k)).length;
    }
    const removed = removeAt.map((i) => docs[i]!);
    const removedChunks = removed.reduce((n, d) => n + keysOf(d).length, 0);
    assert.ok(expectNew >= 10 && expectRetired >= 10, 'every edit changes at least one chunk');

    const third = await ingest(db, [copy], { prune: true }, { logger: silentLogger() });
    assert.equal(third.documents, 5178);
    assert.equal(third.documentsChanged, 10);
    assert.equal(third.documentsPruned, 5);
    assert.deepEqual(third.chunks, {
      new: expectNew,
      unchanged: total - removedChunks - expectRetired,
      retired: expectRetired + removedChunks,
      metadataUpdated: 0,
      unretired: 0,
    });

    // What the database holds: removed documents fully retired, edited ones at their new chunks, nothing deleted.
    const { rows } = await sql<{ live: number; retired: number; all: number }>`
    select count(*) filter (where retired_at is null)::int as live, count(*) filter (where retired_at is not null)::int as retired,
           count(*)::int as all from document_chunks`.execute(db.kysely);
    assert.deepEqual(rows[0], {
      live: total - removedChunks - expectRetired + expectNew,
      retired: expectRetired + removedChunks,
      all: total + expectNew,
    });
    const { rows: gone } = await sql<{ n: number }>`select count(*)::int as n from document_chunks
    where document_id = any(${removed.map((d) => d._id)}::text[]) and retired_at is null`.execute(db.kysely);
    assert.equal(gone[0]!.n, 0);
    for (const [id, { after: a }] of edited) {
      const { rows: live } = await sql<{ semantic_key: string }>`select semantic_key from document_chunks
      where document_id = ${id} and retired_at is null order by chunk_no`.execute(db.kysely);
      assert.deepEqual(
        live.map((r) => r.semantic_key),
        keysOf(a),
        `document ${id}`,
      );
    }

    // And the modified copy again: nothing to do.
    const fourth = await ingest(db, [copy], { prune: true }, { logger: silentLogger() });
    assert.deepEqual(fourth.chunks, {
      new: 0,
      unchanged: total - removedChunks - expectRetired + expectNew,
      retired: 0,
      metadataUpdated: 0,
      unretired: 0,
    });
    assert.equal(fourth.documentsPruned, 0);
  },
);
