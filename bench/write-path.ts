/**
 * Write path: rows/s of embctl's vector writer, as the backfill uses it,
 * against a warm binary COPY of the same bytes, in one run on one machine,
 * into partitions made exactly as a version's (createPartition: dimension
 * CHECK, column storage, PK, FKs).
 *
 * Server (default; about 2 minutes, 3 with --facts):
 *   node --import tsx bench/write-path.ts [--url URL] [--dims 1536,384] [--rows-1536 81920] [--rows-384 163840]
 *        [--batch 256] [--block-batches 4] [--serial] [--no-diagnostics] [--facts] [--index-rows 5000] [--json]
 *   URL: --url, DATABASE_URL, TEST_DATABASE_URL, else scripts/pg-test-server.sh start.
 *
 *   Batches of --batch rows, each in its own transaction (BEGIN, COPY, COMMIT),
 *   as the backfill writes them. Each method loads the same rows into its own
 *   fresh partition, in blocks of --block-batches batches; block after block
 *   the methods take turns in a rotating (and every other cycle reversed)
 *   order, so that the machine's other load falls on all of them alike.
 *   rows/s are pooled over all blocks (Σ rows / Σ seconds). Every partition's
 *   row count is checked at the end. Each method loads through connections
 *   opened after the setup (migrations, seeding, partitions go through
 *   another pool). Autovacuum is off on these partitions (it would add the
 *   same background work to all of them at random times). A block's vectors
 *   are made right before it and shared by the methods; a full GC runs
 *   before every timed block. Defaults: 102,400 rows at 1536-d (100 blocks),
 *   245,760 at 384-d (240).
 *
 *   writer           the subject: copyBinaryWriter as src/backfill/worker.ts runs it: a
 *                    batch is checked and encoded (encodeRows) while the previous batch's
 *                    transaction runs, then written (writeEncoded) in its own transaction
 *                    through the library's pool
 *   copy-preencoded  reference: a bare pg.Client, connected beforehand; per batch BEGIN,
 *                    COPY … FROM STDIN (FORMAT binary) of the same bytes encoded beforehand
 *                    (not timed; the same pieces), COMMIT
 *   psql-session     reference: one psql process, connected beforehand; per batch BEGIN,
 *                    \copy … FROM '<file>' (FORMAT binary) of the same bytes (files written
 *                    beforehand, not timed), COMMIT; timed from sending the block's script to
 *                    psql's echo after its last COMMIT
 *   The target compares the writer with the faster of the two references.
 *
 *   --serial adds to the rotation:
 *   writer-serial    copyBinaryWriter.write per batch, its own transaction, no overlap
 *   Diagnostics (unless --no-diagnostics):
 *   encode-only      encodeRows per batch, no database (after the rotation)
 *   insert-values    insertValuesWriter (multi-row INSERT of text literals), fewer rows
 *                    (1,000 at 1536-d, 4,000 at 384-d), after the rotation
 *
 *   --facts (off by default, adds a minute or two): two claims of DESIGN.md. PLAIN vs pgvector's
 *   default storage (EXTERNAL) for 1536-d (copy-preencoded, alternating), and loading into a
 *   partition whose HNSW index exists vs loading then buildIndex (384-d, --index-rows).
 *
 * Embedded (--pglite; about a minute): PGlite in a temporary data folder, 384-d, --rows (10000),
 *   --rounds 2 in alternating order: binary COPY (blob) in the backfill's loop and in one call;
 *   on --slow-rows (2000) rows: text COPY from a blob per batch and in one, batched INSERT
 *   (insertValuesWriter). No target.
 *
 * Its output ends with one line per target (bench/lib.ts printTargets):
 *   TARGET write-path-<dims>: <writer / fairest reference> (goal >= 0.9) OK|MISS (server runs;
 *   the embedded run, --pglite, has no goal and says so)
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql } from 'kysely';
import pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import {
  copyBinaryWriter,
  encodeRows,
  insertValuesWriter,
  type EmbeddingRow,
  type EmbeddingWriter,
  type EncodedRows,
  type WriteTarget,
} from '../src/partitions/embedding-writer.js';
import { encodeEmbeddingCopy } from '../src/partitions/copy-encoding.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import { annIndexStatement } from '../src/partitions/partition.js';
import { buildIndex } from '../src/backfill/index-build.js';
import type { DB } from '../src/db/schema.js';
import {
  countRows,
  dropPartitionAndVersion,
  freshPartition,
  header,
  intFlag,
  numListFlag,
  loadAverages,
  log,
  makeVectors,
  parseFlags,
  printTargets,
  quantile,
  scratchDatabase,
  seedChunks,
  serverUrl,
  serverVersions,
  table,
  target,
  type Target,
} from './lib.js';

const flags = parseFlags(process.argv.slice(2), ['json', 'pglite', 'facts', 'diagnostics', 'serial']);
const asJson = flags.json === true;
const batch = intFlag(flags, 'batch', 256);
const tmp = mkdtempSync(join(tmpdir(), 'embctl-bench-write-'));
const REFERENCES = ['copy-preencoded', 'psql-session'] as const;

// A full GC before every timed block, so that no method pays for the garbage
// another one left (the references' payloads are made right before their
// blocks); what a method allocates inside its own block stays its cost.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface Loads {
  rows: number;
  seconds: number[];
}

function rowsOf(ids: number[], vectors: Float32Array[], n: number): EmbeddingRow[] {
  return Array.from({ length: n }, (_, i) => ({ chunkId: ids[i]!, vector: vectors[i]! }));
}

function batchesOf<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const pooled = (l: Loads) => (l.rows * l.seconds.length) / l.seconds.reduce((a, b) => a + b, 0);
const perRound = (l: Loads) => l.seconds.map((s) => l.rows / s);

/**
 * The backfill's write loop (src/backfill/worker.ts runWorker): a batch is
 * prepared — the worker's prepare stage ends with `encodeRows`, which checks
 * and encodes it — while the previous batch's transaction runs; then, once
 * that one has committed, it is written in its own transaction.
 */
