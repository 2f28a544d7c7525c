// backfill --batch-api through the CLI, on both backends: --cancel of a batch
// the provider does not know (released, exit 0), a plain online backfill while
// Batch API jobs hold texts (the true cause, the way out), the dry run against
// a base URL without Batch support, and the dry run's cost digits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { requireVersion } from '../src/versions/store.js';
import { partitionTable } from '../src/partitions/partition.js';
import { silentLogger } from '../src/log/logger.js';
import { formatUsd } from '../src/cli/progress.js';

const KEY = 'sk-test-SECRET-batchcli-1357';
const logger = silentLogger();
const DOCS = 60;
let target: TestDbTarget;
let server: OpenAIServer;

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);
const env = () => ({ ...targetEnv(target), OPENAI_API_KEY: KEY });

async function register(key: string, encoder: string, baseURL: string): Promise<void> {
  await withDb((db) =>
    registerVersion(
      db,
      { key, encoder, settings: { baseURL } },
      { logger, actor: 'tester', openaiApiKey: KEY, env: {} },
    ),
  );
}

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: KEY, defaultDimensions: 16 });
  await withDb(async (db) => {
    await migrate(db, { logger });
    await ingest(db, [writeCorpus(DOCS, { seed: 23 })], {}, { logger });
  });
});
after(async () => {
  await server?.close();
  await target?.destroy();
});

/** Distinct texts that open Batch API jobs of the version hold and have not written. */
async function heldTexts(key: string): Promise<string[]> {
  return withDb(async (db) => {
    const v = await requireVersion(db.kysely, key);
    const r = await sql<{ content: string }>`
      select distinct c.content from batch_api_items bi join batch_api_jobs j on j.id = bi.job_id
      join document_chunks c on c.content_sha256 = bi.content_sha256
      where bi.embedding_version_id = ${v.id} and j.status <> 'collected' and not bi.written`.execute(db.kysely);
    return r.rows.map((x) => x.content);
  });
}

