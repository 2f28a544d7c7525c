import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { fileURLToPath } from 'node:url';
import { freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, spawnCli, targetEnv, type SpawnedCli } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { fillVersion, register } from './support/fill-version.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';

// `embctl judge` stores each batch's verdicts as it comes back: killed with
// SIGKILL, it loses at most the pairs in flight (a rerun pays for those
// again, nothing else); stopped with SIGINT, it finishes the pairs in flight,
// stores them, exits 130, and a rerun pays for nothing twice. On both
// backends: the CLI is a child process (on PGlite it holds the folder; the
// test opens it only between runs). The test server counts the calls per
// (query, passage) pair.

const KEY = 'sk-test-SECRET-judge-9876';
const CONCURRENCY = 4;
const logger = silentLogger();
const CORPUS = fileURLToPath(new URL('../examples/demo/corpus.jsonl', import.meta.url));
const JUDGED = fileURLToPath(new URL('../evals/demo.judged.jsonl', import.meta.url));

let target: TestDbTarget;
let server: OpenAIServer;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

async function stored(judgeSpec: string): Promise<number> {
  return withDb(async (db) =>
    Number(
      (
        await sql<{ n: string }>`select count(*) as n from relevance_judgments where judge_spec = ${judgeSpec}`.execute(
          db.kysely,
        )
      ).rows[0]!.n,
    ),
  );
}

const env = () => ({ ...targetEnv(target), OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url });
const args = (model: string) => [
  'judge',
  '--version',
  'v2',
  '--baseline',
  'v1',
  '--judged',
  JUDGED,
  '--judge',
  `openai:${model}`,
  '--concurrency',
  String(CONCURRENCY),
];

/** Wait until the server has answered `n` chat requests, or the child exited. */
async function answered(run: SpawnedCli, n: number): Promise<void> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  while (server.chat.stats.ok < n) {
    if (exited) throw new Error(`judge exited before ${n} answers: ${run.out.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let poolSize = 0;

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, latencyMs: 15 });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [CORPUS], { chunkSize: 600 }, { logger });
    await register(db, { key: 'v1', encoder: 'hash:words-256' });
    await fillVersion(db, 'v1');
    await register(db, { key: 'v2', encoder: 'hash:mixed-768' });
    await fillVersion(db, 'v2');
  });
  const dry = await runCli([...args('judge-a'), '--dry-run', '--json'], { env: env() });
  assert.equal(dry.code, 0, dry.stderr);
  poolSize = JSON.parse(dry.stdout).pool.toJudge;
  assert.ok(poolSize > 500, `a pool of hundreds of unlabelled pairs (${poolSize})`);
  assert.equal(server.chat.stats.requests, 0, 'a dry run calls nobody');
  assert.equal(await stored('openai:judge-a'), 0, 'a dry run writes nothing');
});
after(async () => {
  await server?.close();
  await target?.destroy();
});

describe('judge survives a crash and an interrupt', () => {
  test('SIGKILL mid-run loses at most the pairs in flight; the rerun pays for those only, then nothing', async () => {
    server.chat.reset();
    const run = spawnCli(args('judge-a'), { env: env() });
    await answered(run, 120);
    run.child.kill('SIGKILL');
    assert.equal((await run.exited).signal, 'SIGKILL');
    const answeredBeforeKill = server.chat.stats.ok;
    const kept = await stored('openai:judge-a');
    assert.ok(kept >= answeredBeforeKill - CONCURRENCY, `kept ${kept} of ${answeredBeforeKill} answered pairs`);
    assert.ok(kept < poolSize, 'killed before the end');

    const again = await runCli(args('judge-a'), { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await stored('openai:judge-a'), poolSize, 'every pooled pair judged once');
    const twice = server.chat.pairsBilledTwice();
    assert.ok(twice.length <= CONCURRENCY, `${twice.length} pairs paid twice (at most the ${CONCURRENCY} in flight)`);
    assert.equal(twice.length, answeredBeforeKill - kept, 'exactly the answered pairs that were not stored');

    const calls = server.chat.stats.requests;
    const third = await runCli([...args('judge-a'), '--json'], { env: env() });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(server.chat.stats.requests, calls, 'a third run judges nothing');
    assert.equal(JSON.parse(third.stdout).pool.toJudge, 0);
  });

  test('SIGINT: the pairs in flight finish and are stored, exit 130; the rerun pays for nothing twice', async () => {
    server.chat.reset();
    const run = spawnCli(args('judge-b'), { env: env() });
    await answered(run, 80);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    assert.equal(code, 130, run.out.stderr);
    assert.match(run.out.stderr, /SIGINT: finishing in-flight batches/);
    assert.match(run.out.stdout, /judged \d+ pairs/);
    const answeredAtStop = server.chat.stats.ok;
    assert.equal(await stored('openai:judge-b'), answeredAtStop, 'every answered pair was stored');
    const again = await runCli(args('judge-b'), { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await stored('openai:judge-b'), poolSize);
    assert.deepEqual(server.chat.pairsBilledTwice(), [], 'no pair paid twice');
  });
});
