/**
 * Data for bench/search.ts: a corpus of real text (BEIR SciFact abstracts,
 * read in place, cut into small chunks), topped up with synthetic documents
 * when more rows are asked than SciFact gives, ingested and embedded through
 * the library (ingest, registerVersion, runBackfill: the index is built by
 * the backfill after the load, then ANALYZE), and the SciFact queries.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../src/db/open.js';
import { chunkDocument, ingest, normalizeText, normalizeTitle } from '../src/ingest/index.js';
import { silentLogger } from '../src/log/logger.js';
import { registerVersion } from '../src/versions/register.js';
import { runBackfill } from '../src/backfill/run.js';
import { activate } from '../src/lifecycle/index.js';
import { findVersion } from '../src/versions/store.js';
import { partitionTable } from '../src/partitions/partition.js';
import { writeCorpus } from '../test/support/corpus.js';
import { log } from './lib.js';

export interface CorpusPlan {
  chunkSize: number;
  chunkOverlap: number;
  /** SciFact documents used (a prefix of corpus.jsonl). */
  scifactDocs: number;
  scifactChunks: number;
  /** Synthetic one-chunk documents added to reach the row count. */
  syntheticDocs: number;
}

interface BeirDoc {
  _id: string;
  title?: string;
  text?: string;
}

/**
 * SciFact documents, in file order, until their chunks reach `rows`; then
 * synthetic documents (one chunk each) for the rest. Returns the JSONL files
 * to ingest (in a temp folder, removed by `cleanup`).
 */
export function planCorpus(
  scifactDir: string,
  rows: number,
  chunkSize: number,
  chunkOverlap: number,
): { plan: CorpusPlan; files: string[]; cleanup: () => void } {
  const lines = readFileSync(join(scifactDir, 'corpus.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const dir = mkdtempSync(join(tmpdir(), 'embctl-bench-search-'));
  const take: string[] = [];
  let chunks = 0;
  for (const line of lines) {
    if (chunks >= rows) break;
    const d = JSON.parse(line) as BeirDoc;
    const text = normalizeText(d.text ?? '');
    const title = d.title ? normalizeTitle(d.title) : undefined;
    const n = chunkDocument(text, title, { size: chunkSize, overlap: chunkOverlap }).length;
    if (n === 0) continue;
    take.push(line);
    chunks += n;
  }
  const files: string[] = [];
  const sci = join(dir, 'scifact-subset.jsonl');
  writeFileSync(sci, take.join('\n') + '\n');
  files.push(sci);
  let synthetic = 0;
  if (chunks < rows) {
    synthetic = rows - chunks;
    const p = writeCorpus(synthetic, { seed: 17, prefix: 'syn' });
    files.push(p);
    files.push(join(p, '..')); // removed by cleanup
  }
  return {
    plan: { chunkSize, chunkOverlap, scifactDocs: take.length, scifactChunks: chunks, syntheticDocs: synthetic },
    files: files.filter((f) => f.endsWith('.jsonl')),
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      for (const f of files) if (!f.endsWith('.jsonl')) rmSync(f, { recursive: true, force: true });
    },
  };
}

export interface VersionSpec {
  key: string;
  encoder: string;
}

export interface SetupTimings {
  ingestS: number;
  backfillS: Record<string, number>;
  liveChunks: number;
}

/**
 * Ingest the corpus, register and backfill each version (HNSW m 16,
 * ef_construction 64, built after the load by the backfill), activate the
 * first (forced: no gated evaluation in a benchmark; the reason is logged).
 * Skips what a reused database already has.
 */
export async function prepare(
  db: Db,
  scifactDir: string,
  rows: number,
  chunkSize: number,
  chunkOverlap: number,
  versions: VersionSpec[],
): Promise<{ plan: CorpusPlan | null } & SetupTimings> {
  const logger = silentLogger();
  const have = Number(
    (await sql<{ n: string }>`select count(*) as n from document_chunks where retired_at is null`.execute(db.kysely))
      .rows[0]!.n,
  );
  let plan: CorpusPlan | null = null;
  let ingestS = 0;
  if (have === 0) {
    const c = planCorpus(scifactDir, rows, chunkSize, chunkOverlap);
    plan = c.plan;
    try {
      log(
        `ingest: ${c.plan.scifactDocs} SciFact documents (${c.plan.scifactChunks} chunks of ≤${chunkSize} chars) + ${c.plan.syntheticDocs} synthetic`,
      );
      const t0 = performance.now();
      for (const f of c.files) await ingest(db, [f], { chunkSize, chunkOverlap, batchSize: 2000 }, { logger });
      ingestS = (performance.now() - t0) / 1000;
    } finally {
      c.cleanup();
    }
  } else {
    log(`reusing ${have} live chunks already in the database`);
  }
  const backfillS: Record<string, number> = {};
  for (const v of versions) {
    const found = await findVersion(db.kysely, v.key);
    if (!found) {
      await registerVersion(
        db,
        { key: v.key, encoder: v.encoder, index: 'hnsw', m: 16, efConstruction: 64 },
        { actor: 'bench', logger, env: {} },
      );
    }
    const again = await findVersion(db.kysely, v.key);
    if (again?.state !== 'ready') {
      log(`backfill ${v.key} (${v.encoder}) + HNSW build (m 16, ef_construction 64)`);
      const t0 = performance.now();
      const s = await runBackfill(db, v.key, { workers: 2, batchSize: 512 }, { actor: 'bench', logger });
      backfillS[v.key] = (performance.now() - t0) / 1000;
      if (s.stoppedBy !== 'complete') throw new Error(`backfill of ${v.key} stopped: ${String(s.stoppedBy)}`);
      log(`backfill ${v.key}: ${backfillS[v.key]!.toFixed(1)} s`);
    }
  }
  await activate(db, versions[0]!.key, { actor: 'bench', force: true, reason: 'benchmark: no gated evaluation' });
  const live = Number(
    (await sql<{ n: string }>`select count(*) as n from document_chunks where retired_at is null`.execute(db.kysely))
      .rows[0]!.n,
  );
  return { plan, ingestS, backfillS, liveChunks: live };
}

export async function partitionRows(db: Db, versionKey: string): Promise<number> {
  const v = await findVersion(db.kysely, versionKey);
  if (!v) return 0;
  const r = await sql<{ n: string }>`select count(*) as n from ${sql.raw(partitionTable(v.id))}`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

/** SciFact query texts (all of queries.jsonl, file order), at most `n`. */
export function loadQueries(scifactDir: string, n: number): string[] {
  const out: string[] = [];
  for (const line of readFileSync(join(scifactDir, 'queries.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const q = JSON.parse(line) as { text?: string };
    if (q.text?.trim()) out.push(q.text.trim());
    if (out.length >= n) break;
  }
  return out;
}