async function missing(key: string): Promise<number> {
  return withDb(async (db) => {
    const v = await requireVersion(db.kysely, key);
    const r = await sql<{ n: number }>`
      select count(*) as n from document_chunks c where c.retired_at is null
      and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
    return Number(r.rows[0]!.n);
  });
}

async function distinctTexts(): Promise<string[]> {
  return withDb(async (db) => {
    const r = await sql<{ content: string }>`select distinct content from document_chunks`.execute(db.kysely);
    return r.rows.map((x) => x.content);
  });
}

const blockedBy = (key: string, n: number) =>
  new RegExp(
    `${key} is not complete: ${n} texts are in open Batch API jobs: run \`embctl backfill ${key} --batch-api\` to collect them \\(or --cancel\\)`,
  );

test('online backfill while Batch API jobs hold texts (live, lost, cancelling) names them; --cancel releases a batch the provider does not know and exits 0', async () => {
  server.reset();
  await register('held', 'openai:mock-held', server.url);
  const limits = ['--batch-inputs-per-request', '5', '--batch-requests-per-file', '2'];
  // Submit about a third of the tokens, so the online path has texts of its own to embed.
  const dry = await runCli(['backfill', 'held', '--batch-api', '--dry-run', '--json', ...limits], { env: env() });
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { tokens: number; texts: number };
  const budget = String(Math.floor(plan.tokens / 3));
  const sub = await runCli(['backfill', 'held', '--batch-api', ...limits, '--batch-max-enqueued-tokens', budget], {
    env: env(),
  });
  assert.equal(sub.code, 0, sub.stderr);
  const held = await heldTexts('held');
  assert.ok(held.length > 0 && held.length < plan.texts, `jobs hold ${held.length} of ${plan.texts} texts`);
  const batches = server.batches.list();
  assert.ok(batches.length >= 2, `${batches.length} batches`);

  // 1. Live batches: the online path embeds every other text, then says what holds the rest.
  const live = await runCli(['backfill', 'held'], { env: env() });
  assert.equal(live.code, 1, live.stdout + live.stderr);
  assert.match(live.stderr, blockedBy('held', held.length));
  assert.doesNotMatch(live.stdout + live.stderr, /some batches failed/);
  assert.match(live.stdout, new RegExp(`backfilled held: \\d+ chunks \\(${plan.texts - held.length} texts embedded`));
  for (const t of held) assert.equal(server.stats.billedTextCalls.get(t), undefined, 'a held text is not sent online');

  // 2. A batch the provider lost: its texts stay reserved, and the message is the same.
  const lost = batches[0]!.id;
  server.batches.forget(lost);
  const lostRun = await runCli(['backfill', 'held'], { env: env() });
  assert.equal(lostRun.code, 1);
  assert.match(lostRun.stderr, blockedBy('held', held.length));

  // 3. --cancel: the lost batch is released (said in one line), the live ones cancelled; exit 0.
  const cancel = await runCli(['backfill', 'held', '--batch-api', '--cancel'], { env: env() });
  assert.equal(cancel.code, 0, cancel.stdout + cancel.stderr);
  assert.match(
    cancel.stdout,
    new RegExp(
      `held --batch-api --cancel: cancelled ${batches.length - 1} batches, released 1 the provider does not know; ${batches.length - 1} still open \\(cancelling`,
    ),
  );
  assert.match(
    cancel.stdout,
    new RegExp(`\\n  released: batch ${lost}: .* does not know it; its \\d+ texts were released`),
  );
  assert.doesNotMatch(cancel.stdout + cancel.stderr, /problems while collecting/);
  const stillHeld = await heldTexts('held');
  assert.ok(stillHeld.length > 0 && stillHeld.length < held.length, 'the lost batch’s texts were released');

  // 4. Cancelling batches still hold their texts; the released ones are embedded online.
  const cancelling = await runCli(['backfill', 'held'], { env: env() });
  assert.equal(cancelling.code, 1);
  assert.match(cancelling.stderr, blockedBy('held', stillHeld.length));
  assert.match(cancelling.stdout, new RegExp(`\\(${held.length - stillHeld.length} texts embedded`));

  // 5. The cancels go through; the Batch API path collects them, submits their texts again, and ends covered.
  server.batches.advanceAll();
  const stepper = setInterval(() => server.batches.advance(), 20);
  let done;
  try {
    done = await runCli(['backfill', 'held', '--batch-api', '--wait', '--poll-seconds', '0.02', ...limits], {
      env: env(),
    });
  } finally {
    clearInterval(stepper);
  }
  assert.equal(done.code, 0, done.stdout + done.stderr);
  assert.match(done.stdout, /fully covered · state ready/);
  assert.equal(await missing('held'), 0);
  assert.deepEqual(server.textsBilledTwice(), [], 'no text billed twice (online and batch together)');
  for (const t of await distinctTexts()) {
    const n = (server.stats.billedTextCalls.get(t) ?? 0) + (server.stats.batch.billedTexts.get(t) ?? 0);
    assert.equal(n, 1, `billed once: ${t.slice(0, 40)}`);
  }
  for (const o of [sub, live, lostRun, cancel, cancelling, done]) {
    assert.ok(!(o.stdout + o.stderr).includes(KEY), 'no run printed the API key');
  }
});

test('--dry-run against a base URL without Batch support: the same 404 line as the real run, exit 2', async () => {
  const plain = await startOpenAIServer({ apiKey: KEY, modelDimensions: { 'mock-16': 16 }, batch: false });
  try {
    await register('nobatch', 'openai:mock-16', plain.url);
    const dry = await runCli(['backfill', 'nobatch', '--batch-api', '--dry-run'], { env: env() });
    assert.equal(dry.code, 2, dry.stdout + dry.stderr);
    assert.match(dry.stderr, /has no Batch API .*run `embctl backfill nobatch` without --batch-api/);
    assert.doesNotMatch(dry.stdout, /dry run for/);
    const real = await runCli(['backfill', 'nobatch', '--batch-api'], { env: env() });
    assert.equal(real.code, 2);
    assert.equal(
      dry.stderr.trim().split('\n').at(-1),
      real.stderr.trim().split('\n').at(-1),
      'the dry run says what the real run says',
    );
  } finally {
    await plain.close();
  }
});

test('--dry-run prints small costs with their significant digits, not $0.0000', async () => {
  await register('cheap', 'openai:mock-cheap', server.url);
  const args = ['backfill', 'cheap', '--batch-api', '--dry-run', '--price-per-mtok', '0.02'];
  const json = await runCli([...args, '--json'], { env: env() });
  assert.equal(json.code, 0, json.stderr);
  const plan = JSON.parse(json.stdout) as { batchCostUsd: number; onlineCostUsd: number };
  assert.ok(plan.batchCostUsd > 0 && plan.batchCostUsd < 0.0001, `a small run (${plan.batchCostUsd})`);
  const text = await runCli(args, { env: env() });
  assert.equal(text.code, 0, text.stderr);
  const m = /cost at batch prices \$([0-9.]+), at online prices \$([0-9.]+)/.exec(text.stdout);
  assert.ok(m, text.stdout);
  assert.equal(Number(m[1]).toPrecision(3), plan.batchCostUsd.toPrecision(3));
  assert.equal(Number(m[2]).toPrecision(3), plan.onlineCostUsd.toPrecision(3));
  assert.doesNotMatch(text.stdout, /\$0\.0000[,\s]/);
});

test('formatUsd: at least 4 decimals, at least 3 significant digits', () => {
  assert.equal(formatUsd(0), '$0');
  assert.equal(formatUsd(0.5), '$0.5000');
  assert.equal(formatUsd(12.34567), '$12.3457');
  assert.equal(formatUsd(0.00123), '$0.00123');
  assert.equal(formatUsd(0.0000243), '$0.0000243');
  assert.equal(formatUsd(0.00001), '$0.0000100');
});
