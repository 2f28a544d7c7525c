/**
 * Serve under load: `embctl serve` (a child process, from source) driven by
 * autocannon at 1, 8 and 32 connections, POST /v1/search with a rotating
 * set of queries, in three conditions: plain, shadow at 10%, and a flip
 * every 2 s. Reports requests/s, p50, p99, errors and non-2xx answers
 * (and the service's overload refusals, 503 `overloaded`).
 *
 *   npm run bench:serve
 *   node --import tsx bench/serve.ts [--url URL] [--chunks 20000] [--seconds 30] [--connections 1,8,32]
 *        [--conditions plain,shadow,flip] [--shadow-rate 0.1] [--flip-every 2] [--warmup 2] [--keep] [--db URL] [--json]
 *
 * The duration of each run is `--seconds`, else EMBCTL_BENCH_SECONDS, else
 * 30 (a quick check: `EMBCTL_BENCH_SECONDS=3 npm run bench:serve`).
 *
 * Data: `--chunks` one-chunk documents (test/support/corpus.ts), two
 * versions backfilled through the library with HNSW (m 16, ef_construction
 * 64): v1 `hash:mixed-384` (active) and v2 `hash:words-256`. Queries: 64
 * fixed word combinations from the corpus vocabulary, k 10, taken in turn
 * by each connection.
 *
 * Each condition starts its own `embctl serve` process (EMBCTL_LOG_LEVEL
 * warn: the per-request info line is off, so the bench does not measure a
 * pipe; the pool is the default, 10 connections), waits for /healthz, runs
 * a `--warmup` s warm-up at 8 connections (not counted), then each
 * connection count for `--seconds`.
 *  - plain: searches only.
 *  - shadow: v2 shadowed at `--shadow-rate` (startShadow through the
 *    library before the process starts; its shadower reads it at start).
 *    The service's shadow counters (/metrics) and the shadow_queries rows
 *    written are printed: the service runs candidate searches only while no
 *    primary request is in flight, so under a closed loop most samples wait.
 *  - flip: a flipper POSTs /v1/versions/<key>/activate (bearer token,
 *    force with a reason: no gate in a benchmark) every `--flip-every` s,
 *    alternating v2 and v1, while the load runs; every flip's status is
 *    counted, and each search answer's version is one of the two.
 *
 * Latency: every response's time as autocannon's client measured it (ms,
 * float), pooled per run: p50 and p99 are nearest-rank over all of them
 * (autocannon's own histogram percentiles, whole ms, are printed beside).
 * Errors: connection errors and timeouts (autocannon's `errors`); non-2xx:
 * answers that are not 2xx. autocannon runs in this process, on the same 2
 * cores as the service and PostgreSQL.
 *
 * "Below saturation" is 1 and 8 connections: the service admits
 * EMBCTL_POOL_SIZE - 2 = 8 searches at once (src/serve/admission.ts), so up
 * to 8 connections no request ever waits for a slot; at 32, 24 wait in the
 * admission queue (bound 32): still no refusal expected, but requests queue.
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET serve-errors-below-saturation: <errors + non-2xx at 1 and 8 connections, all conditions> (goal == 0) OK|MISS
 *   TARGET serve-p99/p50-8conn-<condition>: <p99 / p50 at 8 connections> (goal <= 3) OK|MISS   (plain, shadow, flip)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import {
  activate,
  ingest,
  migrate,
  openDatabase,
  registerVersion,
  runBackfill,
  silentLogger,
  startShadow,
  stopShadow,
  type Db,
} from '../src/index.js';
import { writeCorpus } from '../test/support/corpus.js';
import { startServe, type ServeProcess } from '../test/support/serve-process.js';
import {
  fmt,
  header,
  intFlag,
  choicesFlag,
  numListFlag,
  loadAverages,
  log,
  numFlag,
  p50,
  p99,
  parseFlags,
  printTargets,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
  type Target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json', 'keep']);
const CHUNKS = intFlag(flags, 'chunks', 20_000);
const SECONDS = Math.max(1, intFlag(flags, 'seconds', Number(process.env.EMBCTL_BENCH_SECONDS || 30)));
const WARMUP = intFlag(flags, 'warmup', 2);
const CONNECTIONS = numListFlag(flags, 'connections', [1, 8, 32]);
const CONDITIONS = choicesFlag(flags, 'conditions', ['plain', 'shadow', 'flip']);
const SHADOW_RATE = numFlag(flags, 'shadow-rate', 0.1);
const FLIP_EVERY_MS = numFlag(flags, 'flip-every', 2) * 1000;
const TOKEN = 'bench-serve-token-0123456789abcdef';
const P99_GOAL = 3;
const logger = silentLogger();

const VOCAB = (
  'tent stove lantern kayak paddle jacket boots trail summit river canyon ridge forest meadow harbor ' +
  'battery charger cable warranty refund invoice shipping order account password privacy policy return ' +
  'camera lens tripod drone sensor firmware update error reset bluetooth speaker headphone'
).split(' ');

function queries(n: number): string[] {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  return Array.from({ length: n }, () =>
    Array.from({ length: 2 + Math.floor(rnd() * 4) }, () => VOCAB[Math.floor(rnd() * VOCAB.length)]).join(' '),
  );
}
const QUERIES = queries(64);

interface RunResult {
  condition: string;
  connections: number;
  seconds: number;
  responses: number;
  ok: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  acP50: number;
  acP99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statuses: Record<string, number>;
  versions: Record<string, number>;
  flips?: { ok: number; failed: number; statuses: Record<string, number> };
  /** 503 `overloaded` answers during the run, from the service's own counter. */
  overloaded: number;
}

