/**
 * Scale: ingest and backfill of N one-chunk documents on the server with
 * `hash:mixed-384` (no network), per size in its own scratch database. Each
 * step runs in its own child process (the CLI from source, or
 * bench/scale-child.ts for a step without a command) under /usr/bin/time,
 * which gives the step's wall time, CPU time and peak RSS (getrusage
 * maxRSS of the process doing the work); the database size is read after
 * each step. Steps per size:
 *
 *   baseline   `embctl versions list` (modules loaded, database opened: the fixed cost)
 *   ingest     `embctl ingest corpus.jsonl` (the corpus streamed to a temp file)
 *   dry run    `embctl backfill v1 --dry-run` (backlog, tokens, cost: what a user sees first)
 *   plan       planBatches (the batches the backfill leases), version v1
 *   backfill 1 one `embctl backfill v1 --no-index` process
 *   (v1 retired: its vectors would otherwise be reused by v2, same encoder identity)
 *   plan       planBatches, version v2
 *   backfill 2 two `embctl backfill v2 --no-index` processes at once (throughput over both)
 *   encoder    the encoder alone, one thread, on the corpus's first 20k texts
 *   encoder-bound (first size only, --encoder-bound-size): the same two
 *              backfills with an encoder that is the bottleneck, the
 *              OpenAI-compatible test server answering after a fixed latency
 *              (--encoder-latency-ms, default 200), one worker per process:
 *              the 2-process target is measured here
 *
 * Then once, on the largest size: the index build on `--index-rows` chunks
 * (copied from v2) — embctl's buildIndex (`embctl index`) against a plain
 * `CREATE INDEX … USING hnsw` of the same rows in a plain table, same
 * maintenance_work_mem and max_parallel_maintenance_workers, in
 * alternating order.
 *
 *   node --import tsx bench/scale.ts [--url URL] [--sizes 100000,1000000] [--index-rows 200000]
 *     [--index-rounds 1] [--maintenance-work-mem 512MB] [--parallel-workers 2] [--batch 256]
 *     [--encoder-bound-size N] [--encoder-latency-ms 200] [--json]
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET scale-plan-time-per-chunk-1m/100k, scale-rss-growth-<step>-1m/100k,
 *   scale-backfill-2procs/1proc-encoder-bound-<size>, scale-index-embctl/plain
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeCorpus } from './scale-data.js';
import { startOpenAIServer, type OpenAIServer } from '../test/support/openai-server.js';
import {
  header,
  intFlag,
  numListFlag,
  loadAverages,
  log,
  parseFlags,
  printTargets,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
  type Target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json']);
const sizes = numListFlag(flags, 'sizes', [100_000, 1_000_000]);
const indexRows = intFlag(flags, 'index-rows', 200_000);
const indexRounds = Math.max(1, intFlag(flags, 'index-rounds', 1));
const mwm = typeof flags['maintenance-work-mem'] === 'string' ? flags['maintenance-work-mem'] : '512MB';
const parallel = intFlag(flags, 'parallel-workers', 2);
const batch = intFlag(flags, 'batch', 256);
const encoderBoundSize = intFlag(flags, 'encoder-bound-size', sizes[0]!);
const encoderLatency = intFlag(flags, 'encoder-latency-ms', 200);
const ENCODER = 'hash:mixed-384';
const ENCODE_TEXTS = 20_000;
const MB = 1024 * 1024;
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'src/cli/run.ts');

// ---------------------------------------------------------------- steps

interface Proc {
  seconds: number;
  cpuSeconds: number;
  maxRss: number;
  stdout: string;
}

/** Run a command under /usr/bin/time: wall, user+sys CPU, peak RSS (kB) of the process. */
function timed(args: string[], env: NodeJS.ProcessEnv, logFile: string): Promise<Proc> {
  const timeFile = `${logFile}.time`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const errFd = openSync(logFile, 'a');
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', errFd],
      cwd: ROOT,
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      closeSync(errFd);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) {
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
        return reject(new Error(`${args.slice(2).join(' ')} exited with ${code}:\n${tail}\n${out.slice(-2000)}`));
      }
      const [u, sy, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ seconds, cpuSeconds: u! + sy!, maxRss: m! * 1024, stdout: out });
    });
  });
}

