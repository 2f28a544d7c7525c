/**
 * Shared helpers of the benchmarks: flags, the server URL, throwaway
 * databases, synthetic chunks and vectors, fresh version partitions, the
 * SciFact folder, pooled statistics, the output header (machine, load
 * average at start and end) and the TARGET lines.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { relative } from 'node:path';
import { sql } from 'kysely';
import type { Db } from '../src/db/open.js';
import { createPartition, partitionTable, type PartitionSpec } from '../src/partitions/partition.js';
import { scratchDatabase as scratchDatabaseOn, withAdmin } from '../test/support/db.js';

// ---------------------------------------------------------------- flags

export type Flags = Record<string, string | boolean>;

/** A bad flag: one line on stderr that says what to pass, exit 2 (flags are read as the benchmark starts). */
function badFlag(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** `--name value`, `--name=value`, `--flag` (boolean), `--no-flag`. */
export function parseFlags(argv: string[], booleans: readonly string[] = []): Flags {
  const out: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) badFlag(`unexpected argument ${a}: flags are --name value or --name=value`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (a.startsWith('--no-')) {
      out[a.slice(5)] = false;
    } else if (booleans.includes(a.slice(2))) {
      out[a.slice(2)] = true;
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) badFlag(`${a} needs a value`);
      out[a.slice(2)] = v;
      i++;
    }
  }
  return out;
}

export function intFlag(f: Flags, name: string, dflt: number): number {
  const v = f[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) badFlag(`--${name} must be a non-negative number, not ${String(v)}`);
  return Math.round(n);
}

export function numFlag(f: Flags, name: string, dflt: number): number {
  const v = f[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) badFlag(`--${name} must be a number, not ${String(v)}`);
  return n;
}

