/**
 * Write path: rows/s of embctl's vector writer against the raw reference on
 * the same machine, in the same run, into partitions made exactly as a
 * version's (createPartition: dimension CHECK + column storage).
 *
 * Server (default):
 *   node --import tsx bench/write-path.ts [--url URL] [--dims 1536,384] [--rows N (1536-d: 30000, 384-d: 50000)]
 *        [--rows-1536 N] [--rows-384 N] [--insert-rows N] [--batch 256] [--reps 3] [--no-facts] [--index-rows 5000] [--json]
 *   URL: --url, DATABASE_URL, TEST_DATABASE_URL, else scripts/pg-test-server.sh start.
 *
 *   writer-batch   copyBinaryWriter, one transaction per --batch rows (as the backfill writes)
 *   writer-one     copyBinaryWriter, all rows in one call / one transaction
 *   writer-batch×2 two connections each writing half, batches as above (2 backfill workers)
 *   psql           psql -c "\copy <partition> (...) FROM '<file>' (FORMAT binary)" of the SAME
 *                  payload (encodeEmbeddingCopy, written to a file beforehand: not timed)
 *   insert-values  insertValuesWriter (multi-row INSERT of text literals), per --batch rows
 *                  (fewer rows: --insert-rows, 4000 at 1536-d, 15000 at 384-d)
 *   driver-preencoded  diagnostic: the writer's COPY FROM STDIN through the same driver, batches
 *                  encoded beforehand (not timed): transport + server only
 *   encode-only    diagnostic: checkRows + encodeEmbeddingCopy per batch, no database
 *   Writer timings include checking and encoding the vectors; psql's does not.
 *
 *   Facts of DESIGN.md ("Storage backends"), unless --no-facts:
 *   storage        psql \copy of 1536-d into a PLAIN partition (createPartition) vs the same
 *                  partition left at pgvector's default storage (EXTERNAL: TOASTed)
 *   indexed        writer-batch into a partition whose HNSW index exists already, vs
 *                  writer-batch into an empty one + buildIndex (the backfill's way), --index-rows
 *                  rows of 384-d
 *
 * Embedded (--pglite): PGlite in a temporary data folder, 384-d, --rows (default 10000):
 *   copy-binary (blob) per batch and in one, text COPY from blob per batch and in one,
 *   batched INSERT (insertValuesWriter).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { copyBinaryWriter, insertValuesWriter, type EmbeddingRow, type EmbeddingWriter, type WriteTarget } from '../src/db/embedding-writer.js';
import { encodeEmbeddingCopy } from '../src/db/copy-binary.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { annIndexStatement, partitionTable } from '../src/versions/partition.js';
import { copyFromStdinQuery } from '../src/db/driver/special-queries.js';
import { checkRows } from '../src/db/embedding-writer.js';
import { buildIndex } from '../src/backfill/index-build.js';
import type { DB } from '../src/db/schema.js';
import {
  countRows, dropPartitionAndVersion, freshPartition, intFlag, listFlag, log, machine, makeVectors, median,
  parseFlags, scratchDatabase, seedChunks, serverUrl, serverVersions, table,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json', 'pglite', 'facts']);
const asJson = flags.json === true;
const batch = intFlag(flags, 'batch', 256);
const reps = Math.max(1, intFlag(flags, 'reps', 3));
const tmp = mkdtempSync(join(tmpdir(), 'embctl-bench-write-'));

interface Result { dims: number; method: string; rows: number; seconds: number[]; rowsPerSec: number }

function rowsOf(ids: number[], vectors: Float32Array[], n: number): EmbeddingRow[] {
  return Array.from({ length: n }, (_, i) => ({ chunkId: ids[i]!, vector: vectors[i]! }));
}

async function writeBatched(db: Kysely<DB>, writer: EmbeddingWriter, target: WriteTarget, rows: EmbeddingRow[], size: number): Promise<void> {
  for (let i = 0; i < rows.length; i += size) {
    const slice = rows.slice(i, i + size);
    await db.transaction().execute((trx) => writer.write(trx, target, slice));
  }
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function summarize(dims: number, method: string, rows: number, seconds: number[]): Result {
  return { dims, method, rows, seconds, rowsPerSec: rows / median(seconds) };
}

// ------------------------------------------------------------------ server

async function serverBench(): Promise<void> {
  const admin = serverUrl(flags);
  const versions = await serverVersions(admin);
  const dimsList = listFlag(flags, 'dims', ['1536', '384']).map(Number);
  const rowsFor = (d: number) => intFlag(flags, `rows-${d}`, intFlag(flags, 'rows', d >= 1000 ? 30_000 : 50_000));
  // INSERT of text literals is 10-20x slower: fewer rows keep the run short (rows/s is per-row cost).
  const insertRowsFor = (d: number) => Math.min(rowsFor(d), intFlag(flags, 'insert-rows', d >= 1000 ? 4_000 : 15_000));
  const facts = flags.facts !== false;
  const indexRows = intFlag(flags, 'index-rows', 5_000);
  const scratch = await scratchDatabase(admin, 'write');
  const db = await openDatabase({ databaseUrl: scratch.url, homeDir: tmp, logger: silentLogger(), poolSize: 4 });
  const results: Result[] = [];
  const factsOut: Record<string, unknown> = {};
  try {
    await migrate(db, { logger: silentLogger() });
    const maxRows = Math.max(...dimsList.map(rowsFor), facts ? indexRows : 0);
    log(`seeding ${maxRows} chunks`);
    const ids = await seedChunks(db, maxRows);
    await sql`vacuum analyze document_chunks`.execute(db.kysely);

    const psqlCopy = async (dims: number, rows: EmbeddingRow[], storage?: 'EXTERNAL'): Promise<number> => {
      const v = await freshPartition(db, dims);
      if (storage) await sql.raw(`ALTER TABLE ${v.table} ALTER COLUMN embedding SET STORAGE ${storage}`).execute(db.kysely);
      const file = join(tmp, `payload-${v.id}.bin`);
      writeFileSync(file, encodeEmbeddingCopy(v.id, rows));
      await sql`checkpoint`.execute(db.kysely);
      const t0 = performance.now();
      const r = spawnSync('psql', [scratch.url, '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-c',
        `\\copy ${v.table} (chunk_id, embedding_version_id, embedding) FROM '${file}' (FORMAT binary)`], { encoding: 'utf8' });
      const s = (performance.now() - t0) / 1000;
      rmSync(file, { force: true });
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error}`);
      await check(v.table, rows.length);
      await dropPartitionAndVersion(db, v);
      return s;
    };
    const check = async (t: string, n: number) => {
      const got = await countRows(db, t);
      if (got !== n) throw new Error(`${t} holds ${got} rows, expected ${n}`);
    };
    const viaWriter = async (dims: number, rows: EmbeddingRow[], how: (target: WriteTarget) => Promise<void>, expect = rows.length): Promise<number> => {
      const v = await freshPartition(db, dims);
      await sql`checkpoint`.execute(db.kysely);
      const s = await timed(() => how(v));
      await check(v.table, expect);
      await dropPartitionAndVersion(db, v);
      return s;
    };

    for (const dims of dimsList) {
      const n = rowsFor(dims);
      log(`${dims}-d: ${n} rows × ${reps} reps`);
      const rows = rowsOf(ids, makeVectors(n, dims, dims), n);
      const half = Math.ceil(n / 2);
      const ni = insertRowsFor(dims);
      const insertRows = rows.slice(0, ni);
      const methods: Array<[string, () => Promise<number>]> = [
        ['writer-batch', () => viaWriter(dims, rows, (t) => writeBatched(db.kysely, copyBinaryWriter, t, rows, batch))],
        ['writer-one', () => viaWriter(dims, rows, async (t) => { await db.kysely.transaction().execute((trx) => copyBinaryWriter.write(trx, t, rows)); })],
        ['writer-batch×2', () => viaWriter(dims, rows, async (t) => {
          await Promise.all([rows.slice(0, half), rows.slice(half)].map((part) => writeBatched(db.kysely, copyBinaryWriter, t, part, batch)));
        })],
        ['psql', () => psqlCopy(dims, rows)],
        // Diagnostic: the writer's COPY FROM STDIN path with the payload encoded beforehand (not timed).
        ['driver-preencoded', async () => {
          const v = await freshPartition(db, dims);
          const payloads: Buffer[] = [];
          for (let i = 0; i < n; i += batch) payloads.push(encodeEmbeddingCopy(v.id, rows.slice(i, i + batch)));
          await sql`checkpoint`.execute(db.kysely);
          const q = `COPY ${partitionTable(v.id)} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`;
          const s = await timed(async () => {
            for (const p of payloads) await db.kysely.transaction().execute((trx) => trx.executeQuery(copyFromStdinQuery(q, p)));
          });
          await check(v.table, n);
          await dropPartitionAndVersion(db, v);
          return s;
        }],
        // Diagnostic: Node alone, checkRows + encodeEmbeddingCopy per batch (no database).
        ['encode-only', async () => timed(async () => {
          for (let i = 0; i < n; i += batch) {
            const slice = rows.slice(i, i + batch);
            checkRows({ id: 1, version_key: 'x', dimensions: dims }, slice);
            encodeEmbeddingCopy(1, slice);
          }
        })],
        ['insert-values', () => viaWriter(dims, insertRows, (t) => writeBatched(db.kysely, insertValuesWriter, t, insertRows, batch))],
      ];
      const nOf = (m: string) => (m === 'insert-values' ? ni : n);
      const secs = new Map<string, number[]>(methods.map(([m]) => [m, []]));
      for (let r = 0; r < reps; r++) {
        for (const [m, fn] of methods) {
          const s = await fn();
          secs.get(m)!.push(s);
          log(`  ${dims}-d ${m}: ${(nOf(m) / s).toFixed(0)} rows/s`);
        }
      }
      for (const [m] of methods) results.push(summarize(dims, m, nOf(m), secs.get(m)!));
    }

    if (facts) {
      // Storage: PLAIN (createPartition) vs pgvector's default (EXTERNAL), psql \copy, 1536-d.
      const n = rowsFor(1536);
      log(`storage fact: 1536-d, ${n} rows, PLAIN vs EXTERNAL`);
      const rows = rowsOf(ids, makeVectors(n, 1536, 7), n);
      const plain: number[] = [];
      const ext: number[] = [];
      for (let r = 0; r < reps; r++) {
        plain.push(await psqlCopy(1536, rows));
        ext.push(await psqlCopy(1536, rows, 'EXTERNAL'));
      }
      const plainRps = n / median(plain);
      const extRps = n / median(ext);
      factsOut.storage = { dims: 1536, rows: n, plainRowsPerSec: plainRps, externalRowsPerSec: extRps, plainOverExternal: plainRps / extRps };

      // Indexed partition vs load-then-index, 384-d.
      log(`index fact: 384-d, ${indexRows} rows, load into HNSW-indexed partition vs load + buildIndex`);
      const irows = rowsOf(ids, makeVectors(indexRows, 384, 11), indexRows);
      const v1 = await freshPartition(db, 384, 'hnsw');
      await sql.raw(annIndexStatement(v1)!).execute(db.kysely);
      const indexedLoad = await timed(() => writeBatched(db.kysely, copyBinaryWriter, v1, irows, batch));
      await check(v1.table, indexRows);
      await dropPartitionAndVersion(db, v1);
      const v2 = await freshPartition(db, 384, 'hnsw');
      const load = await timed(() => writeBatched(db.kysely, copyBinaryWriter, v2, irows, batch));
      const build = await timed(async () => { await buildIndex(db, v2, { logger: silentLogger() }); });
      await dropPartitionAndVersion(db, v2);
      factsOut.index = {
        dims: 384, rows: indexRows, indexedLoadSeconds: indexedLoad, loadSeconds: load, buildSeconds: build,
        loadThenBuildSeconds: load + build, indexedOverLoadThenBuild: indexedLoad / (load + build), indexedOverLoadOnly: indexedLoad / load,
      };
    }
  } finally {
    await db.close();
    await scratch.drop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const rps = (d: number, m: string) => results.find((r) => r.dims === d && r.method === m)?.rowsPerSec ?? NaN;
  const ratios = dimsList.map((d) => ({
    dims: d,
    writerBatchOverPsql: rps(d, 'writer-batch') / rps(d, 'psql'),
    writerOneOverPsql: rps(d, 'writer-one') / rps(d, 'psql'),
    writerBatchX2OverPsql: rps(d, 'writer-batch×2') / rps(d, 'psql'),
    writerBatchOverInsert: rps(d, 'writer-batch') / rps(d, 'insert-values'),
    preencodedOverPsql: rps(d, 'driver-preencoded') / rps(d, 'psql'),
    // If encoding and COPY ran back to back, 1/writer = 1/encode + 1/copy:
    serialModelOverPsql: (1 / (1 / rps(d, 'encode-only') + 1 / rps(d, 'driver-preencoded'))) / rps(d, 'psql'),
  }));
  const out = { benchmark: 'write-path', mode: 'server', date: new Date().toISOString(), machine: machine(), server: versions, batch, reps, results, ratios, facts: factsOut };
  if (asJson) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(`write path — PostgreSQL ${versions.postgres} + pgvector ${versions.pgvector}, ${machine().cores} cores (load avg ${machine().loadavg1m} at the end), batch ${batch}, median of ${reps}`);
  console.log(table(['dims', 'method', 'rows', 'rows/s', 'MB/s'], results.map((r) => [
    String(r.dims), r.method, r.rows, r.rowsPerSec, (r.rowsPerSec * (4 * r.dims + 30)) / 1e6,
  ])));
  console.log('');
  console.log(table(['dims', 'writer-batch/psql', 'writer-one/psql', 'writer-batch×2/psql', 'writer-batch/insert', 'preencoded/psql', 'serial model/psql'], ratios.map((r) => [
    String(r.dims), r.writerBatchOverPsql, r.writerOneOverPsql, r.writerBatchX2OverPsql, r.writerBatchOverInsert, r.preencodedOverPsql, r.serialModelOverPsql,
  ])));
  const st = factsOut.storage as { plainRowsPerSec: number; externalRowsPerSec: number; plainOverExternal: number; rows: number } | undefined;
  const ix = factsOut.index as { indexedLoadSeconds: number; loadSeconds: number; buildSeconds: number; indexedOverLoadThenBuild: number; indexedOverLoadOnly: number; rows: number } | undefined;
  if (st) {
    console.log('');
    console.log(`storage (1536-d, psql \\copy, ${st.rows} rows): PLAIN ${st.plainRowsPerSec.toFixed(0)} rows/s, EXTERNAL (pgvector default) ${st.externalRowsPerSec.toFixed(0)} rows/s, PLAIN/EXTERNAL = ${st.plainOverExternal.toFixed(2)}`);
  }
  if (ix) {
    console.log(`index (384-d HNSW, ${ix.rows} rows): load into indexed partition ${ix.indexedLoadSeconds.toFixed(1)} s; load ${ix.loadSeconds.toFixed(1)} s + buildIndex ${ix.buildSeconds.toFixed(1)} s; indexed/(load+build) = ${ix.indexedOverLoadThenBuild.toFixed(2)}, indexed/load = ${ix.indexedOverLoadOnly.toFixed(1)}`);
  }
}

// ------------------------------------------------------------------ PGlite

async function pgliteBench(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PgliteDriver } = await import('../src/db/driver/pglite-driver.js');
  const { TypeParsers } = await import('../src/db/driver/type-parsers.js');
  const dims = intFlag(flags, 'dims', 384);
  const n = intFlag(flags, 'rows', 10_000);
  const pglite = await PGlite.create({ dataDir: join(tmp, 'pgdata'), extensions: { vector } });
  const parsers = new TypeParsers();
  const kysely = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new PgliteDriver(pglite, parsers),
      createQueryCompiler: () => new PostgresQueryCompiler(),
      createIntrospector: (k) => new PostgresIntrospector(k),
    },
  });
  const db: Db = {
    kysely, backend: 'pglite', location: tmp,
    async refreshTypes() {
      const { rows } = await sql<{ typname: string; oid: number }>`select typname, oid::int as oid from pg_type where typname in ('vector', 'halfvec')`.execute(kysely);
      const oids: { vector?: number; halfvec?: number } = {};
      for (const r of rows) oids[r.typname as 'vector' | 'halfvec'] = Number(r.oid);
      parsers.setExtensionOids(oids);
    },
    close: () => kysely.destroy(),
  };
  const results: Result[] = [];
  try {
    await migrate(db, { logger: silentLogger() });
    await db.refreshTypes();
    log(`PGlite: seeding ${n} chunks`);
    const ids = await seedChunks(db, n);
    const rows = rowsOf(ids, makeVectors(n, dims, dims), n);

    const textCopy = async (t: WriteTarget, part: EmbeddingRow[]) => {
      let s = '';
      for (const r of part) s += `${r.chunkId}\t${t.id}\t${formatVectorText(r.vector)}\n`;
      await pglite.query(`COPY chunk_embeddings_v${t.id} (chunk_id, embedding_version_id, embedding) FROM '/dev/blob'`, [], { blob: new Blob([s]) });
    };
    const run = async (how: (t: WriteTarget) => Promise<void>) => {
      const v = await freshPartition(db, dims);
      await sql`checkpoint`.execute(kysely);
      const s = await timed(() => how(v));
      const got = await countRows(db, v.table);
      if (got !== n) throw new Error(`${v.table} holds ${got} rows, expected ${n}`);
      await dropPartitionAndVersion(db, v);
      return s;
    };
    const methods: Array<[string, () => Promise<number>]> = [
      ['copy-binary-batch', () => run((t) => writeBatched(kysely, copyBinaryWriter, t, rows, batch))],
      ['copy-binary-one', () => run(async (t) => { await kysely.transaction().execute((trx) => copyBinaryWriter.write(trx, t, rows)); })],
      ['copy-text-batch', () => run(async (t) => { for (let i = 0; i < n; i += batch) await textCopy(t, rows.slice(i, i + batch)); })],
      ['copy-text-one', () => run((t) => textCopy(t, rows))],
      ['insert-values', () => run((t) => writeBatched(kysely, insertValuesWriter, t, rows, batch))],
    ];
    const secs = new Map<string, number[]>(methods.map(([m]) => [m, []]));
    const pReps = Math.max(1, intFlag(flags, 'reps', 2));
    for (let r = 0; r < pReps; r++) {
      for (const [m, fn] of methods) {
        const s = await fn();
        secs.get(m)!.push(s);
        log(`  PGlite ${dims}-d ${m}: ${(n / s).toFixed(0)} rows/s`);
      }
    }
    for (const [m] of methods) results.push(summarize(dims, m, n, secs.get(m)!));
  } finally {
    await db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const rps = (m: string) => results.find((r) => r.method === m)!.rowsPerSec;
  const ratios = {
    binaryOverTextBatch: rps('copy-binary-batch') / rps('copy-text-batch'),
    binaryOverTextOne: rps('copy-binary-one') / rps('copy-text-one'),
    binaryOverInsertBatch: rps('copy-binary-batch') / rps('insert-values'),
  };
  const out = { benchmark: 'write-path', mode: 'pglite', date: new Date().toISOString(), machine: machine(), batch, results, ratios };
  if (asJson) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  console.log(`write path — PGlite (embedded), ${dims}-d, ${n} rows, batch ${batch}, ${machine().cores} cores`);
  console.log(table(['method', 'rows', 'rows/s'], results.map((r) => [r.method, r.rows, r.rowsPerSec])));
  console.log('');
  console.log(table(['binary/text (batch)', 'binary/text (one)', 'binary/insert (batch)'], [[ratios.binaryOverTextBatch, ratios.binaryOverTextOne, ratios.binaryOverInsertBatch]]));
}

(flags.pglite === true ? pgliteBench() : serverBench()).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