async function withDb<T>(url: string, home: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger, poolSize: 2 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function setup(url: string, home: string): Promise<void> {
  await withDb(url, home, async (db) => {
    await migrate(db, { logger });
    log(`ingesting ${CHUNKS} documents`);
    const corpus = writeCorpus(CHUNKS, { seed: 5, prefix: 'serve' });
    await ingest(db, [corpus], {}, { logger });
    rmSync(join(corpus, '..'), { recursive: true, force: true });
    for (const [key, encoder] of [
      ['v1', 'hash:mixed-384'],
      ['v2', 'hash:words-256'],
    ] as const) {
      log(`registering and backfilling ${key} (${encoder}, HNSW)`);
      await registerVersion(db, { key, encoder, index: 'hnsw' }, { logger, actor: 'bench', env: {} });
      await runBackfill(db, key, {}, { logger, actor: 'bench' });
    }
    await activate(db, 'v1', { actor: 'bench', force: true, reason: 'benchmark setup: no gate' });
  });
}

/** Search answers' versions, read from the bodies (to check a flip never mixes versions). */
function versionOf(body: string): string {
  const m = /"version":"([^"]+)"/.exec(body);
  return m ? m[1]! : '?';
}

async function load(
  base: string,
  connections: number,
  seconds: number,
): Promise<{ result: autocannon.Result; latencies: number[]; versions: Record<string, number> }> {
  const latencies: number[] = [];
  const versions: Record<string, number> = {};
  let instance!: autocannon.Instance;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: base,
        connections,
        duration: seconds,
        timeout: 10,
        requests: QUERIES.map((q) => ({
          method: 'POST' as const,
          path: '/v1/search',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: q, k: 10 }),
          onResponse: (status: number, body: string) => {
            if (status === 200) {
              const v = versionOf(body);
              versions[v] = (versions[v] ?? 0) + 1;
            }
          },
        })),
      },
      (err, r) => (err ? reject(err as Error) : resolve(r)),
    );
    // autocannon emits (client, status, bytes, responseTime); its type declarations omit the client.
    (instance as unknown as NodeJS.EventEmitter).on(
      'response',
      (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
      },
    );
  });
  return { result, latencies, versions };
}

