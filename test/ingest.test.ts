import { test, before, after, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { freshDb, type TestDb } from './support/db.js';
import { ingest, semanticKey, contentSha256, type IngestOptions, type IngestProgress } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { InputError, WriteFailedError } from '../src/errors.js';

let db: TestDb;
let dir: string;
before(async () => {
  db = await freshDb();
});
after(async () => {
  await db?.destroy();
});
beforeEach(async () => {
  await sql`truncate document_chunks restart identity cascade`.execute(db.kysely);
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = mkdtempSync(join(tmpdir(), 'embctl-ingest-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(rel: string, content: string | Buffer): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  return p;
}
const jsonl = (records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const run = (
  inputs: string[],
  options: IngestOptions = {},
  extra: { stdin?: NodeJS.ReadableStream; onProgress?: (p: IngestProgress) => void } = {},
) => ingest(db, inputs, options, { logger: silentLogger(), ...extra });

async function rows() {
  const { rows } = await sql<{
    document_id: string;
    chunk_no: number;
    content: string;
    retired: boolean;
    metadata: Record<string, unknown>;
    semantic_key: string;
    content_sha256: Uint8Array;
    updated_at: Date;
  }>`
    select document_id, chunk_no, content, retired_at is not null as retired, metadata, semantic_key, content_sha256, updated_at
    from document_chunks order by document_id, chunk_no, retired_at nulls first, id`.execute(db.kysely);
  return rows;
}
async function count(): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from document_chunks`.execute(db.kysely);
  return rows[0]!.n;
}

describe('ingest JSONL', () => {
  test('writes chunks with their keys and hashes, and a second run changes nothing', async () => {
    const p = file(
      'corpus.jsonl',
      jsonl([
        { id: 'a', title: 'Alpha', text: 'The first document. It is short.', metadata: { lang: 'en' } },
        { id: 'b', content: 'Quotes " and back\\slashes, {braces} and, commas; NULL too.' },
      ]),
    );
    const r1 = await run([p]);
    assert.equal(r1.documents, 2);
    assert.deepEqual(r1.chunks, { new: 2, unchanged: 0, retired: 0, metadataUpdated: 0, unretired: 0 });
    const got = await rows();
    assert.deepEqual(
      got.map((r) => [r.document_id, r.chunk_no, r.content, r.metadata]),
      [
        ['a', 0, 'Alpha\n\nThe first document. It is short.', { lang: 'en' }],
        ['b', 0, 'Quotes " and back\\slashes, {braces} and, commas; NULL too.', {}],
      ],
    );
    assert.equal(got[0]!.semantic_key, semanticKey('a', 0, 'Alpha\n\nThe first document. It is short.'));
    assert.deepEqual(Buffer.from(got[0]!.content_sha256), contentSha256('Alpha\n\nThe first document. It is short.'));

    const r2 = await run([p]);
    assert.deepEqual(r2.chunks, { new: 0, unchanged: 2, retired: 0, metadataUpdated: 0, unretired: 0 });
    assert.equal(r2.documentsChanged, 0);
    assert.equal(await count(), 2);
  });

  test('an edited document gets new chunks and its vanished ones retired; a chunk that comes back is un-retired', async () => {
    const opts = { chunkSize: 40, chunkOverlap: 0 };
    const v1 = 'One sentence for chunk one. Another for two.\n\nThe third part is here.';
    const v2 = 'One sentence for chunk one. Changed the second.\n\nThe third part is here.';
    const p = file('c.jsonl', jsonl([{ id: 'd', text: v1 }]));
    const r1 = await run([p], opts);
    assert.equal(r1.chunks.new, 3);
    writeFileSync(p, jsonl([{ id: 'd', text: v2 }]));
    const r2 = await run([p], opts);
    assert.deepEqual(r2.chunks, { new: 1, unchanged: 2, retired: 1, metadataUpdated: 0, unretired: 0 });
    let all = await rows();
    assert.deepEqual(
      all.filter((r) => r.retired).map((r) => r.content),
      ['Another for two.'],
    );
    assert.deepEqual(
      all.filter((r) => !r.retired).map((r) => r.content),
      ['One sentence for chunk one.', 'Changed the second.', 'The third part is here.'],
    );

    writeFileSync(p, jsonl([{ id: 'd', text: v1 }]));
    const r3 = await run([p], opts);
    assert.deepEqual(r3.chunks, { new: 0, unchanged: 2, retired: 1, metadataUpdated: 0, unretired: 1 });
    all = await rows();
    assert.equal(all.length, 4, 'nothing deleted, nothing duplicated');
    assert.deepEqual(
      all.filter((r) => r.retired).map((r) => r.content),
      ['Changed the second.'],
    );
  });

  test('a metadata-only change updates metadata in place, without new chunks', async () => {
    const p = file('m.jsonl', jsonl([{ id: 'm', text: 'Some text. '.repeat(150), metadata: { tag: 'x', n: 1 } }]));
    const r1 = await run([p]);
    assert.ok(r1.chunks.new >= 2);
    const before = await rows();
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(p, jsonl([{ id: 'm', text: 'Some text. '.repeat(150), metadata: { n: 1, tag: 'y' } }]));
    const r2 = await run([p]);
    assert.deepEqual(r2.chunks, { new: 0, unchanged: 0, retired: 0, metadataUpdated: r1.chunks.new, unretired: 0 });
    const afterRows = await rows();
    assert.equal(afterRows.length, before.length);
    for (const [i, r] of afterRows.entries()) {
      assert.deepEqual(r.metadata, { n: 1, tag: 'y' });
      assert.equal(r.semantic_key, before[i]!.semantic_key);
      assert.ok(r.updated_at.getTime() > before[i]!.updated_at.getTime());
    }
    // Same metadata with its keys in another order: unchanged.
    writeFileSync(p, jsonl([{ id: 'm', text: 'Some text. '.repeat(150), metadata: { tag: 'y', n: 1 } }]));
    assert.equal((await run([p])).chunks.unchanged, r1.chunks.new);
  });

  test('prune retires every chunk of documents absent from the input; dry run writes nothing', async () => {
    const p = file(
      'p.jsonl',
      jsonl([
        { id: 'keep', text: 'Kept.' },
        { id: 'gone', text: 'Gone soon.' },
      ]),
    );
    await run([p]);
    writeFileSync(p, jsonl([{ id: 'keep', text: 'Kept.' }]));
    const withoutPrune = await run([p]);
    assert.equal(withoutPrune.chunks.retired, 0);
    const dry = await run([p], { prune: true, dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.documentsPruned, 1);
    assert.equal(dry.chunks.retired, 1);
    assert.equal((await rows()).filter((r) => r.retired).length, 0, 'dry run wrote nothing');
    const real = await run([p], { prune: true });
    assert.deepEqual([real.documentsPruned, real.chunks.retired, real.chunks.unchanged], [1, 1, 1]);
    assert.deepEqual(
      (await rows()).map((r) => [r.document_id, r.retired]),
      [
        ['gone', true],
        ['keep', false],
      ],
    );
  });

  test('a dry run of a first ingest reports the new chunks and writes nothing', async () => {
    const p = file('d.jsonl', jsonl([{ id: 'x', text: 'Hello.' }]));
    const r = await run([p], { dryRun: true });
    assert.equal(r.chunks.new, 1);
    assert.equal(await count(), 0);
  });

  test('progress is reported while validating and writing', async () => {
    const p = file(
      'many.jsonl',
      jsonl(Array.from({ length: 2500 }, (_, i) => ({ id: `d${i}`, text: `Document number ${i}.` }))),
    );
    const seen: IngestProgress[] = [];
    const r = await run([p], { batchSize: 1000 }, { onProgress: (x) => seen.push(x) });
    assert.equal(r.documents, 2500);
    assert.deepEqual(
      seen.filter((s) => s.phase === 'writing').map((s) => [s.documents, s.chunks, s.totalDocuments]),
      [
        [1000, 1000, 2500],
        [2000, 2000, 2500],
        [2500, 2500, 2500],
      ],
    );
    assert.ok(seen.some((s) => s.phase === 'validating'));
  });
});

test('ids are checked across inputs: a repeat in a later file is skipped, the first record wins, prune keeps both files', async () => {
  const a = file(
    'a.jsonl',
    jsonl([
      { id: 'x', text: 'First x.' },
      { id: 'y', text: 'Only y.' },
    ]),
  );
  const b = file(
    'b.jsonl',
    jsonl([
      { id: 'z', text: 'Only z.' },
      { id: 'x', text: 'Second x.' },
    ]),
  );
  await assert.rejects(run([a, b]), (e: InputError) => {
    assert.deepEqual(e.details, [`${b}:2: duplicate document id "x" (first at ${a}:1) (document "x")`]);
    return true;
  });
  const r = await run([a, b], { skipInvalid: true, prune: true });
  assert.equal(r.documents, 3);
  assert.equal(r.documentsPruned, 0);
  assert.deepEqual(
    (await rows()).map((x) => [x.document_id, x.content]),
    [
      ['x', 'First x.'],
      ['y', 'Only y.'],
      ['z', 'Only z.'],
    ],
  );
});

test('an input that changes between validation and writing: records the validation never saw are skipped and reported', async () => {
  const a = file('a.jsonl', jsonl([{ id: 'a1', text: 'A one.' }]));
  const b = file(
    'b.jsonl',
    jsonl([
      { id: 'b1', text: 'B one.' },
      { id: 'b2', text: 'B two.' },
    ]),
  );
  let changed = false;
  const r = await run(
    [a, b],
    { batchSize: 1, skipInvalid: true },
    {
      onProgress: (p) => {
        // a.jsonl's batch is written: b.jsonl has not been read again yet.
        if (p.phase === 'writing' && !changed) {
          changed = true;
          writeFileSync(
            b,
            jsonl([
              { id: 'b1', text: 'B one.' },
              { id: 'b3', text: 'B three.' },
            ]),
          );
        }
      },
    },
  );
  assert.ok(changed);
  assert.deepEqual(
    (await rows()).map((x) => x.document_id),
    ['a1', 'b1'],
  );
  assert.deepEqual(
    r.skipped.map((s) => [s.line, s.documentId, s.reason]),
    [[2, 'b3', 'not present when the input was validated (the input changed during the ingest)']],
  );
});

describe('bad input', () => {
  const good = { id: 'ok', text: 'A fine record.' };
  const cases: [string, string | Buffer, RegExp][] = [
    ['malformed JSON', `${JSON.stringify(good)}\n{"id": "x", "text": }\n`, /^bad\.jsonl:2: malformed JSON \(/],
    ['record without id', `${JSON.stringify(good)}\n{"text": "no id"}\n`, /^bad\.jsonl:2: record without "id"$/],
    [
      'record without text',
      `${JSON.stringify(good)}\n\n{"id": "y"}\n`,
      /^bad\.jsonl:3: record without "text" or "content" \(document "y"\)$/,
    ],
    [
      'non-UTF-8 line',
      Buffer.concat([
        Buffer.from(`${JSON.stringify(good)}\n{"id": "z", "text": "caf`),
        Buffer.from([0xe9]),
        Buffer.from('"}\n'),
      ]),
      /^bad\.jsonl:2: not valid UTF-8$/,
    ],
    ['empty file', '', /^bad\.jsonl: empty file$/],
    [
      'duplicate id',
      `${JSON.stringify(good)}\n${JSON.stringify(good)}\n`,
      /^bad\.jsonl:2: duplicate document id "ok" \(first at .*bad\.jsonl:1\) \(document "ok"\)$/,
    ],
  ];
  for (const [name, content, detail] of cases) {
    test(`${name}: the run is rejected with file and line, and nothing is written`, async () => {
      await run([file('seed.jsonl', jsonl([{ id: 'seed', text: 'Already here.' }]))]);
      const p = file('bad.jsonl', content);
      const before = await count();
      await assert.rejects(run(['bad.jsonl'].map(() => p)), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(
          e.message,
          /invalid record.*; nothing was ingested \(use --skip-invalid to ingest the valid ones\)$/,
        );
        assert.equal(e.details.length, 1);
        assert.match(e.details[0]!.replace(dir + '/', ''), detail);
        return true;
      });
      assert.equal(await count(), before);
    });
  }

  test('every problem is listed; skipInvalid ingests the valid records and lists the skipped', async () => {
    const p = file(
      'corpus.jsonl',
      [
        JSON.stringify({ id: 'a', text: 'Valid one.' }),
        '{"id": "b", "text": oops}',
        JSON.stringify({ id: 'c' }),
        JSON.stringify({ id: 'd', text: 'Valid two.' }),
        JSON.stringify({ id: 'a', text: 'Again.' }),
      ].join('\n'),
    );
    const err = await run([p]).then(
      () => null,
      (e) => e as InputError,
    );
    assert.ok(err instanceof InputError);
    assert.equal(
      err.message,
      `${p}: 3 invalid records; nothing was ingested (use --skip-invalid to ingest the valid ones)`,
    );
    assert.deepEqual(
      err.details.map((d) => d.replace(`${p}:`, '').replace(/ \(.*$/, '')),
      ['2: malformed JSON', '3: record without "text" or "content"', '5: duplicate document id "a"'],
    );
    assert.equal(await count(), 0);

    const r = await run([p], { skipInvalid: true });
    assert.equal(r.documents, 2);
    assert.deepEqual(
      r.skipped.map((s) => [s.line, s.documentId]),
      [
        [2, undefined],
        [3, 'c'],
        [5, 'a'],
      ],
    );
    assert.deepEqual(
      (await rows()).map((x) => x.content),
      ['Valid one.', 'Valid two.'],
    );
  });

  test('a non-UTF-8 or empty text file is rejected with its name (and line)', async () => {
    const bin = file('notes/latin1.txt', Buffer.concat([Buffer.from('fine line\ncaf'), Buffer.from([0xe9, 0x0a])]));
    file('notes/empty.md', '');
    file('notes/good.md', '# Good\n\nText.');
    const err = await run([join(dir, 'notes')]).then(
      () => null,
      (e) => e as InputError,
    );
    assert.ok(err instanceof InputError);
    assert.deepEqual(err.details, [`${join(dir, 'notes/empty.md')}: empty file`, `${bin}:2: not valid UTF-8`]);
    assert.match(err.message, /^.*notes\/empty\.md: 2 invalid records|^2 invalid records in 2 inputs/);
    assert.equal(await count(), 0);
  });

  test('missing inputs and bad options are refused up front', async () => {
    await assert.rejects(
      run([join(dir, 'nope.jsonl'), join(dir, 'nope2')]),
      (e: InputError) => e instanceof InputError && e.details.length === 2,
    );
    await assert.rejects(run([file('x.jsonl', jsonl([good]))], { chunkSize: 10, chunkOverlap: 10 }), /overlap/);
  });

  test('a failure while writing a batch rolls that batch back (earlier batches stay)', async () => {
    // A CHECK constraint, not a trigger: Citus has no triggers on distributed tables.
    await sql`alter table document_chunks add constraint embctl_test_fail check (document_id <> 'poison') not valid`.execute(
      db.kysely,
    );
    try {
      const p = file(
        'b.jsonl',
        jsonl([
          { id: 'b1', text: 'one' },
          { id: 'b2', text: 'two' },
          { id: 'b3', text: 'three' },
          { id: 'poison', text: 'four' },
        ]),
      );
      await assert.rejects(run([p], { batchSize: 2 }), (e: unknown) => {
        assert.ok(e instanceof WriteFailedError, String(e));
        assert.match(
          e.message,
          /batch 2 \(documents 3 to 4\): new row for relation "document_chunks\S*" violates check constraint "embctl_test_fail\S*"; that batch was rolled back, the 2 documents of earlier batches are written/,
        );
        return true;
      });
      assert.deepEqual(
        (await rows()).map((r) => r.document_id),
        ['b1', 'b2'],
      );
    } finally {
      await sql`alter table document_chunks drop constraint embctl_test_fail`.execute(db.kysely);
    }
  });
});

