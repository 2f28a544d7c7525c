/**
 * Quota use: a backfill against a rate-limited OpenAI-compatible server
 * (test/support/openai-server.ts, no network), told the same limits. Reports
 * the throughput reached over the steady part of the run as a fraction of
 * the limit, the 429s, and checks that no row is lost or duplicated and no
 * text billed twice.
 *
 *   node --import tsx bench/quota.ts [--url URL] [--bind requests|tokens|both] [--chunks 20000]
 *        [--seconds 60] [--window-ms 6000] [--workers 2] [--concurrency N]
 *        [--batch-requests 64] [--batch-tokens 64] [--latency-min 150] [--latency-max 400] [--json]
 *
 * The window is shortened to keep the run short: the server allows L requests
 * (or T tokens) per --window-ms W, and the backfill is told rpm = L·60000/W
 * (tpm = T·60000/W), the same rate in per-minute units. L and T are sized so
 * that the run takes about --seconds. Latency per request: uniform in
 * [latency-min, latency-max] ms, scaled by items / batch size.
 * `--bind requests`: RPM binds (TPM set 3× above need);
 * `--bind tokens`: TPM binds (RPM set 3× above need).
 *
 * Targets, per bind: use of the binding limit ≥ 0.9, 0 rows lost (live
 * chunks without a vector), 0 texts paid twice. About 2.5 minutes.
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET quota-<requests|tokens>-use-of-limit: <share of the limit used> (goal >= 0.9) OK|MISS
 *   TARGET quota-<requests|tokens>-rows-lost: <n> (goal == 0) OK|MISS
 *   TARGET quota-<requests|tokens>-texts-paid-twice: <n> (goal == 0) OK|MISS
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { planBackfill, runBackfill } from '../src/backfill/run.js';
import { partitionTable } from '../src/partitions/partition.js';
import { startOpenAIServer } from '../test/support/openai-server.js';
import { writeCorpus } from '../test/support/corpus.js';
import {
  header,
  intFlag,
  loadAverages,
  log,
  numFlag,
  parseFlags,
  printTargets,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json']);
const asJson = flags.json === true;
const chunks = intFlag(flags, 'chunks', 20_000);
const seconds = numFlag(flags, 'seconds', 60);
const windowMs = intFlag(flags, 'window-ms', 6_000);
const workers = intFlag(flags, 'workers', 2);
const concurrency = flags.concurrency === undefined ? undefined : intFlag(flags, 'concurrency', 4);
const latMin = numFlag(flags, 'latency-min', 150);
const latMax = numFlag(flags, 'latency-max', 400);
const bindFlag = String(flags.bind ?? 'both');
const binds = bindFlag === 'both' ? (['requests', 'tokens'] as const) : [bindFlag as 'requests' | 'tokens'];
if (!binds.every((b) => b === 'requests' || b === 'tokens')) throw new Error('--bind must be requests, tokens or both');
const API_KEY = 'sk-bench-quota-0000';
const perMinute = 60_000 / windowMs;

interface Scenario {
  bind: 'requests' | 'tokens';
  batchSize: number;
  windowMs: number;
  limitRequestsPerWindow: number;
  limitTokensPerWindow: number;
  rpm: number;
  tpm: number;
  requests: number;
  accepted: number;
  rateLimited: number;
  clientRateLimited: number;
  retries: number;
  runSeconds: number;
  steadySeconds: number;
  steadyRequestsPerMin: number;
  steadyTokensPerMin: number;
  /** steady rate / limit of the binding dimension */
  useOfLimit: number;
  /** best full window (sliding) / limit */
  peakWindowUse: number;
  wholeRunUse: number;
  liveChunks: number;
  partitionRows: number;
  distinctChunkIds: number;
  distinctTexts: number;
  textsBilled: number;
  textsBilledTwice: number;
  ok: boolean;
}

