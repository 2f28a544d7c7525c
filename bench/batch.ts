/**
 * Batch API vs online backfill: the same corpus embedded twice, once through
 * `backfill --batch-api` against the test server's Files and Batch APIs
 * (test/support/openai-server.ts, no network) and once through the online
 * path against an identical server, at the same token quota (the online
 * path's TPM is the batch path's enqueued-token limit, per minute). Each path
 * has its own server, so their counters stay apart.
 *
 *   node --import tsx bench/batch.ts [--url URL] [--chunks 100000] [--dims 256] [--quota-tokens 6000000]
 *        [--inputs-per-request 100] [--pglite]
 *
 * Reports, per path: wall time, tokens billed, cost per 1M tokens at the test
 * server's prices (batch = half the online price), texts billed twice, and
 * the local CPU time (user + system of this process) per 1k texts. The CPU
 * time includes the in-process test server making the vectors, which is the
 * same work on both paths.
 *
 * Neither path builds the ANN index (the same work afterwards on both).
 * Batches advance one step per poll (the test server's clock is the poll
 * loop), so the wall time is embctl's own work, not a provider's queue.
 *
 * Its output ends with:
 *   TARGET batch-cost-ratio: <batch $/1M ÷ online $/1M> (goal <= 0.5) OK|MISS
 *   TARGET batch-texts-billed-twice: <n> (goal == 0) OK|MISS
 *   TARGET batch-rows-lost: <live chunks without a vector> (goal == 0) OK|MISS
 *   TARGET batch-cpu-ms-per-1k-texts: <ms> (goal <= 1000) OK|MISS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { runBatchBackfill } from '../src/backfill/index.js';
import { partitionTable } from '../src/partitions/partition.js';
import { requireVersion } from '../src/versions/store.js';
import { startOpenAIServer, type OpenAIServer } from '../test/support/openai-server.js';
import {
  header,
  intFlag,
  log,
  parseFlags,
  printTargets,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['pglite']);
const chunks = intFlag(flags, 'chunks', 100_000);
const dims = intFlag(flags, 'dims', 256);
const quota = intFlag(flags, 'quota-tokens', 6_000_000);
const perRequest = intFlag(flags, 'inputs-per-request', 100);
const API_KEY = 'sk-bench-batch-0000';
const logger = silentLogger();

async function seed(db: Db): Promise<void> {
  const step = 20_000;
  for (let from = 1; from <= chunks; from += step) {
    const to = Math.min(chunks, from + step - 1);
    await sql`
      insert into document_chunks (semantic_key, document_id, chunk_no, content, content_sha256)
      select encode(sha256(('k' || g)::text::bytea), 'hex'), 'doc-' || g, 0, t, sha256(t::bytea)
      from (select g, 'chunk ' || g || ': ' || repeat('tent stove lantern kayak paddle trail summit river ', 6) as t
            from generate_series(${from}::bigint, ${to}::bigint) g) s`.execute(db.kysely);
  }
}

async function missing(db: Db, key: string): Promise<number> {
  const v = await requireVersion(db.kysely, key);
  const r = await sql<{ n: number }>`
    select count(*) as n from document_chunks c where c.retired_at is null
    and not exists (select 1 from ${sql.raw(partitionTable(v.id))} e where e.chunk_id = c.id)`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

interface PathResult {
  path: string;
  seconds: number;
  tokens: number;
  usdPerMillion: number;
  billedTwice: number;
  cpuMsPer1k: number;
  lost: number;
}

function costPerMillion(server: OpenAIServer, which: 'batch' | 'online'): { tokens: number; perM: number } {
  const c = server.cost()[which];
  return { tokens: c.tokens, perM: c.tokens ? (c.usd / c.tokens) * 1e6 : NaN };
}

async function main(): Promise<void> {
  const pglite = flags.pglite === true;
  const url = pglite ? undefined : serverUrl(flags);
  const scratch = url ? await scratchDatabase(url, 'batch') : undefined;
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-batch-'));
  const db = await openDatabase({ databaseUrl: scratch?.url, homeDir: home, logger });
  const batchServer = await startOpenAIServer({ apiKey: API_KEY, defaultDimensions: dims });
  const onlineServer = await startOpenAIServer({ apiKey: API_KEY, defaultDimensions: dims, tpm: quota });
  const results: PathResult[] = [];
  try {
    await migrate(db, { logger });
    log(`seeding ${chunks} chunks`);
    await seed(db);
    const deps = { logger, actor: 'bench', openaiApiKey: API_KEY, env: {} };
    await registerVersion(
      db,
      { key: 'via-batch', encoder: 'openai:bench-model', settings: { baseURL: batchServer.url, dimensions: dims } },
      deps,
    );
    await registerVersion(
      db,
      { key: 'via-online', encoder: 'openai:bench-model', settings: { baseURL: onlineServer.url, dimensions: dims } },
      deps,
    );
    batchServer.reset();
    onlineServer.reset();

    log('batch path');
    let cpu = process.cpuUsage();
    let t0 = performance.now();
    const b = await runBatchBackfill(
      db,
      'via-batch',
      {
        wait: true,
        index: false,
        limits: { inputsPerRequest: perRequest, enqueuedTokens: quota },
        pollMs: 1,
        maxPollMs: 1,
        sleep: async () => void batchServer.batches.advance(),
        onProgress: (p) => log(`  batch: ${p.jobs.collected} collected, ${p.textsWritten} texts written`),
      },
      deps,
    );
    let used = process.cpuUsage(cpu);
    const bc = costPerMillion(batchServer, 'batch');
    results.push({
      path: 'batch API',
      seconds: (performance.now() - t0) / 1000,
      tokens: bc.tokens,
      usdPerMillion: bc.perM,
      billedTwice: batchServer.textsBilledTwice().length,
      cpuMsPer1k: ((used.user + used.system) / 1000 / Math.max(1, b.textsWritten)) * 1000,
      lost: await missing(db, 'via-batch'),
    });

    log('online path');
    cpu = process.cpuUsage();
    t0 = performance.now();
    const o = await runBackfill(db, 'via-online', { workers: 2, tpm: quota, index: false }, deps);
    used = process.cpuUsage(cpu);
    const oc = costPerMillion(onlineServer, 'online');
    results.push({
      path: 'online',
      seconds: (performance.now() - t0) / 1000,
      tokens: oc.tokens,
      usdPerMillion: oc.perM,
      billedTwice: onlineServer.textsBilledTwice().length,
      cpuMsPer1k: ((used.user + used.system) / 1000 / Math.max(1, o.embedded)) * 1000,
      lost: await missing(db, 'via-online'),
    });

    const versions = url ? await serverVersions(url) : undefined;
    console.log(
      header(`Batch API vs online backfill: ${chunks} chunks, ${dims} dims, quota ${quota} tokens`, versions),
    );
    console.log(
      `# backend: ${pglite ? 'PGlite' : 'PostgreSQL server'}; batch jobs: ${b.jobs.length}; ${perRequest} texts per request line`,
    );
    console.log(
      table(
        [
          'path',
          'seconds',
          'tokens billed',
          '$ per 1M tokens',
          'texts billed twice',
          'CPU ms per 1k texts',
          'rows lost',
        ],
        results.map((r) => [
          r.path,
          r.seconds.toFixed(1),
          r.tokens,
          r.usdPerMillion.toFixed(4),
          r.billedTwice,
          r.cpuMsPer1k.toFixed(0),
          r.lost,
        ]),
      ),
    );
    const [batch, online] = results as [PathResult, PathResult];
    printTargets([
      target('batch-cost-ratio', batch.usdPerMillion / online.usdPerMillion, '<=', 0.5),
      target('batch-texts-billed-twice', batch.billedTwice, '==', 0),
      target('batch-rows-lost', batch.lost, '==', 0),
      target('batch-cpu-ms-per-1k-texts', batch.cpuMsPer1k, '<=', 1000),
    ]);
  } finally {
    await batchServer.close();
    await onlineServer.close();
    await db.close();
    await scratch?.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
