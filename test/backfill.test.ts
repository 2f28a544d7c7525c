import { explainText, planName } from './support/explain.js';
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, ON_CITUS, type TestDb } from './support/db.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { planBackfill, runBackfill } from '../src/backfill/run.js';
import { annIndexState, nearestQuery, partitionTable } from '../src/partitions/partition.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { requireVersion } from '../src/versions/store.js';
import { getStatus } from '../src/status/status.js';
import { silentLogger } from '../src/log/logger.js';

const KEY = 'sk-test-SECRET-backfill-0123';
const logger = silentLogger();
let db: TestDb;
let server: OpenAIServer;
const DOCS = 240;
const DUP_EVERY = 10; // docs 0, 10, 20, ... share one text

before(async () => {
  db = await freshDb();
  server = await startOpenAIServer({
    apiKey: KEY,
    modelDimensions: { 'mock-64': 64, 'mock-32': 32, 'mock-24': 24, 'mock-20': 20, 'mock-18': 18 },
    latencyMs: 5,
  });
  await ingest(db, [writeCorpus(DOCS, { dupEvery: DUP_EVERY })], {}, { logger });
});
after(async () => {
  await db?.destroy();
  await server?.close();
});

const deps = { logger, actor: 'tester', openaiApiKey: KEY, openaiBaseUrl: '', env: {} as Record<string, string> };
async function register(key: string, encoder = 'openai:mock-64') {
  return registerVersion(db, { key, encoder }, { ...deps, openaiBaseUrl: server.url });
}
const bf = (key: string, opts: Parameters<typeof runBackfill>[2] = {}) =>
  runBackfill(db, key, { leaseMs: 10_000, ...opts }, { ...deps, openaiBaseUrl: server.url });
const count = async (versionId: number) =>
  Number(
    (await sql<{ n: number }>`select count(*) as n from ${sql.raw(partitionTable(versionId))}`.execute(db.kysely))
      .rows[0]!.n,
  );
const distinctTexts = DOCS - Math.ceil(DOCS / DUP_EVERY) + 1;

