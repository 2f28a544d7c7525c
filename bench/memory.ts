/**
 * Memory: peak RSS of a backfill as the corpus grows. Each size gets its own
 * database (ingested here), a `hash:words-256` version (no network, index
 * built never: the build runs in the server, not in Node), and a backfill in
 * a fresh child process (bench/memory-child.ts) so that its RSS is clean.
 * The peak is the child's getrusage maxRSS; the parent also samples the
 * child's /proc/<pid>/status VmHWM as a cross-check.
 *
 *   node --import tsx bench/memory.ts [--url URL] [--sizes 10000,100000] [--workers 2] [--batch 256] [--json]
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
import { intFlag, listFlag, log, machine, parseFlags, scratchDatabase, serverUrl, serverVersions, table } from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json']);
const sizes = listFlag(flags, 'sizes', ['10000', '100000']).map(Number);
const workers = intFlag(flags, 'workers', 2);
const batch = intFlag(flags, 'batch', 256);
const KEY = 'mem-hash';
const MB = 1024 * 1024;

interface ChildReport {
  chunksWritten: number; embedded: number; complete: boolean; seconds: number;
  rssBeforeBackfill: number; heapBeforeBackfill: number;
  sampledPeakRss: number; sampledPeakHeap: number; sampledPeakExternal: number; maxRss: number;
  heapAfterGc: number | null; externalAfterGc: number | null;
}

function vmHwm(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function runChild(url: string): Promise<ChildReport & { procHwm: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'memory-child.ts'), url, KEY, String(workers), String(batch)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let hwm = 0;
    const t = setInterval(() => { hwm = Math.max(hwm, vmHwm(child.pid!) ?? 0); }, 100);
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); hwm = Math.max(hwm, vmHwm(child.pid!) ?? 0); });
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
  const results: Array<{ chunks: number } & ChildReport & { procHwm: number }> = [];
  for (const n of sizes) {
    const scratch = await scratchDatabase(admin, 'mem');
    const home = mkdtempSync(join(tmpdir(), 'embctl-bench-mem-'));
    const db = await openDatabase({ databaseUrl: scratch.url, homeDir: home, logger: silentLogger() });
    try {
      await migrate(db, { logger: silentLogger() });
      log(`${n}: ingesting ${n} documents`);
      const corpus = writeCorpus(n, { seed: 9, prefix: `m${n}` });
      await ingest(db, [corpus], {}, { logger: silentLogger() });
      rmSync(join(corpus, '..'), { recursive: true, force: true });
      await registerVersion(db, { key: KEY, encoder: 'hash:words-256', index: 'none' }, { logger: silentLogger(), actor: 'bench', env: {} });
      await db.close();
      log(`${n}: backfill in a child process`);
      const r = await runChild(scratch.url);
      if (!r.complete || r.chunksWritten !== n) throw new Error(`backfill of ${n} chunks wrote ${r.chunksWritten} (complete: ${r.complete})`);
      results.push({ chunks: n, ...r });
    } finally {
      await db.close();
      await scratch.drop();
      rmSync(home, { recursive: true, force: true });
    }
  }
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const ratio = last.maxRss / first.maxRss;
  const growthRatio = (last.maxRss - last.rssBeforeBackfill) / Math.max(1, first.maxRss - first.rssBeforeBackfill);
  const out = { benchmark: 'memory', date: new Date().toISOString(), machine: machine(), server: versions, workers, batch, results, peakRatio: ratio, growthRatio };
  if (flags.json === true) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(`backfill memory — hash:words-256, workers ${workers}, batch ${batch}, PostgreSQL ${versions.postgres} + pgvector ${versions.pgvector}`);
  console.log(table(['chunks', 'seconds', 'RSS before (MB)', 'peak RSS (MB)', 'VmHWM (MB)', 'peak heap (MB)', 'peak external+AB (MB)', 'heap after GC', 'ext+AB after GC'], results.map((r) => [
    r.chunks, r.seconds, r.rssBeforeBackfill / MB, r.maxRss / MB, r.procHwm / MB, r.sampledPeakHeap / MB, r.sampledPeakExternal / MB,
    (r.heapAfterGc ?? NaN) / MB, (r.externalAfterGc ?? NaN) / MB,
  ])));
  console.log('');
  console.log(`peak RSS ${last.chunks}/${first.chunks} chunks = ${ratio.toFixed(2)}× (target ≤ 1.3×); growth above the pre-backfill RSS = ${growthRatio.toFixed(2)}×`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
