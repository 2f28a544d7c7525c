import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, freshTarget, type TestDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startServe } from './support/serve-process.js';
import { writeCorpus } from './support/corpus.js';
import { rawRequest, type RawResponse } from './support/raw-http.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate } from '../src/lifecycle/index.js';
import { createService, type Service } from '../src/serve/server.js';
import { Admission, admissionOptions, type Release } from '../src/serve/admission.js';
import type { Searcher } from '../src/search/index.js';
import { HttpError } from '../src/serve/http-util.js';
import { silentLogger } from '../src/log/logger.js';

// Overload (issue 14, section 2): when every slot is taken, searches wait in a
// bounded queue; past it, or past the wait, a 503 with Retry-After. Searches
// are held by a test seam (a searcher that waits for the test to let it go),
// so nothing here depends on timing. Both backends: the held searches then run
// on the real database.

const logger = silentLogger();
let db: TestDb;

const JSON_HEADERS = { 'content-type': 'application/json' };
const search = (port: number, query = 'tent') =>
  rawRequest(port, 'POST', '/v1/search', JSON_HEADERS, JSON.stringify({ query, k: 3 }));
const errorOf = (r: RawResponse) => (JSON.parse(r.body) as { error?: { code: string; message: string } }).error;

/** Wait (no deadline: the test runner has none either) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** A searcher whose searches wait for `release()`; it fails a search that would run past `limit` at once. */
function holdingSearcher(limit: number) {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  const state = { running: 0, maxRunning: 0, started: 0 };
  const wrap = (inner: Searcher): Searcher => ({
    ...inner,
    search: async (req) => {
      state.started++;
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      try {
        if (state.running > limit) throw new Error(`${state.running} searches at once, over the limit ${limit}`);
        await gate;
        return await inner.search(req);
      } finally {
        state.running--;
      }
    },
  });
  return { wrap, state, release: () => open() };
}

before(async () => {
  db = await freshDb();
  await ingest(db, [writeCorpus(60, { seed: 14 })], {}, { logger });
  await registerVersion(db, { key: 'v1', encoder: 'hash:words-256' }, { actor: 'tester', logger, env: {} });
  await runBackfill(db, 'v1', {}, { actor: 'tester', logger });
  await activate(db, 'v1', { actor: 'tester', force: true, reason: 'test' });
});
after(async () => {
  await db?.destroy();
});