async function flipper(
  base: string,
  everyMs: number,
): Promise<{ stop: () => Promise<{ ok: number; failed: number; statuses: Record<string, number> }> }> {
  const stats = { ok: 0, failed: 0, statuses: {} as Record<string, number> };
  let running = true;
  let next = 'v2';
  const loop = (async () => {
    while (running) {
      await new Promise((r) => setTimeout(r, everyMs));
      if (!running) break;
      try {
        const r = await fetch(`${base}/v1/versions/${next}/activate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ force: true, reason: 'benchmark flip' }),
        });
        await r.text();
        stats.statuses[r.status] = (stats.statuses[r.status] ?? 0) + 1;
        if (r.status === 200) {
          stats.ok++;
          next = next === 'v2' ? 'v1' : 'v2';
        } else stats.failed++;
      } catch {
        stats.failed++;
        stats.statuses.network = (stats.statuses.network ?? 0) + 1;
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return stats;
    },
  };
}

/** The service's overload refusals so far (both reasons), from /metrics. */
async function overloadRefusals(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^embctl_http_overload_rejections_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

function shadowCounters(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^embctl_shadow_(enqueued|completed|dropped|failed)_total(?:\{[^}]*\})? (\d+)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

async function main(): Promise<void> {
  const admin = serverUrl(flags);
  const server = await serverVersions(admin);
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-serve-'));
  let url = typeof flags.db === 'string' ? flags.db : undefined;
  let drop: (() => Promise<void>) | undefined;
  if (!url) {
    const scratch = await scratchDatabase(admin, 'serve');
    url = scratch.url;
    drop = scratch.drop;
    await setup(url, home);
  }
  const env = { DATABASE_URL: url, EMBCTL_HOME: home, EMBCTL_SERVE_TOKEN: TOKEN, EMBCTL_LOG_LEVEL: 'warn' };
  const results: RunResult[] = [];
  const shadowInfo: Array<{ connections: number; counters: Record<string, number>; rows: number }> = [];
  let serve: ServeProcess | undefined;
  try {
    for (const condition of CONDITIONS) {
      await withDb(url, home, async (db) => {
        await activate(db, 'v1', { actor: 'bench', force: true, reason: 'benchmark: reset before a condition' });
        await stopShadow(db, {}, { actor: 'bench' }).catch(() => null);
        if (condition === 'shadow') await startShadow(db, { key: 'v2', sampleRate: SHADOW_RATE }, { actor: 'bench' });
      });
      serve = await startServe(env);
      log(`${condition}: embctl serve at ${serve.base}`);
      for (;;) {
        const h = await fetch(`${serve.base}/healthz`)
          .then((r) => r.status)
          .catch(() => 0);
        if (h === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (WARMUP > 0) await load(serve.base, 8, WARMUP);
      for (const connections of CONNECTIONS) {
        log(`${condition}: ${connections} connection(s) for ${SECONDS} s`);
        const rowsBefore = condition === 'shadow' ? await shadowRows(url, home) : 0;
        const refusedBefore = await overloadRefusals(serve.base);
        const flips = condition === 'flip' ? await flipper(serve.base, FLIP_EVERY_MS) : undefined;
        const { result, latencies, versions } = await load(serve.base, connections, SECONDS);
        const flipStats = await flips?.stop();
        const statuses: Record<string, number> = {};
        for (const [code, v] of Object.entries(result.statusCodeStats ?? {}))
          statuses[code] = Number((v as { count: number | string }).count);
        const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
        const ok = result['2xx'];
        results.push({
          condition,
          connections,
          seconds: result.duration,
          responses,
          ok,
          reqPerSec: responses / result.duration,
          p50: p50(latencies),
          p99: p99(latencies),
          acP50: result.latency.p50,
          acP99: result.latency.p99,
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statuses,
          versions,
          ...(flipStats && { flips: flipStats }),
          overloaded: (await overloadRefusals(serve.base)) - refusedBefore,
        });
        if (condition === 'shadow') {
          // Let the shadow work the burst left behind finish before counting (it runs when no request is in flight).
          await new Promise((r) => setTimeout(r, 2000));
          const metrics = await (await fetch(`${serve.base}/metrics`)).text();
          shadowInfo.push({
            connections,
            counters: shadowCounters(metrics),
            rows: (await shadowRows(url, home)) - rowsBefore,
          });
        }
        const last = results[results.length - 1]!;
        log(
          `${condition} @ ${connections}: ${fmt(last.reqPerSec)} req/s, p50 ${fmt(last.p50)} ms, p99 ${fmt(last.p99)} ms, errors ${last.errors}, non-2xx ${last.non2xx}`,
        );
      }
      const exit = await serve.stop();
      if (exit.code !== 0)
        throw new Error(`embctl serve exited ${exit.code ?? exit.signal}: ${serve.stderr().slice(-2000)}`);
      serve = undefined;
    }
  } finally {
    if (serve) await serve.stop();
    await withDb(url, home, (db) => stopShadow(db, {}, { actor: 'bench' }).catch(() => null)).catch(() => null);
    rmSync(home, { recursive: true, force: true });
    if (flags.keep) log(`kept the database: ${url} (reuse with --db)`);
    else await drop?.();
  }

  const targets: Target[] = [];
  const below = results.filter((r) => r.connections <= 8);
  targets.push(
    target(
      'serve-errors-below-saturation',
      below.reduce((a, r) => a + r.errors + r.non2xx, 0),
      '==',
      0,
    ),
  );
  for (const r of results.filter((x) => x.connections === 8))
    targets.push(target(`serve-p99/p50-8conn-${r.condition}`, r.p99 / r.p50, '<=', P99_GOAL));

  if (flags.json === true) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'serve',
          loadavg: loadAverages(),
          server,
          chunks: CHUNKS,
          seconds: SECONDS,
          results,
          shadowInfo,
          targets,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    header(`serve under load — autocannon against embctl serve, ${CHUNKS} chunks, k 10, ${SECONDS} s per run`, server),
  );
  console.log(
    `# conditions: ${CONDITIONS.join(', ')}; connections: ${CONNECTIONS.join(', ')}; shadow rate ${SHADOW_RATE}; a flip every ${FLIP_EVERY_MS / 1000} s; warm-up ${WARMUP} s at 8 connections per condition`,
  );
  console.log(
    "latency: every response, pooled per run (nearest rank); ac = autocannon's own histogram (whole ms); errors = connection errors + timeouts",
  );
  console.log('');
  console.log(
    table(
      [
        'condition',
        'conns',
        'seconds',
        'responses',
        'req/s',
        'p50 (ms)',
        'p99 (ms)',
        'p99/p50',
        'ac p50',
        'ac p99',
        'errors',
        'timeouts',
        'non-2xx',
        '503 overloaded',
        'statuses',
      ],
      results.map((r) => [
        r.condition,
        r.connections,
        r.seconds,
        r.responses,
        r.reqPerSec,
        r.p50,
        r.p99,
        r.p99 / r.p50,
        r.acP50,
        r.acP99,
        r.errors,
        r.timeouts,
        r.non2xx,
        r.overloaded,
        Object.entries(r.statuses)
          .map(([c, n]) => `${c}:${n}`)
          .join(' '),
      ]),
    ),
  );
  const flipRuns = results.filter((r) => r.flips);
  if (flipRuns.length) {
    console.log('');
    for (const r of flipRuns) {
      console.log(
        `flip @ ${r.connections} connections: ${r.flips!.ok} flips answered 200, ${r.flips!.failed} failed (${JSON.stringify(r.flips!.statuses)}); searches answered by ${JSON.stringify(r.versions)}`,
      );
    }
  }
  if (shadowInfo.length) {
    console.log('');
    for (const s of shadowInfo) {
      const r = results.find((x) => x.condition === 'shadow' && x.connections === s.connections)!;
      console.log(
        `shadow @ ${s.connections} connections: ${r.ok} searches; shadower since start ${JSON.stringify(s.counters)}; shadow_queries rows written during the run and 2 s after: ${s.rows}`,
      );
    }
  }
  console.log('');
  printTargets(targets);
}

async function shadowRows(url: string, home: string): Promise<number> {
  return withDb(url, home, async (db) =>
    Number((await sql<{ n: string }>`select count(*) as n from shadow_queries`.execute(db.kysely)).rows[0]!.n),
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
