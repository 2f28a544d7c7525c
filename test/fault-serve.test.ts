import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SERVER_ONLY, withOpen } from './support/db.js';
import { initCluster, type OwnCluster } from './support/own-cluster.js';
import { startServe, searchLoad, waitFor, type ServeProcess } from './support/serve-process.js';
import { writeCorpus } from './support/corpus.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate, rollback } from '../src/lifecycle/index.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

// Fault injection on the HTTP service: its own PostgreSQL cluster is killed
// under it (backends terminated, server stopped and started) while clients
// search. The process must live, answer 503 + Retry-After while the
// database is away, and recover by itself. PGlite has no connections to lose.

const logger = silentLogger();
const QUERIES = ['tent stove lantern', 'warranty refund invoice', 'camera lens tripod', 'kayak paddle river'];
let cluster: OwnCluster;
let url: string;
let serve: ServeProcess;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> =>
  withOpen(() => openDatabase({ databaseUrl: url, homeDir: '/nonexistent', logger, poolSize: 2 }), fn);

async function passGate(db: Db, key: string): Promise<void> {
  const v = await requireVersion(db.kysely, key);
  await db.kysely
    .insertInto('evaluation_runs')
    .values({
      embedding_version_id: v.id,
      judged_set_name: 'test',
      judged_set_sha256: 'x',
      gated: true,
      passed: true,
      metrics: '{}',
      per_query: '[]',
      gates: '[]',
      actor: 'tester',
    })
    .execute();
}