describe('overload: admission control of embctl serve', () => {
  test('limit 2, queue 3: of 9 held searches exactly the 4 extra get 503 with Retry-After; the 5 others succeed after release', async () => {
    const hold = holdingSearcher(2);
    const service: Service = createService(db, {
      logger,
      actor: 'tester',
      shadow: false,
      wrapSearcher: hold.wrap,
      // A wait that never runs out here: only the queue bound refuses.
      admission: { limit: 2, queue: 3, waitMs: 600_000, retryAfterSeconds: 3 },
    });
    const { port } = await service.listen(0);
    try {
      // 2 run (held), 3 wait.
      const admitted = Array.from({ length: 5 }, (_, i) => search(port, `tent ${i}`));
      await until(() => service.admission.stats().running === 2 && service.admission.stats().queued === 3);
      assert.equal(hold.state.started, 2, 'only the limit reaches the searcher');

      // 4 more: the queue is full, each is refused at once (awaited while the others are still held;
      // were the queue unbounded they would wait there: that fails the test instead of hanging it).
      let answered = false;
      const extra = await Promise.race([
        Promise.all(Array.from({ length: 4 }, () => search(port))).finally(() => (answered = true)),
        until(() => answered || service.admission.stats().queued > 3).then(() => {
          if (!answered) throw new Error(`the queue went past its bound: ${service.admission.stats().queued} waiting`);
          return [];
        }),
      ]);
      assert.equal(extra.length, 4);
      for (const r of extra) {
        assert.equal(r.status, 503, r.body);
        assert.equal(r.headers['retry-after'], '3');
        assert.equal(errorOf(r)?.code, 'overloaded');
        assert.match(errorOf(r)!.message, /overloaded \(2 requests are running and 3 waiting\): try again in 3 s/);
      }
      let stats = service.admission.stats();
      assert.deepEqual(
        { running: stats.running, queued: stats.queued, rejected: stats.rejected },
        { running: 2, queued: 3, rejected: { queue_full: 4, wait_timeout: 0 } },
      );

      // /healthz and /metrics do not wait behind the held searches.
      const health = await rawRequest(port, 'GET', '/healthz');
      assert.equal(health.status, 200, health.body);
      const metrics = await rawRequest(port, 'GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^embctl_http_overload_rejections_total\{reason="queue_full"\} 4$/m);
      assert.match(metrics.body, /^embctl_http_overload_rejections_total\{reason="wait_timeout"\} 0$/m);
      assert.match(metrics.body, /^embctl_http_admission_queue_depth 3$/m);
      assert.match(metrics.body, /^embctl_http_admitted_in_flight 2$/m);
      assert.match(metrics.body, /^embctl_http_requests_total\{route="search",status="503"\} 4$/m);

      hold.release();
      const done = await Promise.all(admitted);
      for (const r of done) {
        assert.equal(r.status, 200, r.body);
        assert.equal((JSON.parse(r.body) as { version: string }).version, 'v1');
      }
      stats = service.admission.stats();
      assert.equal(stats.maxQueued, 3, 'the queue reached its bound and never went past it');
      assert.equal(hold.state.maxRunning, 2, 'never more than the limit searched at once');
      assert.equal(hold.state.started, 5);
      assert.deepEqual({ running: stats.running, queued: stats.queued }, { running: 0, queued: 0 });
      // Slots are free again: a new search runs.
      assert.equal((await search(port)).status, 200);
    } finally {
      hold.release();
      await service.close();
    }
  });

  test('a wait that runs out is 503 with Retry-After (wait_timeout), and its place in the queue is freed', async () => {
    const hold = holdingSearcher(1);
    const service = createService(db, {
      logger,
      actor: 'tester',
      shadow: false,
      wrapSearcher: hold.wrap,
      // The held search never ends before release, so a 1 ms wait always runs out.
      admission: { limit: 1, queue: 1, waitMs: 1, retryAfterSeconds: 2 },
    });
    const { port } = await service.listen(0);
    try {
      const first = search(port);
      await until(() => service.admission.stats().running === 1);
      const waited = await search(port);
      assert.equal(waited.status, 503, waited.body);
      assert.equal(waited.headers['retry-after'], '2');
      assert.equal(errorOf(waited)?.code, 'overloaded');
      assert.match(errorOf(waited)!.message, /no slot came free within 1 ms/);
      assert.deepEqual(service.admission.stats().rejected, { queue_full: 0, wait_timeout: 1 });
      assert.equal(service.admission.stats().queued, 0);
      // /v1/versions waits for the same slots.
      const versions = await rawRequest(port, 'GET', '/v1/versions');
      assert.equal(versions.status, 503);
      assert.equal(service.admission.stats().rejected.wait_timeout, 2);
      hold.release();
      assert.equal((await first).status, 200);
      assert.equal(hold.state.maxRunning, 1);
      assert.equal((await rawRequest(port, 'GET', '/v1/versions')).status, 200);
    } finally {
      hold.release();
      await service.close();
    }
  });
});

describe('overload: the Admission queue on its own', () => {
  test('first come, first served; a released slot passes to the next in line; release is safe twice', async () => {
    const a = new Admission({ limit: 1, queue: 2, waitMs: 600_000 });
    const r1 = await a.acquire();
    const order: number[] = [];
    const p2 = a.acquire().then((r) => (order.push(2), r));
    const p3 = a.acquire().then((r) => (order.push(3), r));
    await assert.rejects(a.acquire(), (e: unknown) => e instanceof HttpError && e.status === 503);
    assert.deepEqual(
      { running: a.stats().running, queued: a.stats().queued, maxQueued: a.stats().maxQueued },
      { running: 1, queued: 2, maxQueued: 2 },
    );
    r1();
    r1(); // a second release must not free another slot
    const r2: Release = await p2;
    assert.deepEqual(order, [2]);
    assert.deepEqual({ running: a.stats().running, queued: a.stats().queued }, { running: 1, queued: 1 });
    r2();
    const r3 = await p3;
    assert.deepEqual(order, [2, 3]);
    r3();
    assert.deepEqual({ running: a.stats().running, queued: a.stats().queued }, { running: 0, queued: 0 });
    assert.deepEqual(a.stats().rejected, { queue_full: 1, wait_timeout: 0 });
  });

  test('queue 0 refuses whatever finds the slots taken; bad settings are refused', async () => {
    const a = new Admission({ limit: 2, queue: 0, waitMs: 1000 });
    const held = [await a.acquire(), await a.acquire()];
    await assert.rejects(a.acquire(), /overloaded/);
    held.forEach((r) => r());
    assert.equal(a.stats().running, 0);
    assert.throws(() => new Admission({ limit: 0, queue: 1, waitMs: 1 }), RangeError);
    assert.throws(() => new Admission({ limit: 1, queue: -1, waitMs: 1 }), RangeError);
    assert.throws(() => new Admission({ limit: 1, queue: 1, waitMs: 0 }), RangeError);
  });

  test('defaults derive from the pool size: two connections kept back, four waiting per slot, 5 s', () => {
    assert.deepEqual(admissionOptions(10), { limit: 8, queue: 32, waitMs: 5000, retryAfterSeconds: 1 });
    assert.deepEqual(admissionOptions(2), { limit: 1, queue: 4, waitMs: 5000, retryAfterSeconds: 1 });
    assert.deepEqual(admissionOptions(10, { limit: 3 }), { limit: 3, queue: 12, waitMs: 5000, retryAfterSeconds: 1 });
    assert.deepEqual(admissionOptions(10, { queue: 0, waitMs: 250 }), {
      limit: 8,
      queue: 0,
      waitMs: 250,
      retryAfterSeconds: 1,
    });
  });
});

describe('overload: the serve flags', () => {
  test('--max-in-flight, --max-queue and --queue-wait-ms reach the service; without them the limits follow EMBCTL_POOL_SIZE; a bad value exits 2', async () => {
    const target = await freshTarget();
    try {
      const env = { ...targetEnv(target), EMBCTL_POOL_SIZE: '6' };
      const migrated = await runCli(['migrate'], { env });
      assert.equal(migrated.code, 0, migrated.stderr);
      const limits = async (args: string[]) => {
        const serve = await startServe(env, args);
        try {
          const text = await (await fetch(`${serve.base}/metrics`)).text();
          const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
          return {
            limit: read('embctl_http_admitted_in_flight_limit'),
            queue: read('embctl_http_admission_queue_limit'),
          };
        } finally {
          await serve.stop();
        }
      };
      assert.deepEqual(await limits(['--max-in-flight', '3', '--max-queue', '5', '--queue-wait-ms', '250']), {
        limit: 3,
        queue: 5,
      });
      assert.deepEqual(await limits([]), { limit: 4, queue: 16 }, 'pool 6: two kept back, four waiting per slot');
      const bad = await runCli(['serve', '--port', '0', '--max-queue', '-1'], { env });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--max-queue.*expected a whole number from 0 to 100000, got "-1"/);
    } finally {
      await target.destroy();
    }
  });
});
