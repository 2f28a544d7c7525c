import { test, before, after, describe } from 'node:test';
import http from 'node:http';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, freshTarget, ON_SERVER, type TestDb, type TestDbTarget } from './support/db.js';
import { writeCorpus } from './support/corpus.js';
import { rawRequest, rawSocket } from './support/raw-http.js';
import { runCli, targetEnv } from './support/cli.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate, retire } from '../src/lifecycle/index.js';
import { createService, KEEP_ALIVE_HINT, type Service } from '../src/serve/server.js';
import { primaryFromConninfo, standbyInfo } from '../src/serve/standby.js';
import { silentLogger } from '../src/log/logger.js';

// The HTTP service's answers to what a client can send, and to a database
// that cannot take a write (issue 11, items 4 and 5). Both backends.

const logger = silentLogger();
const TOKEN = 'http-test-token-0123456789';
let db: TestDb;
let service: Service;
let port: number;

const json = (r: { body: string }) =>
  JSON.parse(r.body) as {
    error?: { code: string; message: string };
    status?: string;
    serving?: string | null;
    version?: string;
  };
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

before(async () => {
  db = await freshDb();
  await ingest(db, [writeCorpus(150, { seed: 8 })], {}, { logger });
  for (const [key, encoder] of [
    ['v1', 'hash:words-256'],
    ['v2', 'hash:words-32'],
  ] as const) {
    await registerVersion(db, { key, encoder }, { actor: 'tester', logger, env: {} });
    await runBackfill(db, key, {}, { actor: 'tester', logger });
  }
  await registerVersion(db, { key: 'empty', encoder: 'hash:mixed-384' }, { actor: 'tester', logger, env: {} });
  await activate(db, 'v1', { actor: 'tester', force: true, reason: 'test' });
  service = createService(db, { logger, actor: 'tester', token: TOKEN });
  port = (await service.listen(0)).port;
});
after(async () => {
  await service?.close();
  await db?.destroy();
});