const cli = (args: string[]) => [process.execPath, '--import', 'tsx', CLI, ...args];
const child = (args: string[]) => [process.execPath, '--import', 'tsx', join(ROOT, 'bench/scale-child.ts'), ...args];

async function query<T>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}

const dbSize = async (url: string) =>
  Number((await query<{ n: string }>(url, 'select pg_database_size(current_database()) as n'))[0]!.n);
const count = async (url: string, sqlText: string) => Number((await query<{ n: string }>(url, sqlText))[0]!.n);

interface Step {
  size: number;
  step: string;
  rows: number;
  seconds: number;
  /** The work's own time as the command reports it (start-up excluded); the wall time when it reports none. */
  workSeconds: number;
  cpuSeconds: number;
  /** Σ over the step's processes (1 except `backfill 2 procs`). */
  processes: number;
  maxRss: number;
  dbBytes: number;
  note?: string;
}

async function runSize(admin: string, n: number, tmp: string, keepForIndex: boolean) {
  const scratch = await scratchDatabase(admin, `scale${n}`);
  const url = scratch.url;
  const home = mkdtempSync(join(tmp, 'home-'));
  const env = { DATABASE_URL: url, EMBCTL_HOME: home, EMBCTL_LOG_LEVEL: 'warn', NO_COLOR: '1' };
  const logFile = join(tmp, `size-${n}.log`);
  const steps: Step[] = [];
  const add = async (step: string, rows: number, p: Proc, processes = 1, note?: string, work?: number) => {
    let reported: number | undefined = work;
    try {
      reported ??= (JSON.parse(p.stdout) as { seconds?: number }).seconds;
    } catch {
      /* no JSON */
    }
    const workSeconds = typeof reported === 'number' && reported > 0 ? reported : p.seconds;
    const s: Step = { size: n, step, rows, processes, ...p, workSeconds, dbBytes: await dbSize(url), note };
    steps.push(s);
    log(
      `${n}: ${step}: ${s.seconds.toFixed(1)} s (work ${s.workSeconds.toFixed(1)} s), ${(rows / s.workSeconds).toFixed(0)} rows/s, peak RSS ${(s.maxRss / MB).toFixed(0)} MB, db ${(s.dbBytes / MB).toFixed(0)} MB`,
    );
    return s;
  };
  let encodeRate: number;
  try {
    const corpus = join(tmp, `corpus-${n}.jsonl`);
    const t0 = performance.now();
    const bytes = writeCorpus(corpus, n, 7);
    log(`${n}: corpus written, ${(bytes / MB).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    await timed(cli(['migrate']), env, logFile);
    await add('baseline (versions list)', 0, await timed(cli(['versions', 'list', '--json']), env, logFile));
    await add('baseline (scale-child)', 0, await timed(child(['baseline', url]), env, logFile));
    await add('ingest', n, await timed(cli(['ingest', corpus, '--json']), env, logFile));
    const chunks = await count(url, 'select count(*) as n from document_chunks where retired_at is null');
    if (chunks !== n) throw new Error(`ingest made ${chunks} live chunks, expected ${n}`);

    const register = (key: string) =>
      timed(cli(['versions', 'register', key, '--encoder', ENCODER, '--index', 'hnsw', '--json']), env, logFile);
    await register('v1');
    await add(
      'backfill --dry-run (plan estimate)',
      n,
      await timed(cli(['backfill', 'v1', '--dry-run', '--json']), env, logFile),
    );
    const plan1 = await timed(child(['plan', url, 'v1', String(batch)]), env, logFile);
    await add('plan (planBatches)', n, plan1, 1, `${JSON.parse(plan1.stdout).batches} batches`);
    const b1 = await timed(
      cli(['backfill', 'v1', '--no-index', '--batch-size', String(batch), '--json']),
      env,
      logFile,
    );
    await add('backfill, 1 process', n, b1);
    const v1rows = await count(
      url,
      "select count(*) as n from chunk_embeddings e join embedding_versions v on v.id = e.embedding_version_id where v.version_key = 'v1'",
    );
    if (v1rows !== n) throw new Error(`v1 holds ${v1rows} vectors, expected ${n}`);

    // Same encoder identity: v2 would reuse v1's vectors (never embed the same text twice). Retire v1 first.
    await timed(cli(['retire', 'v1', '--yes', '--reason', 'bench: fresh backfill for v2']), env, logFile);
    await register('v2');
    const plan2 = await timed(child(['plan', url, 'v2', String(batch)]), env, logFile);
    await add('plan (planBatches), again', n, plan2, 1, `${JSON.parse(plan2.stdout).batches} batches`);
    const args2 = cli(['backfill', 'v2', '--no-index', '--batch-size', String(batch), '--json']);
    const t2 = performance.now();
    const [p, q] = await Promise.all([timed(args2, env, logFile), timed(args2, env, logFile)]);
    const wall = (performance.now() - t2) / 1000;
    const out = [p, q].map((r) => JSON.parse(r.stdout) as { chunksWritten?: number; seconds?: number });
    const written = out.map((o) => o.chunksWritten ?? NaN);
    await add(
      'backfill, 2 processes',
      n,
      { seconds: wall, cpuSeconds: p.cpuSeconds + q.cpuSeconds, maxRss: Math.max(p.maxRss, q.maxRss), stdout: '' },
      2,
      `chunks written per process ${written.join(' + ')}; peak RSS is the larger process's; work = the longer process's`,
      Math.max(...out.map((o) => o.seconds ?? NaN)),
    );
    const v2rows = await count(
      url,
      "select count(*) as n from chunk_embeddings e join embedding_versions v on v.id = e.embedding_version_id where v.version_key = 'v2'",
    );
    if (v2rows !== n) throw new Error(`v2 holds ${v2rows} vectors, expected ${n}`);

    if (n === encoderBoundSize) await encoderBound(n, url, env, logFile, add);

    const enc = await timed(child(['encode', corpus, 'mixed-384', String(Math.min(n, ENCODE_TEXTS))]), env, logFile);
    const e = JSON.parse(enc.stdout) as { texts: number; seconds: number };
    encodeRate = e.texts / e.seconds;
    log(`${n}: encoder alone ${encodeRate.toFixed(0)} texts/s`);
    rmSync(corpus, { force: true });
  } catch (err) {
    await scratch.drop().catch(() => {});
    throw err;
  }
  return { steps, encodeRate, url, drop: scratch.drop, keep: keepForIndex };
}

// ---------------------------------------------------------------- encoder-bound backfill

/**
 * The 2-process target holds "when the encoder is the bottleneck". hash:
 * is not (the backfill's CPU / wall shows it: the database is), so the
 * scaling of processes is measured with an encoder that is: the
 * OpenAI-compatible test server answering each request after a fixed
 * latency, one worker (one request in flight) per process, the same chunks.
 */
async function encoderBound(
  n: number,
  url: string,
  env: Record<string, string>,
  logFile: string,
  add: (step: string, rows: number, p: Proc, processes?: number, note?: string, work?: number) => Promise<Step>,
): Promise<void> {
  const server: OpenAIServer = await startOpenAIServer({
    apiKey: 'sk-bench-scale',
    defaultDimensions: 384,
    latencyMs: encoderLatency,
  });
  try {
    const e = { ...env, OPENAI_BASE_URL: server.url, OPENAI_API_KEY: 'sk-bench-scale' };
    const note = `openai:bench-384 via the test server, ${encoderLatency} ms per request, --workers 1 per process`;
    const args = (key: string) =>
      cli(['backfill', key, '--no-index', '--batch-size', String(batch), '--workers', '1', '--json']);
    const register = (key: string) =>
      timed(cli(['versions', 'register', key, '--encoder', 'openai:bench-384', '--json']), e, logFile);
    const sentTwice = (what: string) => {
      const n2 = [...server.stats.textCalls.values()].filter((c) => c > 1).length;
      if (n2 > 0) throw new Error(`${what}: ${n2} texts were sent twice`);
    };
    await register('eb1');
    server.reset();
    await add('backfill encoder-bound, 1 process', n, await timed(args('eb1'), e, logFile), 1, note);
    await timed(cli(['retire', 'eb1', '--yes', '--reason', 'bench: fresh backfill for eb2']), e, logFile);
    sentTwice('encoder-bound backfill, 1 process');
    await register('eb2');
    server.reset();
    const t0 = performance.now();
    const [p, q] = await Promise.all([timed(args('eb2'), e, logFile), timed(args('eb2'), e, logFile)]);
    const wall = (performance.now() - t0) / 1000;
    const out = [p, q].map((r) => JSON.parse(r.stdout) as { chunksWritten?: number; seconds?: number });
    await add(
      'backfill encoder-bound, 2 processes',
      n,
      { seconds: wall, cpuSeconds: p.cpuSeconds + q.cpuSeconds, maxRss: Math.max(p.maxRss, q.maxRss), stdout: '' },
      2,
      `${note}; chunks written per process ${out.map((o) => o.chunksWritten).join(' + ')}`,
      Math.max(...out.map((o) => o.seconds ?? NaN)),
    );
    sentTwice('encoder-bound backfill, 2 processes');
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------- index build

interface IndexRun {
  method: 'embctl' | 'plain';
  round: number;
  seconds: number;
  /** embctl: the CLI process's wall time (start-up, connection, lock included). */
  processSeconds?: number;
}

async function indexBuild(
  url: string,
  rows: number,
  tmp: string,
): Promise<{ runs: IndexRun[]; rows: number; m: number; ef: number }> {
  const home = mkdtempSync(join(tmp, 'home-'));
  const env = { DATABASE_URL: url, EMBCTL_HOME: home, EMBCTL_LOG_LEVEL: 'warn', NO_COLOR: '1' };
  const logFile = join(tmp, 'index.log');
  const v2 = (
    await query<{ id: number; p: { m?: number; ef_construction?: number } }>(
      url,
      "select id, index_params as p from embedding_versions where version_key = 'v2'",
    )
  )[0]!;
  const m = v2.p.m ?? 16;
  const ef = v2.p.ef_construction ?? 64;
  const runs: IndexRun[] = [];
  for (let round = 1; round <= indexRounds; round++) {
    const order: Array<'embctl' | 'plain'> = round % 2 === 1 ? ['embctl', 'plain'] : ['plain', 'embctl'];
    for (const method of order) {
      if (method === 'embctl') {
        const key = `ix${round}`;
        await timed(
          cli([
            'versions',
            'register',
            key,
            '--encoder',
            ENCODER,
            '--index',
            'hnsw',
            '--m',
            String(m),
            '--ef-construction',
            String(ef),
            '--json',
          ]),
          env,
          logFile,
        );
        const id = (
          await query<{ id: number }>(url, 'select id from embedding_versions where version_key = $1', [key])
        )[0]!.id;
        await query(
          url,
          `insert into chunk_embeddings_v${id} (chunk_id, embedding_version_id, embedding)
          select chunk_id, ${id}, embedding from chunk_embeddings_v${v2.id} order by chunk_id limit ${rows}`,
        );
        await query(url, 'checkpoint');
        const p = await timed(
          cli(['index', key, '--maintenance-work-mem', mwm, '--parallel-workers', String(parallel), '--json']),
          env,
          logFile,
        );
        const r = JSON.parse(p.stdout) as { built: boolean; ms: number };
        if (!r.built) throw new Error(`embctl index ${key} did not build: ${p.stdout}`);
        runs.push({ method, round, seconds: r.ms / 1000, processSeconds: p.seconds });
        log(`index build, embctl, round ${round}: ${(r.ms / 1000).toFixed(1)} s (process ${p.seconds.toFixed(1)} s)`);
        await timed(cli(['retire', key, '--yes', '--reason', 'bench']), env, logFile);
      } else {
        await query(url, 'drop table if exists scale_plain');
        await query(url, `create table scale_plain (chunk_id bigint primary key, embedding vector(384))`);
        await query(
          url,
          `insert into scale_plain select chunk_id, embedding from chunk_embeddings_v${v2.id} order by chunk_id limit ${rows}`,
        );
        await query(url, 'vacuum analyze scale_plain');
        await query(url, 'checkpoint');
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`set maintenance_work_mem = '${mwm.replace(/[^0-9A-Za-z]/g, '')}'`);
          await c.query(`set max_parallel_maintenance_workers = ${parallel}`);
          const t0 = performance.now();
          await c.query(
            `create index on scale_plain using hnsw (embedding vector_cosine_ops) with (m = ${m}, ef_construction = ${ef})`,
          );
          const seconds = (performance.now() - t0) / 1000;
          runs.push({ method, round, seconds });
          log(`index build, plain, round ${round}: ${seconds.toFixed(1)} s`);
        } finally {
          await c.end();
        }
        await query(url, 'drop table scale_plain');
      }
    }
  }
  return { runs, rows, m, ef };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const admin = serverUrl(flags);
  const versions = await serverVersions(admin);
  const tmp = mkdtempSync(join(tmpdir(), 'embctl-bench-scale-'));
  const perSize: Array<Awaited<ReturnType<typeof runSize>>> = [];
  let index: Awaited<ReturnType<typeof indexBuild>> | null = null;
  const serverSettings = await query<{ name: string; setting: string; unit: string | null }>(
    admin,
    "select name, setting, unit from pg_settings where name in ('shared_buffers', 'max_worker_processes', 'max_parallel_workers', 'fsync', 'synchronous_commit', 'max_wal_size')",
  );
  try {
    const largest = Math.max(...sizes);
    for (const n of sizes) {
      const r = await runSize(admin, n, tmp, n === largest);
      perSize.push(r);
      if (!r.keep) await r.drop();
    }
    const big = perSize.find((r) => r.keep)!;
    if (indexRows > 0) index = await indexBuild(big.url, Math.min(indexRows, largest), tmp);
  } finally {
    for (const r of perSize) if (r.keep) await r.drop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }

  const steps = perSize.flatMap((r) => r.steps);
  const k = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}m` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
  const targets: Target[] = [];
  const first = sizes[0]!;
  const last = sizes[sizes.length - 1]!;
  const get = (n: number, step: string) => steps.find((s) => s.size === n && s.step === step);
  const baselineOf = (n: number, step: string) =>
    get(n, step.startsWith('plan') ? 'baseline (scale-child)' : 'baseline (versions list)')!.maxRss;
  if (sizes.length > 1) {
    const plans = ['plan (planBatches)', 'backfill --dry-run (plan estimate)'];
    for (const [name, step] of [
      ['plan-time-per-chunk', plans[0]!],
      ['dry-run-time-per-chunk', plans[1]!],
    ] as const) {
      const a = get(first, step)!;
      const b = get(last, step)!;
      targets.push(
        target(`scale-${name}-${k(last)}/${k(first)}`, b.workSeconds / b.rows / (a.workSeconds / a.rows), '<=', 1),
      );
    }
    for (const [name, step] of [
      ['ingest', 'ingest'],
      ['dry-run', 'backfill --dry-run (plan estimate)'],
      ['plan', 'plan (planBatches)'],
      ['backfill-1proc', 'backfill, 1 process'],
      ['backfill-2procs', 'backfill, 2 processes'],
    ] as const) {
      const a = get(first, step)!.maxRss - baselineOf(first, step);
      const b = get(last, step)!.maxRss - baselineOf(last, step);
      targets.push(target(`scale-rss-growth-${name}-${k(last)}/${k(first)}`, b / Math.max(a, 1), '<=', 1.5));
    }
  }
  const ratios = sizes.map((n) => {
    const one = get(n, 'backfill, 1 process')!;
    const two = get(n, 'backfill, 2 processes')!;
    // Wall time (start-up included in both) is the conservative one: each process's own time starts after
    // its own start-up, so the longer of the two can miss the other's head start.
    return { size: n, ratio: one.seconds / two.seconds, workRatio: one.workSeconds / two.workSeconds };
  });
  // The target holds when the encoder is the bottleneck: the encoder-bound runs. On the wall time
  // (the conservative ratio; the table shows both). The hash: runs' ratios are in the table.
  const eb1 = steps.find((s) => s.step === 'backfill encoder-bound, 1 process');
  const eb2 = steps.find((s) => s.step === 'backfill encoder-bound, 2 processes');
  if (eb1 && eb2)
    targets.push(
      target(`scale-backfill-2procs/1proc-encoder-bound-${k(eb1.size)}`, eb1.seconds / eb2.seconds, '>=', 1.6),
    );
  let indexRatio = NaN;
  if (index) {
    const sum = (m: string) => index!.runs.filter((r) => r.method === m).reduce((a, r) => a + r.seconds, 0);
    indexRatio = sum('plain') / sum('embctl'); // speed embctl / speed plain
    targets.push(target('scale-index-embctl/plain', indexRatio, '>=', 0.9));
  }

  if (flags.json === true) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'scale',
          loadavg: loadAverages(),
          server: versions,
          serverSettings,
          encoder: ENCODER,
          batch,
          steps,
          encodeRates: perSize.map((r) => ({ size: r.steps[0]?.size, textsPerSec: r.encodeRate })),
          backfillRatios: ratios,
          index,
          indexRatio,
          maintenanceWorkMem: mwm,
          parallelWorkers: parallel,
          targets,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(header(`scale — ingest and backfill on the server, ${ENCODER}, sizes ${sizes.join(', ')}`, versions));
  console.log(`# server settings: ${serverSettings.map((s) => `${s.name}=${s.setting}${s.unit ?? ''}`).join(', ')}`);
  console.log(
    `each step is its own process under /usr/bin/time: seconds = its wall time (Node + tsx start-up, several seconds on this loaded machine, included), work seconds = the time the command reports for its work (ingest, backfill, plan; the wall time for the dry run), rows/s over work seconds, CPU = its user+sys, peak RSS = its getrusage maxRSS; baseline = \`embctl versions list\` (modules loaded, database opened; for the plan steps the same for bench/scale-child.ts); RSS growth = peak − baseline; db = pg_database_size after the step. Backfills: --no-index, --batch-size ${batch}, --workers 2 (in-process concurrency, the default). v1 is retired before v2 is registered (same encoder identity: v2 would reuse v1's vectors). Order: 1 process, then 2.`,
  );
  console.log('');
  console.log(
    table(
      [
        'size',
        'step',
        'procs',
        'seconds',
        'rows/s',
        'CPU s (Node)',
        'CPU / wall',
        'peak RSS (MB)',
        'growth (MB)',
        'db (MB)',
        'note',
      ],
      steps.map((s) => [
        s.size,
        s.step,
        s.processes,
        s.seconds,
        s.workSeconds,
        s.rows ? s.rows / s.workSeconds : 0,
        s.cpuSeconds,
        s.cpuSeconds / s.seconds,
        s.maxRss / MB,
        (s.maxRss - baselineOf(s.size, s.step)) / MB,
        s.dbBytes / MB,
        s.note ?? '',
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      [
        'size',
        'encoder alone (texts/s, 1 thread)',
        'backfill 1 proc (rows/s, work)',
        'backfill / encoder alone',
        'backfill 2 procs (rows/s, work)',
        '2 procs / 1 proc (wall)',
        '2 procs / 1 proc (work)',
      ],
      perSize.map((r, i) => {
        const one = get(r.steps[0]!.size, 'backfill, 1 process')!;
        const two = get(r.steps[0]!.size, 'backfill, 2 processes')!;
        return [
          r.steps[0]!.size,
          r.encodeRate,
          one.rows / one.workSeconds,
          one.rows / one.workSeconds / r.encodeRate,
          two.rows / two.workSeconds,
          ratios[i]!.ratio,
          ratios[i]!.workRatio,
        ];
      }),
    ),
  );
  console.log(
    'The encoder runs on the Node process\'s main thread: "CPU / wall" near 1.0 for a 1-process backfill means that process (the encoder, plus encoding vectors for COPY) is the bottleneck; a second process can then at most use the second core, which PostgreSQL (COPY, the lease queries) and the rest of the machine share.',
  );
  if (index) {
    console.log('');
    console.log(
      `index build: ${index.rows} chunks × 384-d from v2, HNSW m ${index.m}, ef_construction ${index.ef}, cosine; maintenance_work_mem ${mwm}, max_parallel_maintenance_workers ${parallel} for both. embctl = \`embctl index <key>\` (buildIndex on a version that is not active: a plain CREATE INDEX in a transaction on the partition's cast expression, parallel_workers set on the partition, ANALYZE after; seconds = the build time it reports, settings + CREATE INDEX + ANALYZE; the CLI process's wall time beside it); plain = \`CREATE INDEX ON scale_plain USING hnsw (embedding vector_cosine_ops)\` on a plain table (chunk_id bigint, embedding vector(384)) holding the same rows, the statement's time only.`,
    );
    console.log(
      table(
        ['round', 'method', 'seconds', 'rows/s', 'process seconds'],
        index.runs.map((r) => [
          String(r.round),
          r.method,
          r.seconds,
          index!.rows / r.seconds,
          r.processSeconds === undefined ? '' : r.processSeconds.toFixed(1),
        ]),
      ),
    );
    console.log(`speed embctl / plain (Σ plain seconds / Σ embctl seconds): ${indexRatio.toFixed(3)}`);
  }
  console.log('');
  printTargets(targets);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
