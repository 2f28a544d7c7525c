/**
 * Memory: RSS of a backfill as the corpus grows. Each size gets its own
 * database (ingested once), and each round a fresh `hash:words-256` version
 * (no network; index build off: it runs in the server, not in Node) is
 * backfilled in a fresh child process (bench/memory-child.ts) so that its
 * RSS is clean. Reported per run: the baseline (the child's RSS with its
 * modules loaded, before any work), the peak (getrusage maxRSS, cross-checked
 * with /proc/<pid>/status VmHWM sampled by the parent), and the growth =
 * peak − baseline. The target is on growth (the baseline is a fixed cost);
 * the ratio of total peaks is printed too. Rounds alternate the order of the
 * sizes; each size's figures are the mean over its rounds.
 *
 *   node --import tsx bench/memory.ts [--url URL] [--sizes 10000,100000] [--rounds 2] [--workers 2] [--batch 256] [--json]
 *
 * About 3 minutes with the defaults (most of it ingesting 110k documents).
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET memory-growth-100k/10k: <growth above baseline, ratio> (goal <= 1.5) OK|MISS
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { writeCorpus } from '../test/support/corpus.js';
import {
  header,
  intFlag,
  numListFlag,
  loadAverages,
  log,
  mean,
  parseFlags,
  printTargets,
  scratchDatabase,
  serverUrl,
  serverVersions,
  table,
  target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json']);
const sizes = numListFlag(flags, 'sizes', [10_000, 100_000]);
const workers = intFlag(flags, 'workers', 2);
const batch = intFlag(flags, 'batch', 256);
const rounds = Math.max(1, intFlag(flags, 'rounds', 2));
const GOAL = 1.5;
const MB = 1024 * 1024;

interface ChildReport {
  chunksWritten: number;
  embedded: number;
  complete: boolean;
  seconds: number;
  rssBaseline: number;
  rssBeforeBackfill: number;
  heapBeforeBackfill: number;
  sampledPeakRss: number;
  sampledPeakHeap: number;
  sampledPeakExternal: number;
  maxRss: number;
  heapAfterGc: number | null;
  externalAfterGc: number | null;
}

function vmHwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function runChild(url: string, key: string): Promise<ChildReport & { procHwm: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(import.meta.dirname, 'memory-child.ts'),
        url,
        key,
        String(workers),
        String(batch),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    let hwm = 0;
    const t = setInterval(() => {
      hwm = Math.max(hwm, vmHwm(child.pid!) ?? 0);
    }, 100);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      hwm = Math.max(hwm, vmHwm(child.pid!) ?? 0);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(t);
      if (code !== 0) return reject(new Error(`memory-child exited with ${code}`));
      try {
        resolve({ ...(JSON.parse(out.trim().split('\n').pop()!) as ChildReport), procHwm: hwm });
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function main(): Promise<void> {
  const admin = serverUrl(flags);
  const versions = await serverVersions(admin);
  type Run = { chunks: number; round: number } & ChildReport & { procHwm: number; growth: number };
  const runs: Run[] = [];
  const dbs: Array<{ n: number; url: string; drop: () => Promise<void>; home: string }> = [];
  try {
    for (const n of sizes) {
      const scratch = await scratchDatabase(admin, 'mem');
      const home = mkdtempSync(join(tmpdir(), 'embctl-bench-mem-'));
      dbs.push({ n, url: scratch.url, drop: scratch.drop, home });
      const db = await openDatabase({ databaseUrl: scratch.url, homeDir: home, logger: silentLogger() });
      try {
        await migrate(db, { logger: silentLogger() });
        log(`${n}: ingesting ${n} documents`);
        const corpus = writeCorpus(n, { seed: 9, prefix: `m${n}` });
        await ingest(db, [corpus], {}, { logger: silentLogger() });
        rmSync(join(corpus, '..'), { recursive: true, force: true });
      } finally {
        await db.close();
      }
    }
    for (let round = 1; round <= rounds; round++) {
      for (const d of round % 2 === 1 ? dbs : [...dbs].reverse()) {
        const key = `mem-hash-${round}`;
        const db = await openDatabase({ databaseUrl: d.url, homeDir: d.home, logger: silentLogger() });
        try {
          await registerVersion(
            db,
            { key, encoder: 'hash:words-256', index: 'none' },
            { logger: silentLogger(), actor: 'bench', env: {} },
          );
        } finally {
          await db.close();
        }
        log(`round ${round}, ${d.n} chunks: backfill in a child process`);
        const r = await runChild(d.url, key);
        if (!r.complete || r.chunksWritten !== d.n)
          throw new Error(`backfill of ${d.n} chunks wrote ${r.chunksWritten} (complete: ${r.complete})`);
        runs.push({ chunks: d.n, round, ...r, growth: r.maxRss - r.rssBaseline });
      }
    }
  } finally {
    for (const d of dbs) {
      await d.drop();
      rmSync(d.home, { recursive: true, force: true });
    }
  }
  const per = sizes.map((n) => {
    const rs = runs.filter((r) => r.chunks === n);
    return {
      chunks: n,
      runs: rs.length,
      baseline: mean(rs.map((r) => r.rssBaseline)),
      peak: mean(rs.map((r) => r.maxRss)),
      growth: mean(rs.map((r) => r.growth)),
    };
  });
  const first = per[0]!;
  const last = per[per.length - 1]!;
  const peakRatio = last.peak / first.peak;
  const growthRatio = last.growth / first.growth;
  const k = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));
  const targets = [target(`memory-growth-${k(last.chunks)}/${k(first.chunks)}`, growthRatio, '<=', GOAL)];
  if (flags.json === true) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'memory',
          loadavg: loadAverages(),
          server: versions,
          workers,
          batch,
          rounds,
          runs,
          per,
          peakRatio,
          growthRatio,
          targets,
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    header(`backfill memory — hash:words-256, workers ${workers}, batch ${batch}, ${rounds} rounds`, versions),
  );
  console.log(
    "baseline = the child's RSS with its modules loaded, before any work; peak = getrusage maxRSS; growth = peak − baseline",
  );
  console.log('');
  console.log(
    table(
      [
        'round',
        'chunks',
        'seconds',
        'baseline (MB)',
        'before backfill (MB)',
        'peak RSS (MB)',
        'VmHWM (MB)',
        'growth (MB)',
        'peak heap (MB)',
        'peak external+AB (MB)',
        'heap after GC',
        'ext+AB after GC',
      ],
      runs.map((r) => [
        String(r.round),
        r.chunks,
        r.seconds,
        r.rssBaseline / MB,
        r.rssBeforeBackfill / MB,
        r.maxRss / MB,
        r.procHwm / MB,
        r.growth / MB,
        r.sampledPeakHeap / MB,
        r.sampledPeakExternal / MB,
        (r.heapAfterGc ?? NaN) / MB,
        (r.externalAfterGc ?? NaN) / MB,
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      ['chunks', 'runs', 'baseline (MB)', 'peak RSS (MB)', 'growth (MB)'],
      per.map((p) => [p.chunks, p.runs, p.baseline / MB, p.peak / MB, p.growth / MB]),
    ),
  );
  console.log('');
  console.log(
    `${last.chunks}/${first.chunks} chunks: growth above the baseline ${growthRatio.toFixed(2)}× (goal ≤ ${GOAL}); total peak RSS ${peakRatio.toFixed(2)}×`,
  );
  console.log('');
  printTargets(targets);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
