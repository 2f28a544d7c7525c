import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { BACKEND, ON_SERVER, freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

// Several OS processes backfill the same version at once, without a
// coordinator. On a server they share the work through leases and the
// encoder sees each distinct text once. The embedded database serves one
// process at a time: the others are refused with the fix, lose nothing, and
// a later run finds nothing left to do.

const KEY = 'sk-test-SECRET-procs-2468';
const logger = silentLogger();
const DOCS = 900;
const DUP_EVERY = 9;
const distinctTexts = DOCS - Math.ceil(DOCS / DUP_EVERY) + 1;

let target: TestDbTarget;
let server: OpenAIServer;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-36': 36 }, latencyMs: 20 });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(DOCS, { seed: 21, dupEvery: DUP_EVERY })], {}, { logger });
    await registerVersion(
      db,
      { key: 'shared', encoder: 'openai:mock-36', settings: { baseURL: server.url } },
      { logger, actor: 'tester', openaiApiKey: KEY, env: {} },
    );
  });
});
after(async () => {
  await server?.close();
  await target?.destroy();
});

describe(`backfill from several processes (${BACKEND})`, () => {
  test(
    ON_SERVER
      ? 'three processes backfill one version at once: the work is shared, every distinct text is sent exactly once'
      : 'three processes backfill one embedded folder at once: one works, the others are refused with the fix, nothing is sent twice',
    async () => {
      server.reset();
      const env = { ...targetEnv(target), OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url };
      const args = ['backfill', 'shared', '--workers', '2', '--batch-size', '10', '--json'];
      const runs = await Promise.all([1, 2, 3].map(() => runCli(args, { env })));
      const ok = runs.filter((r) => r.code === 0);
      if (ON_SERVER) {
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        // Each process did part of the work (with 90 batches and three processes, none is idle).
        const written = runs.map((r) => JSON.parse(r.stdout).chunksWritten as number);
        assert.equal(
          written.reduce((a, b) => a + b, 0),
          DOCS,
          `chunks written per process: ${written}`,
        );
        assert.ok(written.filter((n) => n > 0).length >= 2, `the work was shared: ${written}`);
      } else {
        assert.ok(ok.length >= 1, 'one process did the work');
        for (const r of runs.filter((x) => x.code !== 0)) {
          assert.equal(r.code, 1, r.stderr);
          assert.match(
            r.stderr,
            /^embctl: data folder .* is in use by embctl process \d+ on \S+: the embedded database serves one process at a time/m,
          );
        }
      }
      const sent = [...server.stats.textCalls.values()];
      assert.equal(sent.length, distinctTexts, 'every distinct text was sent');
      assert.deepEqual(
        sent.filter((n) => n > 1),
        [],
        'a text was sent twice',
      );
      await withDb(async (db) => {
        const v = await requireVersion(db.kysely, 'shared');
        assert.equal(v.state, 'ready');
        const n = await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(
          db.kysely,
        );
        assert.equal(Number(n.rows[0]!.n), DOCS);
      });
      // Whoever comes last finds nothing to do.
      const again = await runCli(args, { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(JSON.parse(again.stdout).chunksWritten, 0);
      assert.ok(
        !runs.concat(again).some((r) => r.stdout.includes(KEY) || r.stderr.includes(KEY)),
        'the API key was printed',
      );
    },
  );
});
