import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { sql } from 'kysely';
import { freshDb, freshTarget, type TestDb, type TestDbTarget } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { ingest } from '../src/ingest/index.js';
import { INGEST_LIMITS } from '../src/ingest/limits.js';
import { InputError, WriteFailedError } from '../src/errors.js';
import { silentLogger } from '../src/log/logger.js';

// Every value the schema cannot take is refused while the input is
// validated, before anything is written: an ingest never dies half-way on
// a value it could have checked. And an ingest that does fail while writing
// (for a reason validation cannot see) leaves whole batches, which the
// rerun completes without counting anything twice.

const logger = silentLogger();
const dir = mkdtempSync(join(tmpdir(), 'embctl-ingest-limits-'));
const GOOD = 1100;

/** A pseudo-random string (incompressible, unlike 'x'.repeat(n)). */
function noise(n: number, seed = 1): string {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = seed;
  let out = '';
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += abc[s % abc.length];
  }
  return out;
}

/** 1,100 good documents, then `bad` (a raw JSONL line). */
function corpusWith(name: string, bad: string): string {
  const lines: string[] = [];
  for (let i = 0; i < GOOD; i++)
    lines.push(JSON.stringify({ id: `d${i}`, text: `document number ${i} about tents and stoves` }));
  lines.push(bad);
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const deep = (levels: number) => `{"id":"deep","text":"t","metadata":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;

const BAD: [name: string, line: string, problem: RegExp][] = [
  [
    'a 20,000-character id',
    JSON.stringify({ id: noise(20_000), text: 'bad' }),
    /"id" is 20000 bytes long; ids may be at most 1024 bytes/,
  ],
  ['metadata nested 5,000 levels', deep(5000), /"metadata" is nested deeper than 100 levels .*: flatten it/],
  [
    'an unpaired surrogate in metadata',
    '{"id":"s","text":"t","metadata":{"k":"\\ud800"}}',
    /unpaired UTF-16 surrogate .* PostgreSQL cannot store/,
  ],
  [
    'an unpaired surrogate in a metadata key',
    '{"id":"s","text":"t","metadata":{"\\udc00x":1}}',
    /unpaired UTF-16 surrogate .* PostgreSQL cannot store/,
  ],
  ['an unpaired surrogate in the id', '{"id":"a\\ud800","text":"t"}', /"id" contains an unpaired UTF-16 surrogate/],
  ['a NUL in a metadata key', '{"id":"n","text":"t","metadata":{"a\\u0000":1}}', /NUL character/],
  [
    'metadata over 1 MiB',
    JSON.stringify({ id: 'big', text: 't', metadata: { blob: noise(1_100_000) } }),
    /"metadata" is 1\.\d MiB as JSON; at most 1 MiB/,
  ],
  [
    'a 5,000-character title',
    JSON.stringify({ id: 't', title: noise(5000), text: 't' }),
    /"title" is 5000 characters long; at most 2000/,
  ],
];

describe('ingest refuses what the schema cannot take, before writing anything', () => {
  let db: TestDb;
  before(async () => {
    db = await freshDb();
  });
  after(async () => {
    await db?.destroy();
  });

  const chunks = async () =>
    Number((await sql<{ n: number }>`select count(*) as n from document_chunks`.execute(db.kysely)).rows[0]!.n);

  for (const [name, line, problem] of BAD) {
    test(`${name}: an input error naming the line; nothing written; --skip-invalid writes the good ones`, async () => {
      const path = corpusWith(name.replace(/\W+/g, '-'), line);
      const e = await ingest(db, [path], {}, { logger }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(e instanceof InputError, `an InputError, not ${String(e)}`);
      assert.match(e.message, /1 invalid record; nothing was ingested \(use --skip-invalid/);
      assert.equal(e.details.length, 1);
      assert.match(e.details[0]!, new RegExp(`:${GOOD + 1}: `));
      assert.match(e.details[0]!, problem);
      assert.ok(e.details[0]!.length < 400, 'the problem is one readable line');
      assert.equal(await chunks(), 0);

      const r = await ingest(db, [path], { skipInvalid: true }, { logger });
      assert.equal(r.documents, GOOD);
      assert.equal(r.skipped.length, 1);
      assert.equal(await chunks(), GOOD);
      await sql`truncate document_chunks cascade`.execute(db.kysely);
    });
  }

  test('a JSONL line over the line limit is one problem; the lines around it are read', async () => {
    const path = join(dir, 'long-line.jsonl');
    const out = createWriteStream(path);
    out.write(`${JSON.stringify({ id: 'a', text: 'fine' })}\n{"id":"huge","text":"`);
    const block = 'x'.repeat(1024 * 1024);
    for (let i = 0; i <= INGEST_LIMITS.lineBytes / block.length; i++) if (!out.write(block)) await once(out, 'drain');
    out.end(`"}\n${JSON.stringify({ id: 'b', text: 'fine too' })}\n`);
    await once(out, 'close');
    const e = await ingest(db, [path], {}, { logger }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof InputError, String(e));
    assert.match(e.details[0]!, /:2: the line is longer than 64 MiB/);
    const r = await ingest(db, [path], { skipInvalid: true }, { logger });
    assert.equal(r.documents, 2);
    await sql`truncate document_chunks cascade`.execute(db.kysely);
  });

  test('a chunk size above the limit is a usage error', async () => {
    await assert.rejects(
      ingest(db, [corpusWith('ok', '{"id":"z","text":"z"}')], { chunkSize: INGEST_LIMITS.chunkSize + 1 }, { logger }),
      /chunk size: must be a whole number from 1 to 100000/,
    );
    assert.equal(await chunks(), 0);
  });
});

