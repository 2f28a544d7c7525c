import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, type TestDb } from './support/db.js';
import { writeCorpus } from './support/corpus.js';
import { rawRequest, rawSocket } from './support/raw-http.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate } from '../src/lifecycle/index.js';
import { createService, type Service } from '../src/serve/server.js';
import { silentLogger } from '../src/log/logger.js';

// Random requests against the HTTP service: methods, paths (escapes good
// and bad), headers, bodies (JSON of every shape, and not JSON). No route
// may answer 500 to anything a client can send, and every request gets an
// answer. The PRNG is seeded: EMBCTL_FUZZ_SEED=<n> replays a run, and a
// failure names the request number.

const SEED = Number(process.env.EMBCTL_FUZZ_SEED ?? 20261130);
const REQUESTS = Number(process.env.EMBCTL_FUZZ_REQUESTS ?? 1500);
const TOKEN = 'fuzz-token-0123456789abcdef';
const logger = silentLogger();
let db: TestDb;
let service: Service;
let port: number;

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Percent-escape the UTF-8 bytes of characters (all, or those matching `only`); lone surrogates become U+FFFD's bytes. */
function escapeBytes(s: string, only?: RegExp): string {
  let out = '';
  for (const c of s) {
    if (only && !only.test(c)) out += c;
    else for (const b of Buffer.from(c, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  raw?: string;
}

function generator(rnd: () => number) {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const chance = (p: number) => rnd() < p;

  const CHARS = [
    'a',
    'Z',
    '0',
    '-',
    '_',
    '.',
    '~',
    ' ',
    '"',
    "'",
    '\\',
    '/',
    '\u0000',
    '\u0007',
    'é',
    '漢',
    '😀',
    '\ud800',
    '\udfff',
    '\n',
    '%',
    '{',
    '}',
    '<',
    '>',
    '$',
    '*',
  ];
  const text = (max: number): string => Array.from({ length: int(max + 1) }, () => pick(CHARS)).join('');
  const segment = (): string =>
    pick([
      () => pick(['v1', 'v2', 'empty', 'nope', 'v1.2-x', '.', '..', '', 'A'.repeat(64)]),
      () => escapeBytes(text(12)),
      () => pick(['%', '%zz', '%E0%A4%A', '%00', '%2F', '%25', '%C0%AF', '%ED%A0%80', '%FF']),
      () => 'x'.repeat(int(3000)),
    ])();
  const path = (): string => {
    const base = pick([
      '/v1/search',
      '/v1/versions',
      '/v1/rollback',
      '/healthz',
      '/metrics',
      '/',
      '/v1',
      '/v1/',
      '/v1/search/',
      '//v1/search',
      `/v1/versions/${segment()}/activate`,
      `/v1/versions/${segment()}/rollback`,
      `/v1/versions/${segment()}`,
      `/${segment()}/${segment()}`,
      `/v1/versions/${segment()}/${pick(['activate', 'rollback', 'x'])}/extra`,
    ]);
    const query = chance(0.2)
      ? `?${pick(['k=5', 'version=v2', '%zz', 'a=%', '=&&=', text(5).replace(/[^\x21-\x7e]/g, '')])}`
      : '';
    return base + query;
  };
  const json = (depth: number): unknown => {
    if (depth > 4 || chance(0.35)) {
      return pick([
        () => null,
        () => true,
        () => false,
        () => 0,
        () => -1,
        () => 1.5,
        () => 1e308,
        () => -1e-300,
        () => 2 ** 53 + 1,
        () => text(20),
        () => '',
        () => 'tent stove lantern',
        () => 'x'.repeat(int(20_000)),
      ])();
    }
    if (chance(0.5)) return Array.from({ length: int(5) }, () => json(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = int(5); i > 0; i--)
      o[
        pick([
          'query',
          'k',
          'filters',
          'version',
          'hybrid',
          'segment',
          'minScore',
          'efSearch',
          'probes',
          'reason',
          'force',
          'to',
          '__proto__',
          'constructor',
          text(6),
        ])
      ] = json(depth + 1);
    return o;
  };
  const deep = (levels: number, open: string, close: string) => `${open.repeat(levels)}1${close.repeat(levels)}`;
  const searchBody = (): unknown => {
    const b: Record<string, unknown> = {
      query: pick([() => 'tent stove', () => text(30), () => '', () => ' ', () => json(3), () => 'x'.repeat(10_001)])(),
    };
    if (chance(0.5)) b.k = pick([5, 0, -3, 1000, 1001, 2.5, '5', null, 1e9, [5]]);
    if (chance(0.3)) b.version = pick(['v1', 'v2', 'empty', 'nope', "bad key'", '\u0000', '', 'v1\ud800', 5]);
    if (chance(0.3))
      b.filters = pick([
        () => ({ segment: 'support' }),
        () => ({ [text(5)]: text(5) }),
        () => json(2),
        () => ({ a: { b: [1, { c: null }] } }),
        () => [],
      ])();
    if (chance(0.3)) b.hybrid = pick([true, false, 'yes', 1]);
    if (chance(0.2)) b.efSearch = pick([1, 40, 0, 1000, 1001, 3.3, -1]);
    if (chance(0.2)) b.probes = pick([1, 10, 0, 40000]);
    if (chance(0.2)) b.minScore = pick([0, 0.5, 1, 1.1, -0.1, 'x']);
    if (chance(0.2)) b.segment = pick(['support', text(10), 'x'.repeat(300), 3]);
    if (chance(0.1)) b[text(4)] = json(1);
    return b;
  };
  const body = (): string | Buffer | undefined =>
    pick<() => string | Buffer | undefined>([
      () => undefined,
      () => '',
      () => JSON.stringify(searchBody()),
      () => JSON.stringify(searchBody()),
      () => JSON.stringify(searchBody()),
      () => JSON.stringify(json(0)),
      () => JSON.stringify({ reason: text(10), force: pick([true, false, 'x']), to: pick(['v1', 'v2', 'nope', 3]) }),
      () => deep(1 + int(30_000), '[', ']'),
      () => deep(1 + int(20_000), '{"a":', '}'),
      () => '{not json',
      () => '{"query":"tent"',
      () => '\ufeff{"query":"tent"}',
      () => 'null',
      () => '"string"',
      () => '[]',
      () => Buffer.from(Array.from({ length: int(200) }, () => int(256))),
      () => JSON.stringify({ query: 'tent' }) + 'x'.repeat(int(70_000)),
    ])();
  return (): Req => {
    if (chance(0.03)) {
      const line = pick([
        'GET http://[bad/healthz HTTP/1.1',
        'GET * HTTP/1.1',
        'GET /healthz HTTP/1.0',
        'POST /v1/search HTTP/1.1',
        'GET /%zz HTTP/1.1',
        'BREW /healthz HTTP/1.1',
      ]);
      return {
        method: 'RAW',
        path: line,
        headers: {},
        raw: `${line}\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      };
    }
    // Most requests aim at the routes with well-formed framing, so the handlers, not the router, get fuzzed.
    const aim = rnd();
    if (aim < 0.4) {
      return {
        method: 'POST',
        path: pick(['/v1/search', '/v1/search', '/v1/search?k=3']),
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(searchBody()),
      };
    }
    if (aim < 0.55) {
      const admin = pick([
        `/v1/versions/${pick(['v1', 'v2', 'empty', 'nope', segment()])}/${pick(['activate', 'rollback'])}`,
        '/v1/rollback',
      ]);
      const b = pick([
        () => ({}),
        () => ({ force: true, reason: text(8) || 'r' }),
        () => ({ to: pick(['v1', 'v2', 'nope', '', 7]) }),
        () => json(1),
        () => ({ reason: 'x'.repeat(int(1500)) }),
      ])();
      return {
        method: 'POST',
        path: admin,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(b),
      };
    }
    const headers: Record<string, string> = {};
    const ct = pick([
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'text/plain',
      'application/jsonx',
      'application/x-www-form-urlencoded',
      '',
      '*/*',
      'application/json; charset=utf-16',
      undefined,
    ]);
    if (ct !== undefined) headers['content-type'] = ct;
    const a = pick([
      undefined,
      `Bearer ${TOKEN}`,
      `Bearer ${TOKEN}`,
      'Bearer wrong',
      'Basic Zm9vOmJhcg==',
      'Bearer',
      `bearer   ${TOKEN}  `,
      'x'.repeat(500),
    ]);
    if (a !== undefined) headers.authorization = a;
    if (chance(0.2))
      headers[pick(['x-request-id', 'accept', 'accept-encoding', 'x-forwarded-for', 'cookie'])] = text(20).replace(
        /[^\x20-\x7e]/g,
        '',
      );
    return {
      method: pick([
        'GET',
        'GET',
        'POST',
        'POST',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'HEAD',
        'OPTIONS',
        'BREW',
        'PROPFIND',
      ]),
      path: path(),
      headers,
      body: body(),
    };
  };
}

before(async () => {
  db = await freshDb();
  await ingest(db, [writeCorpus(150, { seed: 12 })], {}, { logger });
  for (const [key, encoder] of [
    ['v1', 'hash:words-256'],
    ['v2', 'hash:words-32'],
  ] as const) {
    await registerVersion(db, { key, encoder }, { actor: 'tester', logger, env: {} });
    await runBackfill(db, key, {}, { actor: 'tester', logger });
  }
  await registerVersion(db, { key: 'empty', encoder: 'hash:mixed-384' }, { actor: 'tester', logger, env: {} });
  await activate(db, 'v1', { actor: 'tester', force: true, reason: 'fuzz' });
  service = createService(db, { logger, actor: 'fuzz', token: TOKEN, shadowQueueSize: 50 });
  port = (await service.listen(0)).port;
});
after(async () => {
  await service?.close();
  await db?.destroy();
});

describe('HTTP fuzz', () => {
  test(`${REQUESTS} random requests (seed ${SEED}): no 500, every request answered`, async (t) => {
    const next = generator(prng(SEED));
    const requests = Array.from({ length: REQUESTS }, next);
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let i = 0;
    const describeReq = (n: number, r: Req) =>
      `#${n} ${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers).slice(0, 120)} body=${String(r.body ?? '').slice(0, 160)}`;
    const worker = async () => {
      while (i < requests.length) {
        const n = i++;
        const r = requests[n]!;
        try {
          let path = r.path;
          if (!r.raw && /[^\x21-\x7e]/.test(path)) path = escapeBytes(path, /[^\x21-\x7e]/);
          const status = r.raw
            ? (await rawSocket(port, r.raw)).status
            : (await rawRequest(port, r.method, path, r.headers, r.body)).status;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500 || status === 0) bad.push(`${status} ${describeReq(n, r)}`);
        } catch (e) {
          bad.push(`no answer (${String((e as Error).message)}) ${describeReq(n, r)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const seen = Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0]));
    t.diagnostic(`statuses: ${JSON.stringify(seen)}`);
    assert.deepEqual(
      bad.slice(0, 20),
      [],
      `answers >= 500 or none (replay: EMBCTL_FUZZ_SEED=${SEED}); statuses ${JSON.stringify(seen)}`,
    );
    // The fuzz reached the routes, not only the 404 path.
    for (const s of [200, 204, 400, 401, 404, 405, 409])
      assert.ok(statuses.has(s), `no ${s} among ${JSON.stringify(seen)}`);
  });
});