describe('HTTP: methods, paths and statuses', () => {
  test('a wrong method is 405 with Allow; OPTIONS answers Allow; HEAD /healthz works', async () => {
    for (const [method, path, allow] of [
      ['GET', '/v1/search', 'POST, OPTIONS'],
      ['PUT', '/v1/search', 'POST, OPTIONS'],
      ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/v1/versions', 'GET, HEAD, OPTIONS'],
      ['GET', '/v1/versions/v1/activate', 'POST, OPTIONS'],
      ['PATCH', '/metrics', 'GET, HEAD, OPTIONS'],
      ['GET', '/v1/rollback', 'POST, OPTIONS'],
    ] as const) {
      const r = await rawRequest(port, method, path);
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, allow, `${method} ${path}`);
      assert.equal(json(r).error?.code, 'method_not_allowed');
    }
    const o = await rawRequest(port, 'OPTIONS', '/v1/search');
    assert.equal(o.status, 204);
    assert.equal(o.headers.allow, 'POST, OPTIONS');
    const h = await rawRequest(port, 'HEAD', '/healthz');
    assert.equal(h.status, 200);
    assert.equal(h.body, '');
    assert.match(String(h.headers['content-type']), /application\/json/);
    assert.equal((await rawRequest(port, 'GET', '/nowhere')).status, 404);
  });

  test('a malformed percent-escape is 400, before the token is checked', async () => {
    for (const path of ['/v1/versions/%zz/activate', '/v1/versions/%E0%A4%A/rollback', '/v1/%/search', '/nowhere/%']) {
      const r = await rawRequest(port, 'POST', path); // no token
      assert.equal(r.status, 400, path);
      assert.equal(json(r).error?.code, 'bad_path');
      assert.match(json(r).error!.message, /malformed percent-escape/);
    }
    const absolute = await rawSocket(port, 'GET http://[bad/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(absolute.status, 400, absolute.text);
    const ok = await rawSocket(
      port,
      `GET http://127.0.0.1:${port}/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(ok.status, 200, ok.text);
  });

  test('an unknown version is 404 without a command to run; an invalid key says it is invalid', async () => {
    const r = await rawRequest(
      port,
      'POST',
      '/v1/search',
      { 'content-type': 'application/json' },
      JSON.stringify({ query: 'x', version: 'v9' }),
    );
    assert.equal(r.status, 404);
    assert.equal(json(r).error?.message, 'no version "v9" (known: v1, v2, empty)');
    const bad = await rawRequest(
      port,
      'POST',
      '/v1/search',
      { 'content-type': 'application/json' },
      JSON.stringify({ query: 'x', version: "bad key'\u0000" }),
    );
    assert.equal(bad.status, 404);
    assert.doesNotMatch(json(bad).error!.message, /embctl|register/);
    assert.match(json(bad).error!.message, /not a valid version key/);
    const admin = await rawRequest(port, 'POST', '/v1/versions/v9/activate', auth, '{}');
    assert.equal(admin.status, 404);
    assert.doesNotMatch(json(admin).error!.message, /embctl versions register/);
  });

  test('values the database cannot take are 400, not 500', async () => {
    for (const body of [
      { query: 'tent\u0000stove', hybrid: true },
      { query: 'tent', filters: { 'seg\u0000ment': 'x' } },
      { query: 'tent', filters: { segment: 'a\ud800b' } },
    ]) {
      const r = await rawRequest(
        port,
        'POST',
        '/v1/search',
        { 'content-type': 'application/json' },
        JSON.stringify(body),
      );
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    }
  });

  test('a version without vectors is 409 saying it is not backfilled', async () => {
    const r = await rawRequest(
      port,
      'POST',
      '/v1/search',
      { 'content-type': 'application/json' },
      JSON.stringify({ query: 'tent', version: 'empty' }),
    );
    assert.equal(r.status, 409);
    assert.match(json(r).error!.message, /version empty has no vectors yet \(it is not backfilled\)/);
  });
});

describe('HTTP: keep-alive', () => {
  test('responses advertise a 5 s idle time and the server keeps an idle connection far longer: a client that honours the hint never races its close', async () => {
    assert.ok(service.server.keepAliveTimeout >= 60_000, `keepAliveTimeout ${service.server.keepAliveTimeout}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status?: number; keepAlive?: string; connection?: string; reused: boolean }>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode,
              keepAlive: String(res.headers['keep-alive']),
              connection: res.headers.connection,
              reused: req.reusedSocket,
            }),
          );
        });
        req.on('error', reject);
      });
    try {
      const first = await get();
      assert.deepEqual(first, { status: 200, keepAlive: KEEP_ALIVE_HINT, connection: 'keep-alive', reused: false });
      // Longer than node's default keepAliveTimeout (5 s), which would have closed it by now.
      await new Promise((r) => setTimeout(r, 6_000));
      const second = await get();
      assert.equal(second.status, 200);
      assert.equal(second.reused, true, 'the idle connection was still open and was reused');
    } finally {
      agent.destroy();
    }
  });
});

describe('HTTP: writes where the database cannot take them', () => {
  test('a flip on a hot standby is 409 naming the primary (the standby is faked: no replica here)', async () => {
    for (const [primary, named] of [
      ['10.0.0.5:5432', /the primary at 10\.0\.0\.5:5432/],
      [null, /the primary \(this server could not see its address\)/],
    ] as const) {
      const svc = createService(db, {
        logger,
        actor: 't',
        token: TOKEN,
        shadow: false,
        standbyInfo: async () => ({ standby: true, primary }),
      });
      const p = (await svc.listen(0)).port;
      try {
        for (const path of ['/v1/versions/v2/activate', '/v1/rollback', '/v1/versions/v1/rollback']) {
          const r = await rawRequest(p, 'POST', path, auth, '{}');
          assert.equal(r.status, 409, `${path}: ${r.body}`);
          assert.equal(json(r).error?.code, 'read_only_standby');
          assert.match(json(r).error!.message, named);
        }
        // Reads still work on a standby.
        assert.equal(
          (await rawRequest(p, 'POST', '/v1/search', { 'content-type': 'application/json' }, '{"query":"tent"}'))
            .status,
          200,
        );
      } finally {
        await svc.close();
      }
    }
    assert.deepEqual(
      await standbyInfo(db.kysely),
      { standby: false, primary: null },
      'this test database is a primary',
    );
    assert.equal(
      primaryFromConninfo("user=rep password='x y' host=db1.internal port=5433 sslmode=prefer"),
      'db1.internal:5433',
    );
    assert.equal(primaryFromConninfo("host='my host' application_name=walreceiver"), 'my host');
    assert.equal(primaryFromConninfo('dbname=x'), null);
  });

  test('a flip on a read-only database is 409, not 500', async () => {
    // What a standby does to a write, on a primary: default_transaction_read_only.
    let ro: Db;
    if (ON_SERVER) {
      await sql
        .raw(`alter database ${new URL(db.url!).pathname.slice(1)} set default_transaction_read_only = on`)
        .execute(db.kysely);
      ro = await openDatabase({ databaseUrl: db.url, homeDir: db.homeDir, logger, poolSize: 2 });
    } else {
      ro = db; // one session: set it there, and back after
      await sql`set default_transaction_read_only = on`.execute(db.kysely);
    }
    const svc = createService(ro, { logger, actor: 't', token: TOKEN, shadow: false });
    const p = (await svc.listen(0)).port;
    try {
      const r = await rawRequest(p, 'POST', '/v1/versions/v2/activate', auth, '{"force":true,"reason":"x"}');
      assert.equal(r.status, 409, r.body);
      assert.equal(json(r).error?.code, 'read_only');
      assert.match(json(r).error!.message, /send activate and rollback to the primary/);
    } finally {
      await svc.close();
      if (ON_SERVER) {
        await ro.close();
        await sql
          .raw(`alter database ${new URL(db.url!).pathname.slice(1)} reset default_transaction_read_only`)
          .execute(db.kysely);
      } else {
        await sql`set default_transaction_read_only = off`.execute(db.kysely);
      }
    }
  });
});