export function listFlag(f: Flags, name: string, dflt: string[]): string[] {
  const v = f[name];
  if (v === undefined || typeof v === 'boolean') return dflt;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Some of `choices`, comma-separated (all of them by default); any other value is refused: a misspelt section must not silently run nothing. */
export function choicesFlag<T extends string>(f: Flags, name: string, choices: readonly T[]): T[] {
  const list = listFlag(f, name, [...choices]);
  const unknown = list.filter((x) => !(choices as readonly string[]).includes(x));
  if (unknown.length) badFlag(`--${name}: unknown ${unknown.join(', ')}; choose from ${choices.join(', ')}`);
  return list as T[];
}

/** A comma-separated list of non-negative numbers, e.g. `--sizes 10000,100000`. */
export function numListFlag(f: Flags, name: string, dflt: number[]): number[] {
  const list = listFlag(f, name, dflt.map(String)).map(Number);
  if (list.some((n) => !Number.isFinite(n) || n < 0))
    badFlag(`--${name} takes non-negative numbers separated by commas, not ${String(f[name])}`);
  return list;
}

// ---------------------------------------------------------------- server

let startedByUs = false;

/** --url, DATABASE_URL, TEST_DATABASE_URL, else `scripts/pg-test-server.sh start`. */
export function serverUrl(f: Flags): string {
  const given = (typeof f.url === 'string' && f.url) || process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (given) return given;
  log('no --url, DATABASE_URL or TEST_DATABASE_URL: starting scripts/pg-test-server.sh');
  const url = execFileSync('bash', ['scripts/pg-test-server.sh', 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  startedByUs = true;
  return url;
}

export function serverStartedByUs(): boolean {
  return startedByUs;
}

/** A new database on the server (dropped by the returned function). */
export function scratchDatabase(adminUrl: string, tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  return scratchDatabaseOn(adminUrl, `embctl_bench_${tag}`);
}

export async function serverVersions(url: string): Promise<{ postgres: string; pgvector: string }> {
  return withAdmin(url, async (c) => {
    const v = await c.query<{ v: string }>("select current_setting('server_version') as v");
    const e = await c.query<{ v: string }>(
      "select default_version as v from pg_available_extensions where name = 'vector'",
    );
    return { postgres: v.rows[0]!.v.split(' ')[0]!, pgvector: e.rows[0]?.v ?? '?' };
  });
}

// ---------------------------------------------------------------- data

/** Insert `n` chunks straight into document_chunks (ids 1..n); returns their ids. */
export async function seedChunks(db: Db, n: number): Promise<number[]> {
  const step = 20_000;
  for (let from = 1; from <= n; from += step) {
    const to = Math.min(n, from + step - 1);
    await sql`
      insert into document_chunks (id, semantic_key, document_id, chunk_no, content, content_sha256)
      select g, encode(sha256(('k' || g)::text::bytea), 'hex'), 'doc-' || g, 0, 'chunk ' || g,
             sha256(('t' || g)::text::bytea)
      from generate_series(${from}::bigint, ${to}::bigint) g`.execute(db.kysely);
  }
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Deterministic unit vectors (xorshift), `n` of `dims`. */
export function makeVectors(n: number, dims: number, seed = 1): Float32Array[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float32Array(dims);
    let norm = 0;
    for (let j = 0; j < dims; j++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      const x = s / 4294967296 - 0.5;
      v[j] = x;
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    for (let j = 0; j < dims; j++) v[j] = v[j]! / norm;
    out.push(v);
  }
  return out;
}

let versionNo = 0;

/**
 * A fresh version row and its partition, made exactly as registration makes
 * it (`createPartition`: dimension CHECK and column storage).
 */
export async function freshPartition(
  db: Db,
  dims: number,
  index: 'none' | 'hnsw' = 'none',
): Promise<PartitionSpec & { version_key: string; table: string }> {
  const key = `bench-${process.pid}-${++versionNo}`;
  const row = await db.kysely.transaction().execute(async (trx) => {
    const v = await trx
      .insertInto('embedding_versions')
      .values({
        version_key: key,
        encoder_spec: 'bench:none',
        encoder_name: 'bench',
        encoder_revision: '1',
        encoder_settings: JSON.stringify({}),
        encoder_identity: randomBytes(32).toString('hex'),
        dimensions: dims,
        distance_metric: 'cosine',
        index_kind: index,
        index_params: JSON.stringify(index === 'hnsw' ? { m: 16, ef_construction: 64 } : {}),
        index_storage: 'vector',
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await createPartition(trx, v);
    return v;
  });
  return { ...row, table: partitionTable(row.id) };
}

export async function dropPartitionAndVersion(db: Db, v: { id: number }): Promise<void> {
  await sql.raw(`DROP TABLE IF EXISTS ${partitionTable(v.id)}`).execute(db.kysely);
  await db.kysely.deleteFrom('embedding_versions').where('id', '=', v.id).execute();
}

export async function countRows(db: Db, table: string): Promise<number> {
  const r = await sql<{ n: string }>`select count(*) as n from ${sql.raw(table)}`.execute(db.kysely);
  return Number(r.rows[0]!.n);
}

// ---------------------------------------------------------------- output

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/** A plain text table: header row, then rows; numbers right-aligned. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: Array<string | number>, head = false) =>
    r
      .map((c, i) => {
        const s = String(c ?? '');
        return !head && typeof rows[0]?.[i] === 'number' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [
    line(cells[0]!, true),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map((r) => line(r)),
  ].join('\n');
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) || Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Nearest-rank quantile of all samples (pooled: never a median of per-pass figures). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export const p50 = (xs: number[]): number => quantile(xs, 0.5);
export const p99 = (xs: number[]): number => quantile(xs, 0.99);
export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

// ---------------------------------------------------------------- header

const loadAtStart = loadavg();
const startedAt = new Date();

const loadText = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');

/**
 * The lines every benchmark prints first: what ran (command, commit, date),
 * on what (cores, memory, Node, server), under what load (1/5/15-minute load
 * averages when the process started and when it printed), and how long.
 */
export function header(title: string, server?: { postgres: string; pgvector: string }): string {
  const cmd = [
    'node --import tsx',
    relative(process.cwd(), process.argv[1] ?? '?'),
    ...process.argv.slice(2).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)),
  ].join(' ');
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    /* not a git checkout */
  }
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  return [
    `# ${title}`,
    `# command: ${cmd}`,
    `# commit ${commit}; started ${startedAt.toISOString()}; took ${seconds.toFixed(0)} s`,
    `# machine: ${cpus().length} cores (${cpus()[0]?.model?.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}${server ? `; PostgreSQL ${server.postgres} + pgvector ${server.pgvector}` : ''}`,
    `# load average (1 / 5 / 15 min): ${loadText(loadAtStart)} at start, ${loadText(loadavg())} at the end`,
  ].join('\n');
}

export function loadAverages(): { start: number[]; end: number[] } {
  return { start: loadAtStart, end: loadavg() };
}

// ---------------------------------------------------------------- targets

/**
 * A benchmark's goal, printed last as one line a script can check:
 *   TARGET <name>: <value> (goal <op> <limit>) OK|MISS
 * The value is rounded to 3 decimals and OK/MISS is decided on the printed
 * value, so that a reader (or `parseTargets`) reaches the same verdict.
 */
export type TargetOp = '>=' | '<=' | '==';

export interface Target {
  name: string;
  value: number;
  op: TargetOp;
  limit: number;
  ok: boolean;
}

const TARGET_NAME = /^[A-Za-z0-9@._/-]+$/;

export function target(name: string, value: number, op: TargetOp, limit: number): Target {
  if (!TARGET_NAME.test(name))
    throw new Error(`target name ${JSON.stringify(name)}: letters, digits and @ . _ / - only`);
  const v = Math.round(value * 1000) / 1000;
  return { name, value: v, op, limit, ok: meets(v, op, limit) };
}

function meets(v: number, op: TargetOp, limit: number): boolean {
  if (!Number.isFinite(v)) return false;
  return op === '>=' ? v >= limit : op === '<=' ? v <= limit : v === limit;
}

export function formatTarget(t: Target): string {
  return `TARGET ${t.name}: ${Number.isFinite(t.value) ? String(t.value) : 'NaN'} (goal ${t.op} ${t.limit}) ${t.ok ? 'OK' : 'MISS'}`;
}

const TARGET_LINE =
  /^TARGET ([A-Za-z0-9@._/-]+): (-?[0-9.]+(?:e[-+]?\d+)?|NaN) \(goal (>=|<=|==) (-?[0-9.]+)\) (OK|MISS)$/;

/** Every TARGET line of a benchmark's output; throws on a line that starts with TARGET but is malformed or whose verdict is wrong. */
export function parseTargets(text: string): Target[] {
  const out: Target[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('TARGET')) continue;
    const m = TARGET_LINE.exec(line.trimEnd());
    if (!m) throw new Error(`malformed TARGET line: ${line}`);
    const value = Number(m[2]);
    const op = m[3] as TargetOp;
    const limit = Number(m[4]);
    const ok = m[5] === 'OK';
    if (ok !== meets(value, op, limit))
      throw new Error(`TARGET line says ${m[5]} but ${m[2]} ${op} ${m[4]} is ${!ok}: ${line}`);
    out.push({ name: m[1]!, value, op, limit, ok });
  }
  return out;
}

/** Print the TARGET lines (last in the output); `--json` output carries them as `targets`. */
export function printTargets(targets: Target[]): void {
  for (const t of targets) console.log(formatTarget(t));
}

// ---------------------------------------------------------------- SciFact

/**
 * The BEIR SciFact folder (CC BY-NC: never in the repo): EMBCTL_SCIFACT_DIR
 * (the same rule as the tests, test/support/data.ts). Without it the benchmark stops
 * with one line saying so, exit 2.
 */
export async function requireScifact(): Promise<string> {
  let found: { SCIFACT_DIR: string; SCIFACT_SKIP: false | string };
  try {
    found = await import('../test/support/data.js');
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  if (found.SCIFACT_SKIP) {
    process.stderr.write(`this benchmark needs BEIR SciFact: ${found.SCIFACT_SKIP}\n`);
    process.exit(2);
  }
  return found.SCIFACT_DIR;
}
