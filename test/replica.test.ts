import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ON_SERVER } from './support/db.js';
import {
  initCluster,
  pauseReplay,
  resumeReplay,
  startStandby,
  waitForReceived,
  waitForReplay,
  type OwnCluster,
} from './support/own-cluster.js';
import { startServe, waitFor, type ServeProcess } from './support/serve-process.js';
import { runCli } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import {
  activate,
  currentShadow,
  ingest,
  migrate,
  openDatabase,
  registerVersion,
  requireVersion,
  rollback,
  runBackfill,
  silentLogger,
  startShadow,
  stopShadow,
  type Db,
} from '../src/index.js';

// README, "Scaling out" › "Read replicas for search": `embctl serve` with
// DATABASE_URL pointing at a hot standby detects it, reads the active
// version per request (a flip made on the primary is seen once replayed),
// turns shadow logging off, and sends activation to the primary. Proven here
// against a real streaming standby of a private primary (own clusters:
// pg_basebackup -R, a second port), with `embctl serve` as a child process.

const NEEDS_SERVER = ON_SERVER
  ? false
  : 'a streaming standby needs a PostgreSQL server (PGlite has none): runs in the server pass';
const logger = silentLogger();
const TOKEN = 'replica-test-token-0123456789';
const DB_NAME = 'replica';
const QUERIES = ['tent stove lantern', 'warranty refund invoice', 'camera lens tripod', 'kayak paddle river'];

let primary: OwnCluster;
let standby: OwnCluster;
let serve: ServeProcess;
let home: string;

async function onPrimary<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return withDb(primary.url(DB_NAME), fn);
}

async function onStandby<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  return withDb(standby.url(DB_NAME), fn);
}