describe('ingest that fails while writing', () => {
  let db: TestDb;
  before(async () => {
    db = await freshDb();
  });
  after(async () => {
    await db?.destroy();
  });

  test('leaves whole batches of 1,000 documents; the rerun completes them and counts nothing twice', async () => {
    // A refusal no validation can foresee: a CHECK constraint rejects one document of the second batch
    // (a constraint, not a trigger: Citus has no triggers on distributed tables).
    await sql
      .raw(`alter table document_chunks add constraint refuse_d1050 check (document_id <> 'd1050') not valid`)
      .execute(db.kysely);
    const path = corpusWith('trigger', JSON.stringify({ id: 'last', text: 'the last one' }));
    const e = await ingest(db, [path], {}, { logger }).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(e instanceof WriteFailedError, String(e));
    assert.match(
      e.message,
      /^ingest failed while writing batch 2 \(documents 1001 to 1101\): new row for relation "document_chunks\S*" violates check constraint "refuse_d1050\S*"; that batch was rolled back, the 1000 documents of earlier batches are written; fix the cause and run the same ingest again to write the rest$/,
    );
    const count = async () =>
      (
        await sql<{
          docs: number;
          chunks: number;
        }>`select count(distinct document_id)::int as docs, count(*)::int as chunks from document_chunks`.execute(
          db.kysely,
        )
      ).rows[0]!;
    assert.deepEqual(await count(), { docs: 1000, chunks: 1000 });

    await sql.raw('alter table document_chunks drop constraint refuse_d1050').execute(db.kysely);
    const r = await ingest(db, [path], {}, { logger });
    assert.deepEqual(r.chunks, { new: 101, unchanged: 1000, retired: 0, metadataUpdated: 0, unretired: 0 });
    assert.deepEqual(await count(), { docs: 1101, chunks: 1101 });
  });
});

describe('embctl ingest with a bad value, as a user sees it', () => {
  let target: TestDbTarget;
  before(async () => {
    target = await freshTarget();
    assert.equal((await runCli(['migrate'], { env: targetEnv(target), timeoutMs: 600_000 })).code, 0);
  });
  after(async () => {
    await target?.destroy();
  });

  test('exit 2, one line and the problem under it, nothing written; a rerun with --skip-invalid completes', async () => {
    const path = corpusWith('cli-long-id', BAD[0]![1]);
    const r = await runCli(['ingest', path], { env: targetEnv(target), timeoutMs: 600_000 });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('{'));
    assert.equal(lines.length, 2, r.stderr);
    assert.match(
      lines[0]!,
      /^embctl: .*cli-long-id\.jsonl: 1 invalid record; nothing was ingested \(use --skip-invalid to ingest the valid ones\)$/,
    );
    assert.match(
      lines[1]!,
      /^ {2}.*:1101: "id" is 20000 bytes long; ids may be at most 1024 bytes \(UTF-8\): use a shorter id$/,
    );
    const status = await runCli(['--json', 'status'], { env: targetEnv(target), timeoutMs: 600_000 });
    assert.equal((JSON.parse(status.stdout) as { chunks: { live: number } }).chunks.live, 0);
    const again = await runCli(['--json', 'ingest', path, '--skip-invalid'], {
      env: targetEnv(target),
      timeoutMs: 600_000,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { documents: number }).documents, GOOD);
  });
});
