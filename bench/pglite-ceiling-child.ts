/**
 * Child of bench/pglite-ceiling.ts: the whole lifecycle of one corpus size
 * on the embedded database (PGlite in a temp folder), through the library
 * as the CLI runs it: ingest, register `hash:mixed-384` (HNSW), backfill
 * (index off), build the index, then searches. Prints one JSON line per
 * finished step on stdout, so that the parent knows how far it got when it
 * stops this process at its time limit.
 *
 *   node --import tsx bench/pglite-ceiling-child.ts <chunks> <folder> [queries]
 */
import { join } from 'node:path';
import { openDatabase } from '../src/db/open.js';
import { silentLogger } from '../src/log/logger.js';
import { migrate } from '../src/migrate/runner.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { buildIndex } from '../src/backfill/index-build.js';
import { requireVersion } from '../src/versions/index.js';
import { createSearcher } from '../src/search/index.js';
import { corpusQueries, writeCorpus } from './scale-data.js';

const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

async function main(): Promise<void> {
  const [nText, folder, queriesText = '50'] = process.argv.slice(2);
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 1 || !folder) throw new Error('usage: pglite-ceiling-child.ts <chunks> <folder>');
  const logger = silentLogger();
  const deps = { logger, actor: 'bench', env: {} };
  const corpus = join(folder, 'corpus.jsonl');
  writeCorpus(corpus, n, 11);
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    emit({ step: name, seconds: (performance.now() - t0) / 1000, rss: process.memoryUsage().rss });
    return r;
  };
  const db = await step('open + migrate', async () => {
    const d = await openDatabase({ homeDir: join(folder, 'home'), logger });
    await migrate(d, { logger });
    return d;
  });
  try {
    const r = await step('ingest', () => ingest(db, [corpus], {}, { logger }));
    if (r.chunks.new !== n) throw new Error(`ingest made ${r.chunks.new} chunks, expected ${n}`);
    await step('register', () => registerVersion(db, { key: 'v1', encoder: 'hash:mixed-384', index: 'hnsw' }, deps));
    const b = await step('backfill', () => runBackfill(db, 'v1', { index: false }, deps));
    if (!b.complete || b.chunksWritten !== n) throw new Error(`backfill wrote ${b.chunksWritten} of ${n}`);
    const v = await requireVersion(db.kysely, 'v1');
    const ix = await step('index', () => buildIndex(db, v, { logger }));
    if (!ix.built) throw new Error(`index not built: ${ix.reason}`);
    const searcher = createSearcher(db, { logger });
    try {
      const queries = corpusQueries(Number(queriesText) + 5, 11);
      const times: number[] = [];
      await step('search', async () => {
        for (const [i, query] of queries.entries()) {
          const t0 = performance.now();
          const res = await searcher.search({ query, version: 'v1', k: 10 });
          if (res.hits.length === 0) throw new Error(`no hits for ${query}`);
          if (i >= 5) times.push(performance.now() - t0); // the first 5 warm up
        }
      });
      emit({ searchMs: times });
    } finally {
      await searcher.close();
    }
  } finally {
    await db.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