describe('backfill', () => {
  test('several workers share the work: every distinct text is sent exactly once, duplicates once', async () => {
    const v = await register('multi');
    server.reset();
    const s = await bf('multi', { workers: 4, batchSize: 10 });
    assert.equal(s.complete, true);
    assert.equal(s.chunksWritten, DOCS);
    assert.equal(s.embedded, distinctTexts);
    assert.equal(await count(v.id), DOCS);
    const sent = [...server.stats.textCalls.entries()];
    assert.equal(sent.length, distinctTexts, 'distinct texts sent');
    const twice = sent.filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'a text was sent more than once');
    assert.ok(server.stats.requests >= 4, 'work was split into several requests');
    // The version is ready, with a valid index the planner uses.
    const after = await requireVersion(db.kysely, 'multi');
    assert.equal(after.state, 'ready');
    assert.equal(await annIndexState(db.kysely, v.id), 'valid');
    const events = await db.kysely
      .selectFrom('version_events')
      .select('event')
      .where('embedding_version_id', '=', v.id)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      events.map((e) => e.event),
      ['registered', 'canary_recorded', 'backfill_started', 'index_built', 'backfill_completed'],
    );
  });

  test('a second version with an identical encoder reuses every vector: zero encoder calls', async () => {
    const v = await register('multi-copy');
    server.reset();
    const plan = await planBackfill(db, 'multi-copy', {}, { ...deps, openaiBaseUrl: server.url });
    assert.equal(plan.textsToEmbed, 0);
    assert.equal(plan.reusableChunks, DOCS);
    const s = await bf('multi-copy', { workers: 2, batchSize: 16 });
    assert.equal(server.stats.requests, 0);
    assert.equal(s.reused, distinctTexts);
    assert.equal(await count(v.id), DOCS);
    // Vectors are identical to the first version's.
    const diff = await sql<{ n: number }>`
      select count(*) as n from ${sql.raw(partitionTable(v.id))} a
      join chunk_embeddings b on b.chunk_id = a.chunk_id and b.embedding_version_id = (select id from embedding_versions where version_key = 'multi')
      where a.embedding::text <> b.embedding::text`.execute(db.kysely);
    assert.equal(Number(diff.rows[0]!.n), 0);
  });

  test('dry run reports the plan and writes nothing', async () => {
    const v = await register('dry', 'openai:mock-32');
    const before = await db.kysely
      .selectFrom('backfill_batches')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    server.reset();
    const plan = await planBackfill(db, 'dry', {}, { ...deps, openaiBaseUrl: server.url });
    assert.equal(plan.missingChunks, DOCS);
    assert.equal(plan.missingTexts, distinctTexts);
    assert.ok(plan.tokens > 0);
    assert.equal(server.stats.requests, 0);
    const afterCount = await db.kysely
      .selectFrom('backfill_batches')
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
    assert.equal(await count(v.id), 0);
    assert.equal((await requireVersion(db.kysely, 'dry')).state, 'registered');
  });

  test('wrong dimensions or NaN from the encoder fail the batch, write nothing, and are retried later', async () => {
    const v = await register('faulty', 'openai:mock-32');
    server.reset();
    server.setFaults(
      { fault: { kind: 'wrong-dimensions', dimensions: 31 }, times: Infinity, match: (r) => r.n % 2 === 1 },
      { fault: { kind: 'nan' }, times: Infinity },
    );
    const s = await bf('faulty', { workers: 2, batchSize: 40, maxAttempts: 2 })
      .catch((e) => e)
      .finally(() => server.setFaults());
    assert.equal(await count(v.id), 0, 'nothing may be written');
    const batches = await db.kysely
      .selectFrom('backfill_batches')
      .selectAll()
      .where('embedding_version_id', '=', v.id)
      .execute();
    assert.ok(batches.length > 0);
    assert.ok(batches.every((b) => b.status !== 'done'));
    // A run that gives up with an error may leave batches no worker reached yet (no error, still pending).
    const tried = batches.filter((b) => b.last_error !== null);
    assert.ok(tried.length > 0, 'some batch was tried');
    const errors = tried.map((b) => b.last_error).join('\n');
    // Each batch tried keeps the error of its last attempt; every one names the version and the chunks.
    for (const line of errors.split('\n')) {
      assert.match(
        line,
        /(chunks? \d+(, \d+)*(, …)? of version faulty|for chunk \d+ in version faulty) .*nothing was written for this batch|: chunks? .* of version faulty; nothing was written for this batch$/,
        line,
      );
    }
    assert.match(errors, /dimensions/);
    assert.ok(!errors.includes(KEY));
    const status = await getStatus(db);
    const st = status.versions.find((x) => x.key === 'faulty')!;
    if (!(s instanceof Error)) {
      assert.equal(s.complete, false);
      assert.ok(s.failedBatches.length > 0);
      assert.ok(st.failedBatches > 0, 'failed batches are visible in status');
    }
    // Fixed provider (the faults were cleared above): a new run retries the batches set aside and completes.
    const ok = await bf('faulty', { workers: 2, batchSize: 40 });
    assert.equal(ok.complete, true);
    assert.equal(await count(v.id), DOCS);
  });

  test('a NaN or an Infinity from the encoder fails its batch with an error that names the chunk and the version', async () => {
    for (const [key, model, kind, item, label] of [
      ['nanv', 'mock-20', 'nan', 1, 'NaN'],
      ['infv', 'mock-18', 'infinity', 2, 'Infinity'],
    ] as const) {
      const v = await register(key, `openai:${model}`);
      server.reset();
      server.setFaults({ fault: { kind, item }, times: Infinity });
      try {
        // Every batch fails: the run gives up with the last error, or reports the batches set aside.
        const s = await bf(key, { workers: 1, batchSize: 30, maxAttempts: 1 }).catch((e: Error) => e);
        if (s instanceof Error) assert.match(s.message, new RegExp(`of version ${key}`));
        else assert.equal(s.complete, false);
      } finally {
        server.setFaults();
      }
      assert.equal(await count(v.id), 0, 'nothing may be written');
      const failed = await db.kysely
        .selectFrom('backfill_batches')
        .select(['id', 'last_error'])
        .where('embedding_version_id', '=', v.id)
        .where('last_error', 'is not', null)
        .execute();
      assert.ok(failed.length > 0, 'batches failed');
      // The text at position `item` of each request is the culprit; its chunk is named.
      const culprits = new Set(server.stats.log.filter((r) => r.status === 200).map((r) => r.texts[item]));
      for (const b of failed) {
        const m = new RegExp(
          `non-finite value \\(${label}\\) at dimension 0 of text ${item} \\(batch ${b.id}\\): chunk (\\d+) of version ${key}; nothing was written for this batch$`,
        ).exec(b.last_error ?? '');
        assert.ok(m, `batch ${b.id}: ${b.last_error}`);
        const chunk = await db.kysely
          .selectFrom('document_chunks')
          .select(['content'])
          .where('id', '=', Number(m[1]))
          .executeTakeFirstOrThrow();
        assert.ok(culprits.has(chunk.content), `chunk ${m[1]} is not the text that got the ${label}`);
      }
      const fixed = await bf(key, { workers: 1, batchSize: 30 });
      assert.equal(fixed.complete, true, JSON.stringify(fixed));
      assert.equal(await count(v.id), DOCS);
    }
  });

  test('a batch whose workers kept dying is set aside and retried, not stuck forever', async () => {
    const v = await register('crashy', 'openai:mock-32');
    const { planBatches } = await import('../src/backfill/plan.js');
    await planBatches(db.kysely, v.id, 50);
    // Three crashed attempts: leases expired, attempts used up, never failed cleanly.
    await sql`update backfill_batches set attempts = 3, locked_by = 'elsewhere:1:x', locked_until = now() - interval '1 minute'
              where embedding_version_id = ${v.id} and id = (select min(id) from backfill_batches where embedding_version_id = ${v.id})`.execute(
      db.kysely,
    );
    const s = await bf('crashy', { workers: 2, batchSize: 50 });
    assert.equal(s.complete, true);
    assert.equal(await count(v.id), DOCS);
  });

  test('--max-cost without a known price is refused', async () => {
    await assert.rejects(bf('crashy', { maxCost: 1 }), /--max-cost needs a price for openai:mock-32.*--price-per-mtok/);
  });

  test('--max-tokens stops cleanly; the next run finishes the rest', async () => {
    const v = await register('budget', 'openai:mock-24');
    const plan = await planBackfill(db, 'budget', {}, { ...deps, openaiBaseUrl: server.url });
    server.reset();
    const s = await bf('budget', { workers: 1, batchSize: 20, maxTokens: Math.floor(plan.tokens / 3) });
    assert.equal(s.stoppedBy, 'max-tokens');
    assert.equal(s.complete, false);
    assert.ok(s.tokens <= Math.floor(plan.tokens / 3));
    const partial = await count(v.id);
    assert.ok(partial > 0 && partial < DOCS, `partial ${partial}`);
    const rest = await bf('budget', { workers: 2, batchSize: 20 });
    assert.equal(rest.complete, true);
    assert.equal(await count(v.id), DOCS);
    const twice = [...server.stats.textCalls.values()].filter((n) => n > 1);
    assert.equal(twice.length, 0, 'no text paid twice across the two runs');
  });

  test("rate limits: every 429's Retry-After is honoured before its texts are sent again; nothing is lost or duplicated", async () => {
    const limited = await startOpenAIServer({
      apiKey: KEY,
      modelDimensions: { 'mock-16': 16 },
      rpm: 8,
      windowMs: 1000,
    });
    try {
      const v = await registerVersion(
        db,
        { key: 'limited', encoder: 'openai:mock-16' },
        { ...deps, openaiBaseUrl: limited.url },
      );
      limited.reset();
      // Besides the limiter's own 429s, requests 2 and 3 are refused with a long, known wait.
      limited.setFaults({
        fault: { kind: 'status', status: 429, retryAfterMs: 700 },
        times: 2,
        match: (r) => r.n === 2 || r.n === 3,
      });
      const s = await runBackfill(
        db,
        'limited',
        { workers: 3, batchSize: 12, concurrency: 6, leaseMs: 10_000 },
        { ...deps, openaiBaseUrl: limited.url },
      );
      assert.equal(s.complete, true);
      assert.equal(await count(v.id), DOCS);
      const log = limited.stats.log;
      const refused = log.filter((r) => r.status === 429);
      assert.ok(refused.length >= 2, `429s: ${refused.length}`);
      assert.equal(s.rateLimited, refused.length, 'every 429 was seen and counted by the client');
      // Causal check, immune to a slow machine: a refused request's texts can only come back after the client
      // got the 429, so their next request must arrive no sooner than the wait it was asked for.
      for (const r of refused) {
        assert.ok(r.retryAfterMs !== undefined && r.retryAfterMs > 0, 'each 429 asked for a wait');
        const again = log.find((x) => x.n > r.n && x.texts.includes(r.texts[0]!));
        assert.ok(again, `the texts of refused request ${r.n} were never sent again`);
        assert.ok(
          again.at - r.at >= r.retryAfterMs! - 5,
          `request ${r.n} was retried ${again.at - r.at} ms after a 429 that asked for ${r.retryAfterMs} ms`,
        );
      }
      const billedTwice = [...limited.stats.billedTextCalls.values()].filter((n) => n > 1);
      assert.equal(billedTwice.length, 0);
    } finally {
      await limited.close();
    }
  });

  test('sync after a new ingest brings every live version back to full coverage', async () => {
    await ingest(db, [writeCorpus(30, { prefix: 'late', seed: 7 })], {}, { logger });
    server.reset();
    for (const key of ['multi', 'multi-copy']) {
      const s = await bf(key, { sync: true });
      assert.equal(s.complete, true, key);
    }
    const live = Number(
      (
        await db.kysely
          .selectFrom('document_chunks')
          .select(sql<number>`count(*)`.as('n'))
          .where('retired_at', 'is', null)
          .executeTakeFirstOrThrow()
      ).n,
    );
    for (const key of ['multi', 'multi-copy']) {
      const v = await requireVersion(db.kysely, key);
      assert.equal(await count(v.id), live, key);
      assert.equal(v.state, 'ready');
    }
    assert.equal(server.stats.textCalls.size, 30, 'only the new texts were sent, once, for both versions');
    assert.ok([...server.stats.textCalls.values()].every((n) => n === 1));
  });

  test('after backfill the planner uses the partition index', async () => {
    // Enough rows that an index scan beats a sequential scan.
    await ingest(db, [writeCorpus(3000, { prefix: 'bulk', seed: 11 })], {}, { logger });
    const s = await bf('multi', { sync: true, workers: 2, batchSize: 500 });
    assert.equal(s.complete, true);
    const v = await requireVersion(db.kysely, 'multi');
    const q = formatVectorText(new Float32Array(64).fill(0.125));
    const built = nearestQuery(v, q, 5).compile(db.kysely);
    // On Citus each shard holds a quarter of the rows, too few for its planner to prefer the index:
    // there the plan is asked with sequential scans off (on the shards: explainText sets them there).
    const text = await explainText(db.kysely, built, ON_CITUS ? { enable_seqscan: 'off' } : {});
    assert.match(text, new RegExp(`Index Scan using ${planName(`${partitionTable(v.id)}_ann`)}`), text);
  });
});
