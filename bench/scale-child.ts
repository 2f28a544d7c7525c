/**
 * Child of bench/scale.ts: one step that has no CLI command of its own, run
 * in a clean process so that its peak RSS is its own (the parent reads it
 * with /usr/bin/time, like the CLI steps). Prints one JSON line on stdout.
 *
 *   node --import tsx bench/scale-child.ts plan <databaseUrl> <versionKey> <batchSize>
 *     planBatches: the batches a backfill leases (src/backfill/plan.ts)
 *   node --import tsx bench/scale-child.ts baseline <databaseUrl>
 *     the fixed cost (modules loaded, database opened), for the RSS growth of `plan`
 *   node --import tsx bench/scale-child.ts encode <corpus.jsonl> <hashVariant> <texts>
 *     the encoder alone, single-threaded, on the first <texts> texts of the corpus
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/open.js';
import { silentLogger } from '../src/log/logger.js';
import { planBatches } from '../src/backfill/plan.js';
import { requireVersion } from '../src/versions/index.js';
import { createHashEncoder } from '../src/encoders/index.js';
import { readLines } from '../src/ingest/lines.js';

async function plan(url: string, key: string, batchSize: number): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-scale-'));
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger: silentLogger() });
  try {
    const v = await requireVersion(db.kysely, key);
    const t0 = performance.now();
    const batches = await planBatches(db.kysely, v.id, batchSize);
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(JSON.stringify({ batches, seconds }) + '\n');
  } finally {
    await db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function encode(corpus: string, variant: string, count: number): Promise<void> {
  const encoder = createHashEncoder(variant);
  const texts: string[] = [];
  for await (const l of readLines(corpus)) {
    if (l.text === undefined || !l.text.trim()) continue;
    texts.push((JSON.parse(l.text) as { text: string }).text);
    if (texts.length >= count) break;
  }
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += 256) await encoder.embed(texts.slice(i, i + 256));
  const seconds = (performance.now() - t0) / 1000;
  await encoder.close();
  process.stdout.write(JSON.stringify({ texts: texts.length, seconds }) + '\n');
}

/** The fixed cost of this script: modules loaded, database opened, nothing done. */
async function baseline(url: string): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'embctl-bench-scale-'));
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger: silentLogger() });
  await db.close();
  rmSync(home, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ seconds: 0 }) + '\n');
}

async function main(): Promise<void> {
  const [op, a, b, c] = process.argv.slice(2);
  if (op === 'baseline' && a) return baseline(a);
  if (op === 'plan' && a && b && c) return plan(a, b, Number(c));
  if (op === 'encode' && a && b && c) return encode(a, b, Number(c));
  throw new Error('usage: scale-child.ts plan <url> <key> <batchSize> | encode <corpus> <hashVariant> <texts>');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