describe('/healthz tells whether searches can be served', () => {
  test('no active version, or a pinned version retired while serving: 503 saying so', async () => {
    const t = await freshDb();
    try {
      await ingest(t, [writeCorpus(30, { seed: 1 })], {}, { logger });
      const svc = createService(t, { logger, actor: 't', shadow: false });
      const p = (await svc.listen(0)).port;
      const none = await rawRequest(p, 'GET', '/healthz');
      assert.equal(none.status, 503);
      assert.equal(json(none).status, 'no_serving_version');
      await svc.close();

      await registerVersion(t, { key: 'p1', encoder: 'hash:words-32' }, { actor: 'tester', logger, env: {} });
      await runBackfill(t, 'p1', {}, { actor: 'tester', logger });
      const pinned = createService(t, { logger, actor: 't', shadow: false, pinVersion: 'p1' });
      const q = (await pinned.listen(0)).port;
      try {
        const h = await rawRequest(q, 'GET', '/healthz');
        assert.equal(h.status, 200, h.body);
        assert.equal(json(h).serving, 'p1');
        await retire(t, 'p1', { actor: 'tester' });
        const gone = await rawRequest(q, 'GET', '/healthz');
        assert.equal(gone.status, 503, gone.body);
        assert.equal(json(gone).status, 'no_serving_version');
        assert.match(JSON.stringify(json(gone)), /EMBCTL_PIN_VERSION=p1 names a retired version/);
      } finally {
        await pinned.close();
      }
    } finally {
      await t.destroy();
    }
  });
});

describe('embctl serve with a mistyped EMBCTL_PIN_VERSION', () => {
  let target: TestDbTarget;
  before(async () => {
    target = await freshTarget();
    const env = targetEnv(target);
    for (const args of [
      ['migrate'],
      ['ingest', writeCorpus(30, { seed: 6 })],
      ['versions', 'register', 'v1', '--encoder', 'hash:words-32'],
      ['versions', 'register', 'old', '--encoder', 'hash:words-32'],
      ['retire', 'old', '--yes'],
    ]) {
      const r = await runCli(args, { env, timeoutMs: 600_000 });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
  });
  after(async () => {
    await target?.destroy();
  });

  test('refuses to start, in one line naming the versions that can serve', async () => {
    const typo = await runCli(['serve', '--port', '0'], {
      env: { ...targetEnv(target), EMBCTL_PIN_VERSION: "bad key'" },
    });
    assert.equal(typo.code, 2, typo.stderr);
    assert.deepEqual(
      typo.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('{')),
      [
        "embctl: EMBCTL_PIN_VERSION=bad key' names no version; versions that can serve: v1: fix the pin or unset EMBCTL_PIN_VERSION",
      ],
    );
    const retired = await runCli(['serve', '--port', '0'], {
      env: { ...targetEnv(target), EMBCTL_PIN_VERSION: 'old' },
    });
    assert.equal(retired.code, 1, retired.stderr);
    assert.match(
      retired.stderr,
      /^embctl: EMBCTL_PIN_VERSION=old names a retired version \(its vectors were dropped\); versions that can serve: v1: pin one of them or unset EMBCTL_PIN_VERSION$/m,
    );
  });
});