async function search(): Promise<{ status: number; version?: string; retryAfter: string | null }> {
  const r = await fetch(`${serve.base}/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'tent stove', k: 3 }),
  });
  const body = (await r.json()) as { version?: string };
  return { status: r.status, version: body.version, retryAfter: r.headers.get('retry-after') };
}

interface Health {
  status?: string;
  serving?: string | null;
  watch?: string;
  error?: unknown;
}
async function health(): Promise<{ status: number; body: Health; retryAfter: string | null }> {
  const r = await fetch(`${serve.base}/healthz`);
  return { status: r.status, body: (await r.json()) as Health, retryAfter: r.headers.get('retry-after') };
}

/** The LISTEN connection is back (the process caches the active version again and relies on notifications). */
async function listening(): Promise<void> {
  await waitFor(
    'the version listener to reconnect',
    async () => ((await health()).body.watch === 'listening' ? true : undefined),
    { check: assertAlive },
  );
}

/** The serving process picks up a flip (through its LISTEN connection, which must be re-established). */
async function servesVersion(key: string): Promise<void> {
  await waitFor(
    `searches answered by ${key}`,
    async () => {
      const r = await search();
      return r.status === 200 && r.version === key ? true : undefined;
    },
    { check: assertAlive },
  );
}

function assertAlive(): void {
  const exit = serve.exit();
  assert.equal(exit, undefined, `embctl serve died (${JSON.stringify(exit)}): ${serve.stderr().slice(-2000)}`);
}

before(async () => {
  if (SERVER_ONLY) return;
  cluster = await initCluster();
  url = await cluster.createDatabase('fault_serve');
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(300, { seed: 11 })], {}, { logger });
    for (const [key, encoder] of [
      ['v1', 'hash:words-256'],
      ['v2', 'hash:mixed-384'],
    ] as const) {
      await registerVersion(db, { key, encoder }, { actor: 'tester', logger, env: {} });
      await runBackfill(db, key, {}, { actor: 'tester', logger });
      await passGate(db, key);
    }
    await activate(db, 'v1', { actor: 'tester' });
  });
  serve = await startServe({ DATABASE_URL: url, EMBCTL_POOL_SIZE: '4', EMBCTL_LOG_LEVEL: 'warn' });
});

after(async () => {
  if (SERVER_ONLY) return;
  const exit = await serve?.stop();
  await cluster?.destroy();
  // A clean drain after all of it: the process was alive to the end and stopped on SIGTERM.
  if (exit) assert.equal(exit.code, 0, serve.stderr().slice(-2000));
});

describe('serve when PostgreSQL goes away under load', () => {
  test(
    'terminating its backends costs at most some 503s with Retry-After; the process lives and recovers',
    { skip: SERVER_ONLY },
    async (t) => {
      await listening();
      const load = searchLoad(serve.base, 6, (i) => ({ query: QUERIES[i % QUERIES.length], k: 5 }));
      try {
        for (let round = 0; round < 5; round++) {
          const okBefore = load.stats.ok;
          await waitFor('searches succeeding', async () => (load.stats.ok > okBefore + 20 ? true : undefined), {
            check: assertAlive,
          });
          const killed = await cluster.terminateBackends('embctl');
          assert.ok(killed > 0, 'the service had backends to terminate');
        }
        const okBefore = load.stats.ok;
        await waitFor(
          'searches succeeding after the last kill',
          async () => (load.stats.ok > okBefore + 20 ? true : undefined),
          { check: assertAlive },
        );
      } finally {
        await load.stop();
      }
      assertAlive();
      const s = load.stats;
      assert.deepEqual(s.unexpected, [], 'only 200 and 503 answers');
      assert.deepEqual(s.networkErrors, [], 'no dropped connections');
      assert.equal(s.unavailableWithoutRetryAfter, 0, 'every 503 carries Retry-After');
      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(s.byStatus))}`);
      // The LISTEN connection was among those killed: it must be back, or this flip is never seen.
      await listening();
      await withDb((db) => activate(db, 'v2', { actor: 'tester' }));
      await servesVersion('v2');
      assert.equal((await health()).status, 200);
    },
  );

  for (const mode of ['fast', 'immediate'] as const) {
    test(
      `stopping PostgreSQL (-m ${mode}) under load: 503 + Retry-After while it is down, /healthz says so, then recovery by itself`,
      { skip: SERVER_ONLY },
      async (t) => {
        await listening();
        const load = searchLoad(serve.base, 6, (i) => ({ query: QUERIES[i % QUERIES.length], k: 5 }));
        try {
          await waitFor('searches succeeding', async () => (load.stats.ok > 20 ? true : undefined), {
            check: assertAlive,
          });
          await cluster.stop(mode);
          const down = await search();
          assert.equal(down.status, 503, 'a search while the database is down');
          assert.ok(Number(down.retryAfter) > 0, `Retry-After on the 503 (${down.retryAfter})`);
          const h = await health();
          assert.equal(h.status, 503, `/healthz while the database is down: ${JSON.stringify(h.body)}`);
          assert.ok(h.retryAfter, 'Retry-After on /healthz');
          assertAlive();
          await cluster.start();
          const restarted = Date.now();
          const okBefore = load.stats.ok;
          await waitFor(
            'searches succeeding after the restart',
            async () => (load.stats.ok > okBefore + 20 ? true : undefined),
            { check: assertAlive },
          );
          t.diagnostic(`searches succeeded again ${Date.now() - restarted} ms after the server accepted connections`);
        } finally {
          await load.stop();
        }
        assertAlive();
        const s = load.stats;
        assert.deepEqual(s.unexpected, [], 'only 200 and 503 answers');
        assert.deepEqual(s.networkErrors, [], 'no dropped connections');
        assert.equal(s.unavailableWithoutRetryAfter, 0, 'every 503 carries Retry-After');
        assert.ok((s.byStatus.get(503) ?? 0) > 0, 'some searches met the database down');
        t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(s.byStatus))}`);
        const h = await health();
        assert.equal(h.status, 200);
        // LISTEN is re-established and the active version re-read: a flip made now is seen.
        await listening();
        const before = (await search()).version!;
        await withDb((db) => rollback(db, { actor: 'tester' }));
        await servesVersion(before === 'v1' ? 'v2' : 'v1');
        assert.equal((await health()).body.serving, before === 'v1' ? 'v2' : 'v1');
      },
    );
  }
});