async function writeAsBackfill(db: Kysely<DB>, target: WriteTarget, rows: EmbeddingRow[], size: number): Promise<void> {
  let writing: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < rows.length; i += size) {
    const encoded = await encodeRows(target, rows.slice(i, i + size));
    await writing;
    writing = db.transaction().execute((trx) => copyBinaryWriter.writeEncoded(trx, target, encoded));
  }
  await writing;
}

async function writeSerial(
  db: Kysely<DB>,
  target: WriteTarget,
  rows: EmbeddingRow[],
  size: number,
  writer: EmbeddingWriter = copyBinaryWriter,
): Promise<void> {
  for (let i = 0; i < rows.length; i += size) {
    const slice = rows.slice(i, i + size);
    await db.transaction().execute((trx) => writer.write(trx, target, slice));
  }
}

/** BEGIN; COPY … FROM STDIN (FORMAT binary) of pre-encoded pieces; COMMIT — on a bare pg.Client. */
async function copyPreencoded(client: pg.Client, text: string, payloads: EncodedRows[]): Promise<void> {
  for (const p of payloads) {
    await client.query('BEGIN');
    const stream = client.query(pgCopyStreams.from(text));
    for (const piece of p.pieces) stream.write(piece);
    stream.end();
    await once(stream, 'finish');
    await client.query('COMMIT');
  }
}

/** One psql process kept open; `run` times a script from sending it to psql's echo after it. */
class PsqlSession {
  #p: ChildProcessWithoutNullStreams;
  #out = '';
  #err = '';
  #marks = 0;
  #exited: Promise<number | null>;

