/**
 * The embedded database's ceiling: for growing corpus sizes, the whole
 * lifecycle on PGlite (a temp folder) — ingest, register, backfill with
 * `hash:mixed-384`, HNSW index build, searches — each size in a fresh child
 * process (bench/pglite-ceiling-child.ts), stopped when it passes
 * `--limit-seconds` (default 600: "under 10 minutes"). Reports per size each
 * step's time, the end-to-end time (the child's wall time, Node start-up
 * included), search p50/p99 (pooled, nearest rank) and the process's peak
 * RSS; stops at the first size over the limit. The ceiling is the largest
 * size done end to end within the limit.
 *
 *   node --import tsx bench/pglite-ceiling.ts [--sizes 10000,25000,50000,100000,200000] [--limit-seconds 600] [--queries 50] [--json]
 *
 * No TARGET line: the issue asks to measure the ceiling, not to reach one.
 * The measured ceiling is EMBEDDED_CHUNK_CEILING in src/status/ceiling.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { header, intFlag, loadAverages, log, numListFlag, p50, p99, parseFlags, table } from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json']);
const sizes = numListFlag(flags, 'sizes', [10_000, 25_000, 50_000, 100_000, 200_000]);
const limit = intFlag(flags, 'limit-seconds', 600);
const queries = intFlag(flags, 'queries', 50);
const MB = 1024 * 1024;

interface SizeRun {
  chunks: number;
  steps: Array<{ step: string; seconds: number }>;
  seconds: number;
  done: boolean;
  stoppedIn?: string;
  searchMs: number[];
  maxRss: number;
}

function runSize(n: number): Promise<SizeRun> {
  const folder = mkdtempSync(join(tmpdir(), 'embctl-bench-ceiling-'));
  const timeFile = join(folder, 'time.txt');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      '/usr/bin/time',
      [
        '-f',
        '%M',
        '-o',
        timeFile,
        process.execPath,
        '--import',
        'tsx',
        join(import.meta.dirname, 'pglite-ceiling-child.ts'),
        String(n),
        folder,
        String(queries),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const run: SizeRun = { chunks: n, steps: [], seconds: 0, done: false, searchMs: [], maxRss: NaN };
    let out = '';
    let err = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(-child.pid!, 'SIGKILL'); // its own process group: time and node
      } catch {
        /* gone */
      }
    }, limit * 1000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let nl = out.indexOf('\n');
      while (nl >= 0) {
        const o = JSON.parse(out.slice(0, nl)) as { step?: string; seconds?: number; searchMs?: number[] };
        if (o.step) {
          run.steps.push({ step: o.step, seconds: o.seconds! });
          log(`${n}: ${o.step} ${o.seconds!.toFixed(1)} s`);
        }
        if (o.searchMs) run.searchMs = o.searchMs;
        out = out.slice(nl + 1);
        nl = out.indexOf('\n');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      run.seconds = (performance.now() - t0) / 1000;
      try {
        const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
        if (kb > 0) run.maxRss = kb * 1024; // empty when the process was stopped
      } catch {
        /* killed before time wrote it */
      }
      rmSync(folder, { recursive: true, force: true });
      if (killed) {
        const names = ['open + migrate', 'ingest', 'register', 'backfill', 'index', 'search'];
        run.stoppedIn = names[run.steps.length] ?? 'exit';
        return resolve(run);
      }
      if (code !== 0) return reject(new Error(`${n} chunks: the child exited with ${code}:\n${err.slice(-3000)}`));
      run.done = true;
      resolve(run);
    });
  });
}

async function main(): Promise<void> {
  const runs: SizeRun[] = [];
  for (const n of sizes) {
    log(`${n} chunks on PGlite (limit ${limit} s)`);
    const r = await runSize(n);
    runs.push(r);
    if (!r.done || r.seconds > limit) break;
  }
  const within = runs.filter((r) => r.done && r.seconds <= limit);
  const ceiling = within.length ? Math.max(...within.map((r) => r.chunks)) : 0;
  if (flags.json === true) {
    console.log(
      JSON.stringify({ benchmark: 'pglite-ceiling', loadavg: loadAverages(), limit, runs, ceiling }, null, 2),
    );
    return;
  }
  const names = ['open + migrate', 'ingest', 'register', 'backfill', 'index', 'search'];
  console.log(header(`embedded ceiling — PGlite, hash:mixed-384, HNSW (m 16, ef_construction 64), limit ${limit} s`));
  console.log(
    `each size: a fresh PGlite folder and a fresh child process; one-chunk documents (bench/scale-data.ts); steps through the library as the CLI runs them: ingest, register, backfill (--workers 2, batch 256, index off), buildIndex, then ${queries} searches (k 10, after 5 warm-up ones); end to end = the child's wall time (Node start-up and the corpus file included); stopped at the limit`,
  );
  console.log('');
  console.log(
    table(
      [
        'chunks',
        ...names.map((s) => `${s} (s)`),
        'end to end (s)',
        'search p50 (ms)',
        'search p99 (ms)',
        'peak RSS (MB)',
        'result',
      ],
      runs.map((r) => [
        r.chunks,
        ...names.map((s) => {
          const st = r.steps.find((x) => x.step === s);
          return st ? st.seconds : '-';
        }),
        r.seconds,
        r.searchMs.length ? p50(r.searchMs) : '-',
        r.searchMs.length ? p99(r.searchMs) : '-',
        Number.isFinite(r.maxRss) ? r.maxRss / MB : '-',
        r.done
          ? r.seconds <= limit
            ? 'within the limit'
            : 'over the limit'
          : `stopped at the limit during ${r.stoppedIn}`,
      ]),
    ),
  );
  console.log('');
  console.log(`ceiling: ${ceiling} chunks done end to end in under ${limit} s on this machine`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