async function scenario(db: Db, bind: 'requests' | 'tokens', model: string): Promise<Scenario> {
  const batchSize = bind === 'requests' ? intFlag(flags, 'batch-requests', 64) : intFlag(flags, 'batch-tokens', 64);
  const deps = { logger: silentLogger(), actor: 'bench', openaiApiKey: API_KEY, env: {} as Record<string, string> };
  // One server for registration (the version stores its base URL) and the run.
  // Its options are read per request: the limits are set once the work is known.
  const serverOpts: Parameters<typeof startOpenAIServer>[0] & object = {
    apiKey: API_KEY,
    modelDimensions: { [model]: 256 },
    windowMs,
  };
  const server = await startOpenAIServer(serverOpts);
  await registerVersion(
    db,
    { key: model, encoder: `openai:${model}`, index: 'none' },
    { ...deps, openaiBaseUrl: server.url },
  );
  const plan = await planBackfill(db, model, {}, deps);
  // Size the limits from the work: about `seconds` of it at the limit.
  const requestsNeeded = Math.ceil(plan.textsToEmbed / batchSize);
  const windows = (seconds * 1000) / windowMs;
  let L: number;
  let T: number;
  if (bind === 'requests') {
    L = Math.max(2, Math.round(requestsNeeded / windows));
    T = Math.ceil((plan.tokens / windows) * 3);
  } else {
    T = Math.round(plan.tokens / windows);
    L = Math.max(4, Math.ceil((requestsNeeded / windows) * 3));
  }
  serverOpts.rpm = L;
  serverOpts.tpm = T;
  serverOpts.latencyMs = (items: number) =>
    (latMin + Math.random() * (latMax - latMin)) * Math.min(1, items / batchSize);
  server.reset();
  try {
    const rpm = L * perMinute;
    const tpm = T * perMinute;
    log(
      `${bind}: ${plan.textsToEmbed} texts, ${plan.tokens} tokens, batch ${batchSize} (~${requestsNeeded} requests); server ${L} req + ${T} tokens per ${windowMs} ms; backfill --rpm ${rpm} --tpm ${tpm}`,
    );
    const summary = await runBackfill(
      db,
      model,
      { workers, batchSize, rpm, tpm, concurrency, leaseMs: 60_000, index: false },
      { ...deps, openaiBaseUrl: server.url },
    );
    if (!summary.complete) throw new Error(`backfill of ${model} stopped: ${summary.stoppedBy}`);

    const accepted = server.stats.log.filter((r) => r.status === 200).sort((a, b) => a.at - b.at);
    const first = accepted[0]!.at;
    const last = accepted[accepted.length - 1]!.at;
    // Steady part: skip the first window (the client's buckets start empty while
    // the server's window is empty too) and the last one (the queue drains).
    const from = first + windowMs;
    const to = last - windowMs;
    const steady = accepted.filter((r) => r.at >= from && r.at < to);
    const steadyMs = Math.max(1, to - from);
    const steadyReq = (steady.length / steadyMs) * 60_000;
    const steadyTok = (steady.reduce((a, r) => a + r.tokens, 0) / steadyMs) * 60_000;
    // Busiest full window, as the server counts it.
    let peak = 0;
    for (let i = 0, j = 0, tok = 0; i < accepted.length; i++) {
      while (j < accepted.length && accepted[j]!.at < accepted[i]!.at + windowMs) tok += accepted[j++]!.tokens;
      peak = Math.max(peak, bind === 'requests' ? j - i : tok);
      tok -= accepted[i]!.tokens;
    }
    const wholeMs = Math.max(1, last - first);
    const whole =
      bind === 'requests'
        ? (((accepted.length - 1) / wholeMs) * windowMs) / L
        : ((accepted.slice(0, -1).reduce((a, r) => a + r.tokens, 0) / wholeMs) * windowMs) / T;

    const table_ = sql.raw(
      partitionTable(
        (
          await db.kysely
            .selectFrom('embedding_versions')
            .select('id')
            .where('version_key', '=', model)
            .executeTakeFirstOrThrow()
        ).id,
      ),
    );
    const counts = (
      await sql<{ live: string; rows: string; ids: string; texts: string }>`
      select (select count(*) from document_chunks where retired_at is null) as live,
             (select count(*) from ${table_}) as rows,
             (select count(distinct chunk_id) from ${table_}) as ids,
             (select count(distinct content_sha256) from document_chunks where retired_at is null) as texts`.execute(
        db.kysely,
      )
    ).rows[0]!;
    const billed = [...server.stats.billedTextCalls.values()];
    const s: Scenario = {
      bind,
      batchSize,
      windowMs,
      limitRequestsPerWindow: L,
      limitTokensPerWindow: T,
      rpm,
      tpm,
      requests: server.stats.requests,
      accepted: accepted.length,
      rateLimited: server.stats.rateLimited,
      clientRateLimited: summary.rateLimited,
      retries: summary.retries,
      runSeconds: summary.seconds,
      steadySeconds: steadyMs / 1000,
      steadyRequestsPerMin: steadyReq,
      steadyTokensPerMin: steadyTok,
      useOfLimit: bind === 'requests' ? steadyReq / rpm : steadyTok / tpm,
      peakWindowUse: peak / (bind === 'requests' ? L : T),
      wholeRunUse: whole,
      liveChunks: Number(counts.live),
      partitionRows: Number(counts.rows),
      distinctChunkIds: Number(counts.ids),
      distinctTexts: Number(counts.texts),
      textsBilled: billed.length,
      textsBilledTwice: billed.filter((n) => n !== 1).length,
      ok: false,
    };
    s.ok =
      s.partitionRows === s.liveChunks &&
      s.distinctChunkIds === s.liveChunks &&
      s.textsBilledTwice === 0 &&
      s.textsBilled === s.distinctTexts;
    return s;
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const admin = serverUrl(flags);
  const versions = await serverVersions(admin);
  const scratch = await scratchDatabase(admin, 'quota');
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-quota-'));
  const db = await openDatabase({ databaseUrl: scratch.url, homeDir: home, logger: silentLogger(), poolSize: 10 });
  const results: Scenario[] = [];
  try {
    await migrate(db, { logger: silentLogger() });
    log(`ingesting ${chunks} documents`);
    const corpus = writeCorpus(chunks, { seed: 5, dupEvery: 100 });
    await ingest(db, [corpus], {}, { logger: silentLogger() });
    rmSync(join(corpus, '..'), { recursive: true, force: true });
    for (const [i, bind] of binds.entries()) results.push(await scenario(db, bind, `mock-quota-${i}`));
  } finally {
    await db.close();
    await scratch.drop();
    rmSync(home, { recursive: true, force: true });
  }
  const targets = results.flatMap((r) => [
    target(`quota-${r.bind}-use-of-limit`, r.useOfLimit, '>=', 0.9),
    target(`quota-${r.bind}-rows-lost`, r.liveChunks - r.distinctChunkIds, '==', 0),
    target(`quota-${r.bind}-texts-paid-twice`, r.textsBilledTwice, '==', 0),
  ]);
  const out = {
    benchmark: 'quota',
    loadavg: loadAverages(),
    server: versions,
    chunks,
    workers,
    concurrency: concurrency ?? workers * 2,
    latencyMs: [latMin, latMax],
    results,
    targets,
  };
  if (asJson) {
    console.log(JSON.stringify(out, null, 2));
  } else {
    console.log(
      header(
        `quota use — ${chunks} chunks, window ${windowMs} ms (limit L per window ⇒ backfill told L·${perMinute}/min), workers ${workers}, concurrency ${concurrency ?? workers * 2}, latency ${latMin}–${latMax} ms`,
        versions,
      ),
    );
    console.log(
      'use of limit = accepted rate over the steady part (first and last window excluded) / the limit told to the backfill',
    );
    console.log('');
    console.log(
      table(
        [
          'binds',
          'batch',
          'limit/window',
          'told',
          'steady/min',
          'use of limit',
          'peak window',
          'whole run',
          '429s',
          'run s',
          'rows=live',
          'billed 2×',
        ],
        results.map((r) => [
          r.bind,
          r.batchSize,
          r.bind === 'requests' ? `${r.limitRequestsPerWindow} req` : `${r.limitTokensPerWindow} tok`,
          r.bind === 'requests' ? `--rpm ${r.rpm}` : `--tpm ${r.tpm}`,
          r.bind === 'requests' ? r.steadyRequestsPerMin : r.steadyTokensPerMin,
          r.useOfLimit,
          r.peakWindowUse,
          r.wholeRunUse,
          r.rateLimited,
          r.runSeconds,
          `${r.partitionRows}=${r.liveChunks}`,
          r.textsBilledTwice,
        ]),
      ),
    );
    for (const r of results) {
      console.log(
        `${r.bind}: ${r.ok ? 'OK' : 'FAILED'} — ${r.partitionRows} rows for ${r.liveChunks} live chunks (${r.distinctChunkIds} distinct ids), ${r.textsBilled} texts billed for ${r.distinctTexts} distinct, ${r.textsBilledTwice} billed more than once; ${r.accepted} accepted requests, ${r.rateLimited} 429s, ${r.retries} retries`,
      );
    }
    console.log('');
    printTargets(targets);
  }
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