  constructor(url: string) {
    this.#p = spawn('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#p.stdout.on('data', (d: Buffer) => {
      this.#out += d.toString();
    });
    this.#p.stderr.on('data', (d: Buffer) => {
      this.#err += d.toString();
    });
    this.#exited = once(this.#p, 'exit').then(([code]) => code as number | null);
  }

  /** Send `script` followed by an echo; resolve with the seconds until the echo came back. */
  async run(script: string): Promise<number> {
    const mark = `embctl-bench-mark-${++this.#marks}`;
    const seen = new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.#out.includes(mark)) {
          this.#p.stdout.off('data', check);
          resolve();
        }
      };
      this.#p.stdout.on('data', check);
      void this.#exited.then((code) => reject(new Error(`psql exited (${code}): ${this.#err.trim()}`)));
    });
    const t0 = performance.now();
    this.#p.stdin.write(`${script}\n\\echo ${mark}\n`);
    await seen;
    const s = (performance.now() - t0) / 1000;
    if (this.#err.trim()) throw new Error(`psql: ${this.#err.trim()}`);
    return s;
  }

  async close(): Promise<void> {
    this.#p.stdin.end('\\q\n');
    await this.#exited;
  }
}

// ------------------------------------------------------------------ server

type Part = WriteTarget & { table: string };

/** A way to load rows: untimed preparation of a block, then the timed load (seconds, or measured around it). */
interface Method<P = unknown> {
  name: string;
  prepare?: (v: Part, rows: EmbeddingRow[]) => P | Promise<P>;
  run: (v: Part, rows: EmbeddingRow[], prepared: P) => Promise<number | void>;
  cleanup?: (prepared: P) => void;
}

