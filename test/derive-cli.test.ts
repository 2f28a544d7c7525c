import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { BACKEND, freshTarget, withTargetDb, type TestDbTarget } from './support/db.js';
import { runCli, spawnCli, targetEnv } from './support/cli.js';
import { fillVersion, ingestDocs, register } from './support/fill-version.js';
import { normalize } from './support/derive-oracle.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

// `embctl versions derive` as a user runs it, on both backends: exit codes
// and one-line errors, a derive killed (SIGKILL, at a failpoint after a
// committed batch) and run again, and `versions show`. The CLI runs as a
// child process; the test opens the database only between runs (PGlite).

const DOCS = 150;
let target: TestDbTarget;
const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...targetEnv(target), ...env } });

before(async () => {
  target = await freshTarget();
  await withDb(async (db) => {
    await migrate(db, { logger: silentLogger() });
    await ingestDocs(
      db,
      Array.from({ length: DOCS }, (_, i) => ({
        id: `doc-${i}`,
        text: `kayak paddle river number ${i} trail ${i % 7}`,
      })),
    );
    await register(db, { key: 'base', encoder: 'hash:mixed-384', canary: false });
    await fillVersion(db, 'base');
    await register(db, { key: 'empty', encoder: 'hash:words-256', canary: false });
  });
});
after(async () => target?.destroy());

async function rows(db: Db, key: string): Promise<number> {
  const v = await requireVersion(db.kysely, key);
  const r = await sql<{ n: string }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

describe(`versions derive on the command line (${BACKEND})`, () => {
  test('bad flags exit 2 and a refused state exits 1, each with one line that says what to do', async () => {
    const cases: [string[], number, RegExp][] = [
      [['--dimensions', '0'], 2, /--dimensions must be a whole number from 1/],
      [['--dimensions', '1.5'], 2, /--dimensions.*whole number/],
      [['--storage', 'bit', '--metric', 'cosine'], 2, /Hamming distance.*--metric hamming/],
      [['--dimensions', '999'], 2, /more than the 384 dimensions of base/],
      [['--dimensions', '64'], 2, /does not declare Matryoshka.*--force/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await cli(['versions', 'derive', 'bad', '--from', 'base', ...flags]);
      assert.equal(r.code, code, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      // One line (commander adds its usual pointer to --help after a flag it rejects itself).
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => l && !/^\(run with --help/.test(l));
      assert.equal(lines.length, 1, r.stderr);
    }
    const unknown = await cli(['versions', 'derive', 'bad', '--from', 'nope', '--storage', 'halfvec']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /no version "nope"/);
    const incomplete = await cli(['versions', 'derive', 'bad', '--from', 'empty', '--storage', 'halfvec']);
    assert.equal(incomplete.code, 1, incomplete.stderr);
    assert.match(incomplete.stderr, /not fully backfilled.*embctl backfill empty/);
    await withDb(async (db) =>
      assert.equal(
        await db.kysely
          .selectFrom('embedding_versions')
          .select('id')
          .where('version_key', '=', 'bad')
          .executeTakeFirst(),
        undefined,
      ),
    );
  });

  test('a derive killed after a committed batch resumes where it stopped and writes every vector once', async () => {
    const args = ['versions', 'derive', 'cut', '--from', 'base', '--dimensions', '64', '--force', '--batch-size', '20'];
    const killed = spawnCli(args, { env: { ...targetEnv(target), EMBCTL_FAILPOINT: 'derive.batch:3' } });
    const { signal } = await killed.exited;
    assert.equal(signal, 'SIGKILL', killed.out.stderr);
    await withDb(async (db) => {
      assert.equal(await rows(db, 'cut'), 60, 'three whole batches of 20');
      assert.equal((await requireVersion(db.kysely, 'cut')).state, 'backfilling');
    });
    const again = await cli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /resumed cut from base: 150 vectors \(90 written now, no encoder calls\)/);
    assert.match(again.stdout, /note: --force/);
    await withDb(async (db) => {
      const v = await requireVersion(db.kysely, 'cut');
      assert.equal(v.state, 'ready');
      const base = await requireVersion(db.kysely, 'base');
      const { rows: pairs } = await sql<{ p: string; d: string }>`
        select p.embedding::text as p, d.embedding::text as d
        from ${sql.raw(partitionTable(base.id))} p join ${sql.raw(partitionTable(v.id))} d using (chunk_id)`.execute(
        db.kysely,
      );
      assert.equal(pairs.length, DOCS);
      for (const r of pairs) {
        const want = normalize((JSON.parse(r.p) as number[]).slice(0, 64));
        const got = JSON.parse(r.d) as number[];
        assert.ok(got.every((x, i) => Math.abs(x - want[i]!) < 1e-5));
      }
    });
    // A third run finds nothing to do.
    const done = await cli([...args, '--json']);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(JSON.parse(done.stdout).written, 0);
  });

  test('versions show reports bytes per vector, heap and index size against the parent', async () => {
    const d = await cli(['versions', 'derive', 'tiny', '--from', 'base', '--storage', 'bit', '--rerank', '50']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /re-ranked by cosine distance on base/);
    const show = await cli(['versions', 'show', 'tiny']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /derived +from base/);
    assert.match(
      show.stdout,
      /storage +\d+(\.\d)? bytes\/vector \(0\.\d\d× base\), heap [\d.]+ MB \([\d.]+× base\), index [\d.]+ MB/,
    );
    const json = JSON.parse((await cli(['versions', 'show', 'tiny', '--json'])).stdout);
    assert.ok(
      json.storage.version.bytesPerVector < json.storage.parent.bytesPerVector / 8,
      JSON.stringify(json.storage),
    );
    assert.ok(json.storage.version.indexBytes > 0);
    assert.equal(json.storage.parent.vectors, DOCS);
  });

  test('versions register --matryoshka lets derive truncate without --force; --help documents derive', async () => {
    const r = await cli(['versions', 'register', 'mat', '--encoder', 'hash:words-256', '--matryoshka', '--no-canary']);
    assert.equal(r.code, 0, r.stderr);
    await withDb(async (db) => {
      assert.equal((await requireVersion(db.kysely, 'mat')).matryoshka, true);
      await fillVersion(db, 'mat');
    });
    const d = await cli(['versions', 'derive', 'mat-32', '--from', 'mat', '--dimensions', '32']);
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stdout, /--force/);
    const help = await cli(['versions', 'derive', '--help']);
    assert.match(help.stdout, /--rerank <k>/);
    assert.match(help.stdout, /embctl versions derive v2-bit --from v2 --storage bit --rerank 100/);
  });
});
