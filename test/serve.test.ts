import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, type TestDb } from './support/db.js';
import { writeCorpus } from './support/corpus.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate } from '../src/lifecycle/index.js';
import { createSearcher } from '../src/search/index.js';
import { startShadow, stopShadow } from '../src/shadow/config.js';
import { createService, type Service } from '../src/serve/server.js';
import { requireVersion } from '../src/versions/store.js';
import { silentLogger } from '../src/log/logger.js';

const logger = silentLogger();
const TOKEN = 'test-admin-token-0123456789';
let db: TestDb;
let service: Service;
let base: string;
const QUERIES = [
  'tent stove lantern',
  'warranty refund invoice',
  'camera lens tripod',
  'firmware update error reset',
  'kayak paddle river',
  'privacy policy return',
  'bluetooth speaker headphone',
  'trail summit ridge',
];

/** Record a passing gated evaluation so that activation is allowed. */
async function passGate(key: string): Promise<void> {
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

before(async () => {
  db = await freshDb();
  await ingest(db, [writeCorpus(400, { seed: 5 })], {}, { logger });
  for (const [key, encoder] of [
    ['v1', 'hash:words-256'],
    ['v2', 'hash:mixed-384'],
  ] as const) {
    await registerVersion(db, { key, encoder }, { actor: 'tester', logger, env: {} });
    await runBackfill(db, key, {}, { actor: 'tester', logger });
    await passGate(key);
  }
  await activate(db, 'v1', { actor: 'tester' });
  service = createService(db, { logger, actor: 'tester', token: TOKEN });
  const { port } = await service.listen(0);
  base = `http://127.0.0.1:${port}`;
});
after(async () => {
  await service?.close();
  await db?.destroy();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('HTTP service', () => {
  test('POST /v1/search serves the active version, or the one asked for', async () => {
    const r = await post('/v1/search', { query: 'tent stove', k: 5 });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { version: string; hits: { chunkId: number; score: number }[] };
    assert.equal(body.version, 'v1');
    assert.equal(body.hits.length, 5);
    const r2 = (await (await post('/v1/search', { query: 'tent stove', k: 5, version: 'v2' })).json()) as {
      version: string;
    };
    assert.equal(r2.version, 'v2');
    const f = (await (await post('/v1/search', { query: 'tent', k: 3, filters: { segment: 'support' } })).json()) as {
      hits: { metadata: { segment: string } }[];
    };
    assert.ok(f.hits.length === 3 && f.hits.every((h) => h.metadata.segment === 'support'));
  });

  test('bad requests are JSON errors with status codes', async () => {
    const cases: [unknown, number, RegExp][] = [
      ['{not json', 400, /not valid JSON/],
      [{ query: '' }, 400, /query: must not be empty/],
      [{ query: 'x', k: 0 }, 400, /k:/],
      [{ query: 'x', nope: 1 }, 400, /nope|Unrecognized/i],
      [{ query: 'x', version: 'ghost' }, 404, /no version "ghost"/],
      [{ query: 'x'.repeat(70_000) }, 413, /over 65536 bytes/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await post('/v1/search', body);
      assert.equal(r.status, status, JSON.stringify(body).slice(0, 40));
      const j = (await r.json()) as { error: { message: string } };
      assert.match(j.error.message, msg);
    }
    assert.equal((await fetch(base + '/nope')).status, 404);
  });

  test('admin endpoints need the bearer token; activate and rollback flip the version', async () => {
    assert.equal((await post('/v1/versions/v2/activate', {})).status, 401);
    assert.equal((await post('/v1/versions/v2/activate', {}, { authorization: 'Bearer wrong' })).status, 401);
    const ok = await post('/v1/versions/v2/activate', { reason: 'http test' }, { authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.equal(((await (await post('/v1/search', { query: 'tent' })).json()) as { version: string }).version, 'v2');
    const rb = await post('/v1/rollback', {}, { authorization: `Bearer ${TOKEN}` });
    const rbBody = await rb.clone().text();
    assert.equal(rb.status, 200, rbBody);
    assert.equal(
      ((await (await post('/v1/search', { query: 'tent' })).json()) as { version: string }).version,
      'v1',
      rbBody,
    );
    // A refused activation is 409 with the reason.
    await registerVersion(db, { key: 'empty', encoder: 'hash:words-32' }, { actor: 'tester', logger, env: {} });
    const refused = await post('/v1/versions/empty/activate', {}, { authorization: `Bearer ${TOKEN}` });
    assert.equal(refused.status, 409);
  });

  test('admin endpoints are refused when no token is configured', async () => {
    const open = createService(db, { logger, actor: 't' });
    const { port } = await open.listen(0);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/versions/v2/activate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(r.status, 403);
      assert.match(((await r.json()) as { error: { message: string } }).error.message, /EMBCTL_SERVE_TOKEN/);
      const refusedBody = (await (
        await post('/v1/versions/empty/activate', {}, { authorization: `Bearer ${TOKEN}` })
      ).json()) as { error: { code: string } };
      assert.equal(refusedBody.error.code, 'refused');
    } finally {
      await open.close();
    }
  });

  test('healthz, versions and Prometheus metrics', async () => {
    const h = (await (await fetch(base + '/healthz')).json()) as { status: string; serving: string };
    assert.equal(h.status, 'ok');
    assert.equal(h.serving, 'v1');
    const v = (await (await fetch(base + '/v1/versions')).json()) as { versions: { key: string }[] };
    assert.ok(v.versions.some((x) => x.key === 'v2'));
    const m = await (await fetch(base + '/metrics')).text();
    assert.match(m, /embctl_search_requests_total\{version="v1"\} \d+/);
    assert.match(m, /embctl_search_duration_seconds_bucket\{version="v1",le="0.5"\} \d+/);
    assert.match(m, /embctl_active_version\{version="v1"\} 1/);
    assert.match(m, /embctl_shadow_queue_depth/);
    assert.match(m, /embctl_http_requests_total\{route="search",status="400"\} \d+/);
  });

  test('shadowing at 100% never changes the primary results', async () => {
    const searcher = createSearcher(db, {});
    const expected = new Map<string, number[]>();
    for (const q of QUERIES)
      expected.set(
        q,
        (await searcher.search({ query: q, version: 'v1', k: 10 })).hits.map((h) => h.chunkId),
      );
    await searcher.close();
    await startShadow(db, { key: 'v2', sampleRate: 1 }, { actor: 'tester' });
    await service.shadower!.refresh();
    const before = service.shadower!.stats().completed;
    for (let round = 0; round < 3; round++) {
      for (const q of QUERIES) {
        const body = (await (await post('/v1/search', { query: q, k: 10, segment: 'test' })).json()) as {
          version: string;
          hits: { chunkId: number }[];
        };
        assert.equal(body.version, 'v1');
        assert.deepEqual(
          body.hits.map((h) => h.chunkId),
          expected.get(q),
        );
      }
    }
    for (let i = 0; i < 100 && service.shadower!.stats().completed < before + QUERIES.length * 3; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(service.shadower!.stats().completed, before + QUERIES.length * 3);
    const logged = await sql<{ n: number }>`select count(*) as n from shadow_queries where segment = 'test'`.execute(
      db.kysely,
    );
    assert.equal(Number(logged.rows[0]!.n), QUERIES.length * 3);
    await stopShadow(db, {}, { actor: 'tester' });
    await service.shadower!.refresh();
  });

  test('while the active version flips 100 times, every response comes from exactly the version it reports', async () => {
    const searcher = createSearcher(db, {});
    const expected = new Map<string, number[]>();
    for (const v of ['v1', 'v2'])
      for (const q of QUERIES)
        expected.set(
          `${v}|${q}`,
          (await searcher.search({ query: q, version: v, k: 10 })).hits.map((h) => h.chunkId),
        );
    await searcher.close();
    const differ = QUERIES.filter(
      (q) => JSON.stringify(expected.get(`v1|${q}`)) !== JSON.stringify(expected.get(`v2|${q}`)),
    );
    assert.ok(
      differ.length >= QUERIES.length / 2,
      'the versions must rank differently, or the check below proves nothing',
    );
    let flips = 0;
    let done = false;
    const flipper = (async () => {
      for (; flips < 100; flips++) {
        await activate(db, flips % 2 === 0 ? 'v2' : 'v1', { actor: 'flipper' });
        await new Promise((r) => setTimeout(r, 15));
      }
      done = true;
    })();
    const seen = { v1: 0, v2: 0, requests: 0 };
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; !done || seen.requests < 2000; i++) {
        const q = QUERIES[(i + c) % QUERIES.length]!;
        const r = await post('/v1/search', { query: q, k: 10 });
        assert.equal(r.status, 200);
        const body = (await r.json()) as { version: 'v1' | 'v2'; hits: { chunkId: number }[] };
        assert.deepEqual(
          body.hits.map((h) => h.chunkId),
          expected.get(`${body.version}|${q}`),
          `response claims ${body.version} but holds other results`,
        );
        seen[body.version]++;
        seen.requests++;
      }
    });
    await Promise.all([flipper, ...clients]);
    assert.equal(flips, 100);
    assert.ok(seen.requests >= 2000, `only ${seen.requests} searches`);
    assert.ok(seen.v1 > 0 && seen.v2 > 0, JSON.stringify(seen));
  });

  test('shutdown drains in-flight requests', async () => {
    const svc = createService(db, { logger, actor: 't' });
    const { port } = await svc.listen(0);
    const started = new Promise<void>((resolve) => svc.server.once('request', () => resolve()));
    const pending = fetch(`http://127.0.0.1:${port}/v1/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'tent stove', k: 20 }),
    });
    await started; // the request is being handled: close must let it finish
    assert.equal(svc.inFlight(), 1);
    const closing = svc.close();
    const r = await pending;
    assert.equal(r.status, 200);
    await closing;
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });
});