async function serverBench(): Promise<void> {
  const admin = serverUrl(flags);
  const versions = await serverVersions(admin);
  const dimsList = numListFlag(flags, 'dims', [1536, 384]);
  const blockRows = batch * Math.max(1, intFlag(flags, 'block-batches', 4));
  const rowsFor = (d: number) =>
    intFlag(flags, `rows-${d}`, intFlag(flags, 'rows', (d >= 1000 ? 100 : 240) * blockRows));
  const insertRowsFor = (d: number) => Math.min(rowsFor(d), intFlag(flags, 'insert-rows', d >= 1000 ? 1_000 : 4_000));
  const diagnostics = flags.diagnostics !== false;
  const facts = flags.facts === true;
  const indexRows = intFlag(flags, 'index-rows', 5_000);
  const scratch = await scratchDatabase(admin, 'write');
  // `db` does the setup (migrations, seeding, partitions, checks); every
  // method loads through its own connections, opened after the setup:
  // the writer through `writerDb` (the library's pool), the references
  // through `client` and the psql session.
  const db = await openDatabase({ databaseUrl: scratch.url, homeDir: tmp, logger: silentLogger(), poolSize: 4 });
  let writerDb: Db | undefined;
  const client = new pg.Client({ connectionString: scratch.url, application_name: 'embctl-bench-reference' });
  const loads = new Map<string, Loads>(); // `${dims} ${method}`: seconds per block
  const blockRatios = new Map<string, number[]>(); // `${dims} ${reference}`: writer/reference per block
  const factsOut: Record<string, unknown> = {};
  let psql: PsqlSession | undefined;
  const note = (dims: number, m: string, rows: number, s: number) => {
    const key = `${dims} ${m}`;
    if (!loads.has(key)) loads.set(key, { rows, seconds: [] });
    const l = loads.get(key)!;
    if (l.rows !== rows) throw new Error(`${key}: blocks of ${rows} and ${l.rows} rows`);
    l.seconds.push(s);
  };
  try {
    await migrate(db, { logger: silentLogger() });
    const maxRows = Math.max(...dimsList.map(rowsFor), facts ? indexRows : 0);
    log(`seeding ${maxRows} chunks`);
    const ids = await seedChunks(db, maxRows);
    await sql`vacuum analyze document_chunks`.execute(db.kysely);
    writerDb = await openDatabase({ databaseUrl: scratch.url, homeDir: tmp, logger: silentLogger(), poolSize: 4 });
    const wdb = writerDb.kysely;
    await client.connect();
    psql = new PsqlSession(scratch.url);
    await psql.run('select 1;'); // connected and authenticated before anything is timed

    const check = async (t: string, n: number) => {
      const got = await countRows(db, t);
      if (got !== n) throw new Error(`${t} holds ${got} rows, expected ${n}`);
    };
    const copyText = (v: Part) =>
      `COPY ${v.table} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`;
    const main: Method<any>[] = [
      { name: 'writer', run: (v, rows) => writeAsBackfill(wdb, v, rows, batch) },
      {
        name: 'copy-preencoded',
        prepare: (v, rows) => Promise.all(batchesOf(rows, batch).map((b) => encodeRows(v, b))),
        run: (v, _rows, payloads: EncodedRows[]) => copyPreencoded(client, copyText(v), payloads),
      },
      {
        name: 'psql-session',
        prepare: (v, rows) => {
          const lines: string[] = [];
          const files: string[] = [];
          batchesOf(rows, batch).forEach((b) => {
            const file = join(tmp, `v${v.id}-${b[0]!.chunkId}.bin`);
            writeFileSync(file, encodeEmbeddingCopy(v.id, b));
            files.push(file);
            lines.push(
              'BEGIN;',
              `\\copy ${v.table} (chunk_id, embedding_version_id, embedding) FROM '${file}' (FORMAT binary)`,
              'COMMIT;',
            );
          });
          return { script: lines.join('\n'), files };
        },
        run: (_v, _rows, p: { script: string }) => psql!.run(p.script),
        cleanup: (p: { files: string[] }) => {
          for (const f of p.files) rmSync(f, { force: true });
        },
      },
    ];
    const diag: Method<any>[] =
      flags.serial === true ? [{ name: 'writer-serial', run: (v, rows) => writeSerial(wdb, v, rows, batch) }] : [];
    const rotation = [...main, ...diag];

    for (const dims of dimsList) {
      const n = rowsFor(dims);
      // Each block's vectors are made right before it (deterministic per block,
      // shared by every method): the process never holds more than a block
      // of them, as a backfill never does (a whole run's vectors, 600 MB at
      // 1536-d, would make every GC slow and charge it to whoever runs then).
      const nBlocks = Math.ceil(n / blockRows);
      const blockOf = (b: number) => {
        const count = Math.min(blockRows, n - b * blockRows);
        return rowsOf(ids.slice(b * blockRows), makeVectors(count, dims, dims * 100_000 + b), count);
      };
      log(
        `${dims}-d: ${n} rows per method in ${nBlocks} blocks of ≤${blockRows} rows (batches of ${batch}), methods in rotating order per block`,
      );
      const parts = new Map<string, Part>();
      for (const m of rotation) {
        const v = await freshPartition(db, dims);
        await sql.raw(`ALTER TABLE ${v.table} SET (autovacuum_enabled = false)`).execute(db.kysely);
        parts.set(m.name, v);
      }
      await sql`checkpoint`.execute(db.kysely);
      for (let b = 0; b < nBlocks; b++) {
        const block = blockOf(b);
        const k = b % rotation.length;
        let order = [...rotation.slice(k), ...rotation.slice(0, k)];
        if (Math.floor(b / rotation.length) % 2 === 1) order = order.reverse();
        const secs = new Map<string, number>();
        for (const m of order) {
          const v = parts.get(m.name)!;
          const p = await m.prepare?.(v, block);
          collectGarbage();
          const t0 = performance.now();
          const given = await m.run(v, block, p);
          const s = typeof given === 'number' ? given : (performance.now() - t0) / 1000;
          m.cleanup?.(p);
          secs.set(m.name, s);
          note(dims, m.name, block.length === blockRows ? blockRows : block.length, s);
        }
        for (const r of REFERENCES) {
          if (!blockRatios.has(`${dims} ${r}`)) blockRatios.set(`${dims} ${r}`, []);
          blockRatios.get(`${dims} ${r}`)!.push(secs.get(r)! / secs.get('writer')!);
        }
        if ((b + 1) % 10 === 0 || b === nBlocks - 1) {
          log(
            `  ${dims}-d block ${b + 1}/${nBlocks}: ${[...secs].map(([m, s]) => `${m} ${(block.length / s).toFixed(0)}`).join(', ')} rows/s`,
          );
        }
      }
      for (const [m, v] of parts) {
        await check(v.table, n);
        await dropPartitionAndVersion(db, v);
        log(`  ${dims}-d ${m}: ${n} rows checked`);
      }

      if (diagnostics) {
        const t = { id: 1, version_key: 'bench', dimensions: dims };
        for (let b = 0; b < nBlocks; b++) {
          const block = blockOf(b);
          collectGarbage();
          note(
            dims,
            'encode-only',
            block.length,
            await timed(async () => {
              for (const part of batchesOf(block, batch)) await encodeRows(t, part);
            }),
          );
        }
        const ni = insertRowsFor(dims);
        const few = Array.from({ length: Math.ceil(ni / blockRows) }, (_, b) => blockOf(b))
          .flat()
          .slice(0, ni);
        const v = await freshPartition(db, dims);
        note(dims, 'insert-values', ni, await timed(() => writeSerial(wdb, v, few, batch, insertValuesWriter)));
        await check(v.table, ni);
        await dropPartitionAndVersion(db, v);
      }
    }

    if (facts) {
      /** Fresh partition, untimed preparation, CHECKPOINT, the timed load, row count, drop. */
      const load = async (dims: number, n: number, rows: EmbeddingRow[], storage?: 'EXTERNAL'): Promise<number> => {
        const v = await freshPartition(db, dims);
        if (storage)
          await sql.raw(`ALTER TABLE ${v.table} ALTER COLUMN embedding SET STORAGE ${storage}`).execute(db.kysely);
        const payloads = await Promise.all(batchesOf(rows, batch).map((b) => encodeRows(v, b)));
        await sql`checkpoint`.execute(db.kysely);
        const s = await timed(() => copyPreencoded(client, copyText(v), payloads));
        await check(v.table, n);
        await dropPartitionAndVersion(db, v);
        return s;
      };
      const n = Math.min(rowsFor(1536), 30 * blockRows);
      log(`storage fact: 1536-d, ${n} rows, PLAIN vs EXTERNAL, copy-preencoded`);
      const rows = rowsOf(ids, makeVectors(n, 1536, 7), n);
      const plain: number[] = [];
      const ext: number[] = [];
      for (let r = 0; r < 2; r++) {
        for (const storage of r % 2 === 0 ? [undefined, 'EXTERNAL' as const] : ['EXTERNAL' as const, undefined]) {
          (storage ? ext : plain).push(await load(1536, n, rows, storage));
        }
      }
      const rate = (xs: number[]) => pooled({ rows: n, seconds: xs });
      factsOut.storage = {
        dims: 1536,
        rows: n,
        loads: plain.length,
        plainRowsPerSec: rate(plain),
        externalRowsPerSec: rate(ext),
        plainOverExternal: rate(plain) / rate(ext),
      };

      log(`index fact: 384-d, ${indexRows} rows, load into HNSW-indexed partition vs load + buildIndex`);
      const irows = rowsOf(ids, makeVectors(indexRows, 384, 11), indexRows);
      const v1 = await freshPartition(db, 384, 'hnsw');
      await sql.raw(annIndexStatement(v1)!).execute(db.kysely);
      const indexedLoad = await timed(() => writeAsBackfill(wdb, v1, irows, batch));
      await check(v1.table, indexRows);
      await dropPartitionAndVersion(db, v1);
      const v2 = await freshPartition(db, 384, 'hnsw');
      const loadS = await timed(() => writeAsBackfill(wdb, v2, irows, batch));
      const build = await timed(async () => {
        await buildIndex(db, v2, { logger: silentLogger() });
      });
      await dropPartitionAndVersion(db, v2);
      factsOut.index = {
        dims: 384,
        rows: indexRows,
        indexedLoadSeconds: indexedLoad,
        loadSeconds: loadS,
        buildSeconds: build,
        indexedOverLoadThenBuild: indexedLoad / (loadS + build),
        indexedOverLoadOnly: indexedLoad / loadS,
      };
    }
  } finally {
    await psql?.close().catch(() => {});
    await client.end().catch(() => {});
    await writerDb?.close();
    await db.close();
    await scratch.drop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const rps = (d: number, m: string) => {
    const l = loads.get(`${d} ${m}`);
    return l ? pooled(l) : NaN;
  };
  const spread = (xs: number[]) => ({ p10: quantile(xs, 0.1), median: quantile(xs, 0.5), p90: quantile(xs, 0.9) });
  const summary = dimsList.map((d) => {
    const fairest = REFERENCES.reduce((a, b) => (rps(d, b) > rps(d, a) ? b : a));
    return {
      dims: d,
      fairest,
      writerOverCopyPreencoded: rps(d, 'writer') / rps(d, 'copy-preencoded'),
      writerOverPsqlSession: rps(d, 'writer') / rps(d, 'psql-session'),
      writerOverFairest: rps(d, 'writer') / rps(d, fairest),
      perBlock: spread(blockRatios.get(`${d} ${fairest}`) ?? []),
      writerSerialOverFairest: rps(d, 'writer-serial') / rps(d, fairest),
      encodeOnlyRowsPerSec: rps(d, 'encode-only'),
      writerOverInsert: rps(d, 'writer') / rps(d, 'insert-values'),
    };
  });
  const targets: Target[] = summary.map((s) => target(`write-path-${s.dims}`, s.writerOverFairest, '>=', 0.9));
  const results = [...loads].map(([k, l]) => {
    const [d, m] = k.split(' ');
    return {
      dims: Number(d),
      method: m!,
      rows: l.rows * l.seconds.length,
      blocks: l.seconds.length,
      seconds: l.seconds.reduce((a, b) => a + b, 0),
      rowsPerSec: pooled(l),
    };
  });
  if (asJson) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'write-path',
          mode: 'server',
          loadavg: loadAverages(),
          server: versions,
          batch,
          blockRows,
          results,
          summary,
          facts: factsOut,
          targets,
          blockSeconds: Object.fromEntries(loads),
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(header("write path — embctl's backfill writer vs a warm binary COPY of the same bytes", versions));
  console.log(
    `batches of ${batch} rows, each in its own transaction (BEGIN, COPY, COMMIT); each method loads its own fresh partition in blocks of ${blockRows} rows, the methods in rotating order block by block (so that the machine's other load falls on all of them alike); rows/s pooled over all blocks (Σ rows / Σ seconds)`,
  );
  console.log('');
  console.log(
    table(
      ['dims', 'method', 'rows', 'blocks', 'seconds', 'rows/s', 'MB/s'],
      results.map((r) => [
        String(r.dims),
        r.method,
        r.rows,
        r.blocks,
        r.seconds,
        r.rowsPerSec,
        (r.rowsPerSec * (4 * r.dims + 30)) / 1e6,
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      [
        'dims',
        'writer/copy-preencoded',
        'writer/psql-session',
        'fairest reference',
        'writer/fairest',
        'per block p10 / median / p90',
      ],
      summary.map((s) => [
        String(s.dims),
        s.writerOverCopyPreencoded,
        s.writerOverPsqlSession,
        s.fairest,
        s.writerOverFairest,
        `${s.perBlock.p10.toFixed(2)} / ${s.perBlock.median.toFixed(2)} / ${s.perBlock.p90.toFixed(2)}`,
      ]),
    ),
  );
  if (diagnostics) {
    console.log('');
    console.log(
      table(
        [
          'dims',
          ...(flags.serial === true ? ['writer-serial/fairest'] : []),
          'encode-only rows/s',
          'writer/insert-values',
        ],
        summary.map((s) => [
          String(s.dims),
          ...(flags.serial === true ? [s.writerSerialOverFairest] : []),
          s.encodeOnlyRowsPerSec,
          s.writerOverInsert,
        ]),
      ),
    );
  }
  const st = factsOut.storage as
    | { plainRowsPerSec: number; externalRowsPerSec: number; plainOverExternal: number; rows: number; loads: number }
    | undefined;
  const ix = factsOut.index as
    | {
        indexedLoadSeconds: number;
        loadSeconds: number;
        buildSeconds: number;
        indexedOverLoadThenBuild: number;
        indexedOverLoadOnly: number;
        rows: number;
      }
    | undefined;
  if (st) {
    console.log('');
    console.log(
      `storage (1536-d, copy-preencoded, ${st.rows} rows, ${st.loads} loads each, alternating): PLAIN ${st.plainRowsPerSec.toFixed(0)} rows/s, EXTERNAL (pgvector default) ${st.externalRowsPerSec.toFixed(0)} rows/s, PLAIN/EXTERNAL = ${st.plainOverExternal.toFixed(2)}`,
    );
  }
  if (ix) {
    console.log(
      `index (384-d HNSW, ${ix.rows} rows, writer): load into indexed partition ${ix.indexedLoadSeconds.toFixed(1)} s; load ${ix.loadSeconds.toFixed(1)} s + buildIndex ${ix.buildSeconds.toFixed(1)} s; indexed/(load+build) = ${ix.indexedOverLoadThenBuild.toFixed(2)}, indexed/load = ${ix.indexedOverLoadOnly.toFixed(1)}`,
    );
  }
  console.log('');
  printTargets(targets);
}

// ------------------------------------------------------------------ PGlite

async function pgliteBench(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PgliteDriver } = await import('../src/db/driver/pglite-driver.js');
  const { TypeParsers } = await import('../src/db/driver/type-parsers.js');
  const dims = intFlag(flags, 'dims', 384);
  const n = intFlag(flags, 'rows', 10_000);
  const rounds = Math.max(1, intFlag(flags, 'rounds', 2));
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
    kysely,
    backend: 'pglite',
    distributed: false,
    location: tmp,
    async refreshTypes() {
      const { rows } = await sql<{
        typname: string;
        oid: number;
      }>`select typname, oid::int as oid from pg_type where typname in ('vector', 'halfvec')`.execute(kysely);
      const oids: { vector?: number; halfvec?: number } = {};
      for (const r of rows) oids[r.typname as 'vector' | 'halfvec'] = Number(r.oid);
      parsers.setExtensionOids(oids);
    },
    close: () => kysely.destroy(),
  };
  const loads = new Map<string, Loads>();
  try {
    await migrate(db, { logger: silentLogger() });
    await db.refreshTypes();
    log(`PGlite: seeding ${n} chunks`);
    const ids = await seedChunks(db, n);
    const rows = rowsOf(ids, makeVectors(n, dims, dims), n);

    const textCopy = async (t: WriteTarget, part: EmbeddingRow[]) => {
      let s = '';
      for (const r of part) s += `${r.chunkId}\t${t.id}\t${formatVectorText(r.vector)}\n`;
      await pglite.query(
        `COPY chunk_embeddings_v${t.id} (chunk_id, embedding_version_id, embedding) FROM '/dev/blob'`,
        [],
        { blob: new Blob([s]) },
      );
    };
    const run = async (count: number, how: (t: WriteTarget) => Promise<void>) => {
      const v = await freshPartition(db, dims);
      await sql`checkpoint`.execute(kysely);
      const s = await timed(() => how(v));
      const got = await countRows(db, v.table);
      if (got !== count) throw new Error(`${v.table} holds ${got} rows, expected ${count}`);
      await dropPartitionAndVersion(db, v);
      return s;
    };
    // Text COPY and INSERT are 20-30x slower: fewer rows keep the run short (rows/s is per-row cost).
    const ns = Math.min(n, intFlag(flags, 'slow-rows', 2_000));
    const few = rows.slice(0, ns);
    const methods: Array<[string, number, () => Promise<number>]> = [
      ['copy-binary-batch', n, () => run(n, (t) => writeAsBackfill(kysely, t, rows, batch))],
      [
        'copy-binary-one',
        n,
        () =>
          run(n, async (t) => {
            await kysely.transaction().execute((trx) => copyBinaryWriter.write(trx, t, rows));
          }),
      ],
      [
        'copy-text-batch',
        ns,
        () =>
          run(ns, async (t) => {
            for (let i = 0; i < ns; i += batch) await textCopy(t, few.slice(i, i + batch));
          }),
      ],
      ['copy-text-one', ns, () => run(ns, (t) => textCopy(t, few))],
      ['insert-values', ns, () => run(ns, (t) => writeSerial(kysely, t, few, batch, insertValuesWriter))],
    ];
    for (let r = 0; r < rounds; r++) {
      for (const [m, count, fn] of r % 2 === 0 ? methods : [...methods].reverse()) {
        const s = await fn();
        if (!loads.has(m)) loads.set(m, { rows: count, seconds: [] });
        loads.get(m)!.seconds.push(s);
        log(`  round ${r + 1} PGlite ${dims}-d ${m}: ${(count / s).toFixed(0)} rows/s`);
      }
    }
  } finally {
    await db.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const rps = (m: string) => pooled(loads.get(m)!);
  const ratios = {
    binaryOverTextBatch: rps('copy-binary-batch') / rps('copy-text-batch'),
    binaryOverTextOne: rps('copy-binary-one') / rps('copy-text-one'),
    binaryOverInsertBatch: rps('copy-binary-batch') / rps('insert-values'),
  };
  const results = [...loads].map(([m, l]) => ({
    method: m,
    rows: l.rows,
    loads: l.seconds.length,
    seconds: l.seconds,
    rowsPerSec: pooled(l),
  }));
  if (asJson) {
    console.log(
      JSON.stringify(
        {
          benchmark: 'write-path',
          mode: 'pglite',
          loadavg: loadAverages(),
          dims,
          batch,
          rounds,
          results,
          ratios,
          targets: [],
        },
        null,
        2,
      ),
    );
    return;
  }
  console.log(header(`write path — PGlite (embedded), ${dims}-d, batch ${batch}`));
  console.log(
    `${rounds} rounds in alternating order; rows/s pooled over the rounds (Σ rows / Σ seconds); copy-binary-batch is the backfill's loop (as in the server benchmark)`,
  );
  console.log('');
  console.log(
    table(
      ['method', 'rows', 'loads', 'rows/s', 'rows/s per load'],
      results.map((r) => [
        r.method,
        r.rows,
        r.loads,
        r.rowsPerSec,
        perRound(loads.get(r.method)!).map(Math.round).join(' / '),
      ]),
    ),
  );
  console.log('');
  console.log(
    table(
      ['binary/text (batch)', 'binary/text (one)', 'binary/insert (batch)'],
      [[ratios.binaryOverTextBatch, ratios.binaryOverTextOne, ratios.binaryOverInsertBatch]],
    ),
  );
  console.log('');
  console.log('no target for the embedded write path (DESIGN.md sets none)');
}

(flags.pglite === true ? pgliteBench() : serverBench()).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