describe('files, folders and stdin', () => {
  test('folders: recursive, include/exclude globs, ids relative to the folder, Markdown titles', async () => {
    const root = join(dir, 'kb');
    file('kb/intro.md', '# Getting started\n\nInstall it.\n\n## Next\n\nRun it.');
    file('kb/guide/deep/usage.markdown', 'Preamble.\n\n# Usage\n\nUse it.');
    file('kb/notes.txt', 'Plain   text\tnote.');
    file('kb/drafts/wip.md', 'Draft.');
    file('kb/.hidden/secret.md', 'Hidden.');
    file('kb/image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe]));
    file('kb/records.jsonl', jsonl([{ _id: 'beir-1', title: 'B', text: 'From a BEIR file.' }]));

    const r = await run([root], { exclude: ['drafts', '.*'] });
    assert.equal(r.documents, 4);
    assert.deepEqual(
      (await rows()).map((x) => [x.document_id, x.content]),
      [
        ['beir-1', 'B\n\nFrom a BEIR file.'],
        ['guide/deep/usage.markdown', 'Usage\n\nPreamble.\n\n# Usage\n\nUse it.'],
        ['intro.md', 'Getting started\n\nInstall it.\n\n## Next\n\nRun it.'],
        ['notes.txt', 'Plain text note.'],
      ],
    );

    // Only Markdown below guide/, everything else left alone; prune sees only this input.
    const r2 = await run([root], { include: ['guide/**/*.{md,markdown}', 'drafts/*'], exclude: [], prune: true });
    assert.equal(r2.documents, 2);
    assert.equal(r2.documentsPruned, 3);
    assert.deepEqual(
      (await rows()).filter((x) => !x.retired).map((x) => x.document_id),
      ['drafts/wip.md', 'guide/deep/usage.markdown'],
    );
  });

  test('a file given by name: its file name is the document id; --format text reads a .jsonl as text', async () => {
    const p = file('sub/readme.md', '# Read me\n\nBody text.');
    const q = file('sub/lines.jsonl', '{"id": "1", "text": "json"}\n');
    const r = await run([p, q], { format: 'text' });
    assert.equal(r.documents, 2);
    assert.deepEqual(
      (await rows()).map((x) => [x.document_id, x.content]),
      [
        ['lines.jsonl', '{"id": "1", "text": "json"}'],
        ['readme.md', 'Read me\n\nBody text.'],
      ],
    );
  });

  test('JSONL is detected by content whatever the extension; an explicit format overrides', async () => {
    const p = file('corpus.data', jsonl([{ _id: 'x1', title: '', text: 'BEIR without a title.' }]));
    assert.equal((await run([p])).documents, 1);
    assert.deepEqual(
      (await rows()).map((x) => [x.document_id, x.content]),
      [['x1', 'BEIR without a title.']],
    );
    const err = await run([p], { format: 'jsonl' }).then(
      () => null,
      (e) => e as InputError,
    );
    assert.match(
      err?.details[0] ?? '',
      /record without "id" \(read as JSONL, whose records have "id"; use --format beir\)/,
    );
  });

  test('- reads JSONL from stdin (validated, then written)', async () => {
    const input = jsonl([
      { id: 's1', text: 'From stdin.' },
      { id: 's2', text: 'Also.', metadata: { via: 'pipe' } },
    ]);
    const r = await run(
      ['-'],
      {},
      { stdin: Readable.from([Buffer.from(input.slice(0, 10)), Buffer.from(input.slice(10))]) },
    );
    assert.equal(r.documents, 2);
    assert.deepEqual(
      (await rows()).map((x) => [x.document_id, x.content, x.metadata]),
      [
        ['s1', 'From stdin.', {}],
        ['s2', 'Also.', { via: 'pipe' }],
      ],
    );
    const bad = await run(['-'], {}, { stdin: Readable.from(['{"id": 1}\n']) }).then(
      () => null,
      (e) => e as InputError,
    );
    assert.deepEqual(bad?.details, ['<stdin>:1: record without "text" or "content" (document "1")']);
  });
});
