/**
 * Child of bench/memory.ts: run one backfill in a clean process and print
 * its memory as JSON on stdout (peak RSS from getrusage, plus samples).
 * The baseline is the process's RSS once its modules are loaded, before any
 * work (no database opened yet, after a forced GC): the same fixed cost
 * whatever the corpus size. The backfill runs as `embctl backfill` runs it:
 * with V8's optimize-for-size (src/cli/memory-mode.ts), set after the
 * baseline is read, where the CLI sets it (before the command's work).
 *
 *   node --import tsx bench/memory-child.ts <databaseUrl> <versionKey> [workers] [batchSize]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/open.js';
import { silentLogger } from '../src/log/logger.js';
import { runBackfill } from '../src/backfill/run.js';
import { favourMemory } from '../src/cli/memory-mode.js';

async function main(): Promise<void> {
  const [url, key, workers = '2', batchSize = '256'] = process.argv.slice(2);
  if (!url || !key) throw new Error('usage: memory-child.ts <databaseUrl> <versionKey> [workers] [batchSize]');
  global.gc?.();
  const baseline = process.memoryUsage();
  favourMemory();
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-mem-'));
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger: silentLogger() });
  const logger = silentLogger();
  global.gc?.();
  const before = process.memoryUsage();
  let sampledPeakRss = before.rss;
  let sampledPeakHeap = before.heapUsed;
  let sampledPeakExternal = before.external + before.arrayBuffers;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    sampledPeakRss = Math.max(sampledPeakRss, m.rss);
    sampledPeakHeap = Math.max(sampledPeakHeap, m.heapUsed);
    sampledPeakExternal = Math.max(sampledPeakExternal, m.external + m.arrayBuffers);
  }, 50);
  try {
    const s = await runBackfill(
      db,
      key,
      { workers: Number(workers), batchSize: Number(batchSize), index: false },
      { logger, actor: 'bench', env: {} },
    );
    clearInterval(timer);
    global.gc?.();
    const after = process.memoryUsage();
    process.stdout.write(
      JSON.stringify({
        heapAfterGc: global.gc ? after.heapUsed : null,
        externalAfterGc: global.gc ? after.external + after.arrayBuffers : null,
        chunksWritten: s.chunksWritten,
        embedded: s.embedded,
        complete: s.complete,
        seconds: s.seconds,
        rssBaseline: baseline.rss,
        rssBeforeBackfill: before.rss,
        heapBeforeBackfill: before.heapUsed,
        sampledPeakRss,
        sampledPeakHeap,
        sampledPeakExternal,
        maxRss: process.resourceUsage().maxRSS * 1024,
      }) + '\n',
    );
  } finally {
    clearInterval(timer);
    await db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