async function withDb<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger, poolSize: 2 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A passing gated evaluation, so activation needs no --force. */
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

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { version?: string; hits?: unknown[]; error?: { code?: string; message?: string } };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(`${serve.base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as Answer['body'] };
}

const search = (body: Record<string, unknown> = {}) => post('/v1/search', { query: QUERIES[0], k: 5, ...body });
const show = (a: Answer) =>
  `${a.status}${a.retryAfter ? ` (Retry-After ${a.retryAfter})` : ''} ${JSON.stringify(a.body).slice(0, 600)}`;

function assertAlive(): void {
  const exit = serve.exit();
  assert.equal(exit, undefined, `embctl serve died (${JSON.stringify(exit)}): ${serve.stderr().slice(-2000)}`);
}

async function shadowRows(): Promise<number> {
  return onPrimary(async (db) =>
    Number((await sql<{ n: string }>`select count(*) as n from shadow_queries`.execute(db.kysely)).rows[0]!.n),
  );
}

/** The service's pino lines (JSON on stderr). */
function logLines(): Array<{ level: number; msg?: string; component?: string; [k: string]: unknown }> {
  return serve
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number });
}

before(async () => {
  if (NEEDS_SERVER) return;
  home = mkdtempSync(join(tmpdir(), 'embctl-replica-'));
  primary = await initCluster();
  await primary.createDatabase(DB_NAME);
  await onPrimary(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(300, { seed: 23 })], {}, { logger });
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
  standby = await startStandby(primary);
  await waitForReplay(standby);
  serve = await startServe({
    DATABASE_URL: standby.url(DB_NAME),
    EMBCTL_HOME: home,
    EMBCTL_SERVE_TOKEN: TOKEN,
    EMBCTL_POOL_SIZE: '4',
    EMBCTL_LOG_LEVEL: 'info',
  });
});

after(async () => {
  if (NEEDS_SERVER) return;
  const exit = await serve?.stop();
  await standby?.destroy();
  await primary?.destroy();
  if (home) rmSync(home, { recursive: true, force: true });
  if (exit) assert.equal(exit.code, 0, serve.stderr().slice(-2000));
});

describe('embctl serve on a streaming hot standby', () => {
  test(
    'detects the standby: says so once, and reads the active version per request (no LISTEN)',
    { skip: NEEDS_SERVER },
    async () => {
      const inRecovery = await standby.admin(
        async (c) => (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r,
      );
      assert.equal(inRecovery, true, 'the standby is in recovery');
      const notices = logLines().filter((l) => /read replica/.test(l.msg ?? ''));
      assert.equal(notices.length, 1, `one read-replica notice: ${serve.stderr().slice(-2000)}`);
      const r = await fetch(`${serve.base}/healthz`);
      const h = (await r.json()) as { status: string; serving: string; watch: string };
      assert.equal(r.status, 200, JSON.stringify(h));
      assert.equal(h.serving, 'v1');
      assert.equal(h.watch, 'per-request', 'on a standby the active version is read per request');
    },
  );

  test('searches follow a flip made on the primary, within the replay lag', { skip: NEEDS_SERVER }, async (t) => {
    const first = await search();
    assert.equal(first.status, 200, show(first));
    assert.equal(first.body.version, 'v1');
    assert.ok((first.body.hits?.length ?? 0) > 0, 'v1 answers with hits');

    await onPrimary((db) => activate(db, 'v2', { actor: 'tester' }));
    const started = Date.now();
    // A bound, not a timing: the replay lag of an idle local standby is short, a loaded machine's is not.
    const notOk: Answer[] = [];
    await waitFor(
      'searches on the standby answered by v2',
      async () => {
        const r = await search();
        if (r.status !== 200) notOk.push(r);
        return r.body.version === 'v2' ? true : undefined;
      },
      { check: assertAlive },
    );
    assert.deepEqual(notOk.map(show), [], 'only 200s while the flip replays');
    t.diagnostic(`the standby served v2 ${Date.now() - started} ms after activate returned on the primary`);

    // Read per request, never cached: once the rollback is replayed, the very next search is v1.
    await onPrimary((db) => rollback(db, { actor: 'tester' }));
    await waitForReplay(standby);
    for (const q of QUERIES) {
      const r = await search({ query: q });
      assert.equal(r.status, 200, show(r));
      assert.equal(r.body.version, 'v1', 'the first search after the rollback replayed is served by v1');
    }
    assertAlive();
  });

  test(
    'shadow settings made on the primary: the standby service sees them, logs nothing and raises nothing',
    { skip: NEEDS_SERVER },
    async () => {
      const rowsBefore = await shadowRows();
      await onPrimary((db) => startShadow(db, { key: 'v2', sampleRate: 1 }, { actor: 'tester' }));
      try {
        await waitForReplay(standby);
        const seen = await onStandby((db) => currentShadow(db.kysely));
        assert.equal(seen?.versionKey, 'v2', 'the standby has replayed the shadow setting');
        assert.equal(seen?.sampleRate, 1);
        const linesBefore = logLines().length;
        for (let i = 0; i < 20; i++) {
          const r = await search({ query: QUERIES[i % QUERIES.length] });
          assert.equal(r.status, 200, show(r));
          assert.equal(r.body.version, 'v1');
        }
        // No shadower at all in this process: its metrics are absent (they are printed whenever one exists).
        const metrics = await (await fetch(`${serve.base}/metrics`)).text();
        assert.doesNotMatch(metrics, /embctl_shadow_/, 'no shadow metrics on a standby service');
        assert.match(metrics, /embctl_/, 'the metrics endpoint answers');
        const lines = logLines().slice(linesBefore);
        assert.deepEqual(
          lines.filter((l) => l.component === 'shadow' || /shadow/i.test(l.msg ?? '')),
          [],
          'no shadow log line',
        );
        assert.deepEqual(
          lines.filter((l) => l.level >= 40),
          [],
          'no warning or error logged while searching',
        );
        assert.ok(
          lines.filter((l) => l.msg === 'request').length >= 20,
          'the searches were logged (the log is being read)',
        );
      } finally {
        await onPrimary((db) => stopShadow(db, {}, { actor: 'tester' }));
      }
      assert.equal(await shadowRows(), rowsBefore, 'no shadow_queries row was written');
      assertAlive();
    },
  );

  test(
    'POST /v1/versions/<key>/activate and /v1/rollback get 409, naming the primary; nothing changes',
    { skip: NEEDS_SERVER },
    async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const where = `127.0.0.1:${primary.port}`;
      for (const [path, body] of [
        ['/v1/versions/v2/activate', { reason: 'try on the standby' }],
        ['/v1/rollback', {}],
      ] as const) {
        const r = await post(path, body, auth);
        assert.equal(r.status, 409, `${path}: ${show(r)}`);
        assert.equal(r.body.error?.code, 'read_only_standby', show(r));
        assert.ok(
          r.body.error?.message?.includes(where),
          `${path}: the refusal names the primary ${where}: ${show(r)}`,
        );
      }
      const active = await onPrimary(async (db) =>
        (
          await db.kysely.selectFrom('embedding_versions').select('version_key').where('active', '=', true).execute()
        ).map((v) => v.version_key),
      );
      assert.deepEqual(active, ['v1'], 'the primary is unchanged');
      assertAlive();
    },
  );

  async function activeOnPrimary(): Promise<string[]> {
    return onPrimary(async (db) =>
      (await db.kysely.selectFrom('embedding_versions').select('version_key').where('active', '=', true).execute()).map(
        (v) => v.version_key,
      ),
    );
  }

  /** One refusal line on stderr, exit 1: says it is a standby, names the primary, says where to point DATABASE_URL. */
  function assertStandbyRefusal(what: string, r: Awaited<ReturnType<typeof runCli>>): void {
    const show = `exit ${r.code}; stdout: ${r.stdout.trim()}; stderr: ${r.stderr.trim()}`;
    assert.equal(r.code, 1, `${what}: exit 1 (refused): ${show}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: one line: ${show}`);
    assert.doesNotMatch(lines[0]!, /unexpected error/, `${what}: a refusal, not an internal error: ${show}`);
    assert.match(lines[0]!, /hot standby/, `${what}: says why: ${show}`);
    assert.ok(lines[0]!.includes(`the primary at 127.0.0.1:${primary.port}`), `${what}: names the primary: ${show}`);
    assert.match(lines[0]!, /point DATABASE_URL at/, `${what}: says what to do: ${show}`);
  }

  test(
    'embctl activate, rollback, retire and ingest with DATABASE_URL = the standby: refused up front in one line that names the primary (exit 1); nothing changes',
    { skip: NEEDS_SERVER },
    async (t) => {
      const env = { DATABASE_URL: standby.url(DB_NAME), EMBCTL_HOME: home };
      const corpus = writeCorpus(5, { seed: 99 });
      const docsBefore = await onPrimary(async (db) =>
        Number((await sql<{ n: string }>`select count(*) as n from document_chunks`.execute(db.kysely)).rows[0]!.n),
      );
      for (const args of [['activate', 'v2'], ['rollback'], ['retire', 'v2', '--yes'], ['ingest', corpus]]) {
        const r = await runCli(args, { env });
        t.diagnostic(`embctl ${args[0]}: exit ${r.code}; stderr: ${r.stderr.trim()}`);
        assertStandbyRefusal(`embctl ${args[0]}`, r);
        assert.equal(r.stdout.trim(), '', `embctl ${args[0]}: nothing reported as done`);
      }
      assert.deepEqual(await activeOnPrimary(), ['v1'], 'the primary is unchanged');
      const docsAfter = await onPrimary(async (db) =>
        Number((await sql<{ n: string }>`select count(*) as n from document_chunks`.execute(db.kysely)).rows[0]!.n),
      );
      assert.equal(docsAfter, docsBefore, 'nothing was ingested');
      const v2 = await onStandby((db) => requireVersion(db.kysely, 'v2'));
      assert.notEqual(v2.state, 'retired', 'v2 was not retired');
    },
  );

  test(
    'a write command that does not ask first (versions calibrate) fails at its first write with the same one-line refusal',
    { skip: NEEDS_SERVER },
    async (t) => {
      const r = await runCli(['versions', 'calibrate', 'v1', '--sample', '20'], {
        env: { DATABASE_URL: standby.url(DB_NAME), EMBCTL_HOME: home },
      });
      t.diagnostic(`exit ${r.code}; stderr: ${r.stderr.trim()}`);
      assertStandbyRefusal('embctl versions calibrate', r);
      const calibrated = await onPrimary(async (db) => (await requireVersion(db.kysely, 'v1')).calibration);
      assert.equal(calibrated, null, 'no calibration was stored');
    },
  );

  test(
    'read commands still work on the standby: embctl search and status (exit 0)',
    { skip: NEEDS_SERVER },
    async () => {
      const env = { DATABASE_URL: standby.url(DB_NAME), EMBCTL_HOME: home };
      const r = await runCli(['search', QUERIES[1]!, '--json'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { version: string }).version, 'v1');
      const s = await runCli(['status', '--json'], { env });
      assert.equal(s.code, 0, s.stderr);
    },
  );
});

describe('partition lag on the standby', () => {
  // Replay is paused on the standby (deterministic lag) while the primary
  // registers and backfills a new version; the WAL reaches the standby
  // (received) but is not applied.
  const lagAnswers: Array<{ stage: string; answer: Answer }> = [];
  let cliLag: Awaited<ReturnType<typeof runCli>> | undefined;

  test(
    'a version the standby has not replayed yet gets a clear, retryable error (503 + Retry-After), not a 500',
    { skip: NEEDS_SERVER },
    async (t) => {
      await pauseReplay(standby);
      try {
        await onPrimary((db) =>
          registerVersion(db, { key: 'v3', encoder: 'hash:mixed-768' }, { actor: 'tester', logger, env: {} }),
        );
        await waitForReceived(standby);
        lagAnswers.push({ stage: 'registered on the primary, not replayed', answer: await search({ version: 'v3' }) });
        // The CLI on the lagging standby: the same refusal, exit 1 (retryable), not exit 2 (no such version).
        cliLag = await runCli(['search', QUERIES[2]!, '--version', 'v3'], {
          env: { DATABASE_URL: standby.url(DB_NAME), EMBCTL_HOME: home },
        });
        // Let the registration through, then hold the backfill back.
        await resumeReplay(standby);
        await waitForReplay(standby);
        await pauseReplay(standby);
        await onPrimary((db) => runBackfill(db, 'v3', {}, { actor: 'tester', logger }));
        await waitForReceived(standby);
        lagAnswers.push({
          stage: 'registered and replayed, backfilled on the primary, backfill not replayed',
          answer: await search({ version: 'v3' }),
        });
      } finally {
        await resumeReplay(standby);
      }
      for (const { stage, answer } of lagAnswers) t.diagnostic(`${stage}: ${show(answer)}`);
      assertAlive();
      for (const { stage, answer } of lagAnswers) {
        assert.notEqual(answer.status, 500, `${stage}: not a 500: ${show(answer)}`);
        assert.equal(answer.status, 503, `${stage}: retryable: ${show(answer)}`);
        assert.ok(Number(answer.retryAfter) > 0, `${stage}: Retry-After: ${show(answer)}`);
        const message = answer.body.error?.message ?? '';
        assert.match(message, /v3/, `${stage}: names the version: ${message}`);
        assert.match(message, /read replica has not replayed/, `${stage}: says the replica is behind: ${message}`);
        assert.equal(answer.body.error?.code, 'replica_behind', show(answer));
      }
      assert.ok(cliLag, 'the CLI ran while replay was paused');
      const cliShow = `exit ${cliLag.code}; stderr: ${cliLag.stderr.trim()}`;
      t.diagnostic(`embctl search --version v3 on the lagging standby: ${cliShow}`);
      assert.equal(cliLag.code, 1, `exit 1 (retryable), not 2 (no such version): ${cliShow}`);
      assert.equal(cliLag.stderr.trim().split('\n').length, 1, `one line: ${cliShow}`);
      assert.match(cliLag.stderr, /read replica has not replayed the registration of version v3/, cliShow);
    },
  );

  test('once replay resumes, the new version is searchable on the standby', { skip: NEEDS_SERVER }, async () => {
    assert.equal(lagAnswers.length, 2, 'the lag test reached both stages');
    for (const { stage, answer } of lagAnswers)
      assert.notEqual(answer.status, 500, `${stage}: never a 500: ${show(answer)}`);
    await resumeReplay(standby);
    await waitForReplay(standby);
    const r = await search({ version: 'v3' });
    assert.equal(r.status, 200, show(r));
    assert.equal(r.body.version, 'v3');
    assert.ok((r.body.hits?.length ?? 0) > 0, 'v3 answers with hits');
    const d = await search();
    assert.equal(d.body.version, 'v1', 'searches without a version still go to the active one');
    // Caught up, a name no primary has is still "no such version" (404), not a retry loop. The primary
    // may write WAL meanwhile (autovacuum after the backfill): then the standby is briefly behind again,
    // which is a 503 replica_behind; replay that and ask again (a bound, not a timing).
    const unknown = await waitFor(
      'a caught-up standby to answer a search for an unknown version',
      async () => {
        await waitForReplay(standby);
        const a = await search({ version: 'v9' });
        return a.status === 503 && a.body.error?.code === 'replica_behind' ? undefined : a;
      },
      { check: assertAlive },
    );
    assert.equal(unknown.status, 404, show(unknown));
    assert.equal(unknown.body.error?.code, 'unknown_version', show(unknown));
    assertAlive();
  });
});
