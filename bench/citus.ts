/**
 * The same corpus on one node and on a Citus cluster (a coordinator and two
 * workers, all on this machine: scripts/citus-test-cluster.sh), measured in
 * one run, through the CLI like a user (issue 18):
 *
 *   node --import tsx bench/citus.ts [--chunks 20000] [--queries 200] [--citus postgres://…/postgres]
 *
 * One node is a database without Citus on the coordinator's own server (the
 * same PostgreSQL, the same settings); the cluster is a database with Citus
 * on all three. On each: migrate, ingest (bench/scale-data.ts corpus),
 * register, backfill with 2 workers and no index (rows/s), index (s), then
 * search p50/p99 (the SQL of one search, `timings.searchMs`; sequential,
 * after 20 warm-up searches) and recall@10 against exact search, then the
 * rest of the loop through the CLI: a second version, sync, shadow
 * start/stop, evaluate with a gate, activate, rollback, retire, status.
 * Every command's exit code is checked.
 *
 * One machine cannot show throughput scaling: three servers share 2 cores,
 * so the cluster is slower here by construction. What it shows is that the
 * loop runs and that recall holds. The sizing model at the end scales the
 * per-vector figures measured here to 100M and 1B chunks.
 *
 *   TARGET citus-recall@10-vs-one-node: cluster − one node (goal >= -0.01)
 *   TARGET citus-loop-commands-ok: commands that exited 0 / commands run (goal == 1)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../src/db/open.js';
import { createSearcher } from '../src/search/index.js';
import { silentLogger } from '../src/log/logger.js';
import { createCitusDatabase, dropCitusDatabase } from '../test/support/citus.js';
import { withAdmin } from '../test/support/db.js';
import { corpusQueries, writeCorpus } from './scale-data.js';
import { header, intFlag, log, p50, p99, parseFlags, printTargets, serverVersions, table, target } from './lib.js';

const flags = parseFlags(process.argv.slice(2));
const CHUNKS = intFlag(flags, 'chunks', 20_000);
const NQ = intFlag(flags, 'queries', 200);
const logger = silentLogger();

function citusAdminUrl(): string {
  const given = (typeof flags.citus === 'string' && flags.citus) || process.env.TEST_CITUS_URL;
  if (given) return given;
  log('no --citus or TEST_CITUS_URL: starting scripts/citus-test-cluster.sh');
  const r = spawnSync('bash', ['scripts/citus-test-cluster.sh', 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error('scripts/citus-test-cluster.sh start failed');
  return r.stdout.trim();
}

interface Step {
  target: string;
  command: string;
  seconds: number;
  ok: boolean;
}
const steps: Step[] = [];

/** Run one CLI command on a target; record its time and exit code. */
function cli(targetName: string, url: string, args: string[], home: string): { stdout: string; seconds: number } {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url, EMBCTL_HOME: home, EMBCTL_LOG_LEVEL: 'warn' },
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t) / 1000;
  const ok = r.status === 0;
  const command = ['versions', 'shadow'].includes(args[0]!) ? args.slice(0, 2).join(' ') : args[0]!;
  steps.push({ target: targetName, command, seconds, ok });
  if (!ok) log(`${targetName}: embctl ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  return { stdout: r.stdout, seconds };
}

interface Measured {
  backfillRowsPerS: number;
  indexS: number;
  p50: number;
  p99: number;
  recall: number;
  bytes: { heap: number; index: number; rows: number; shards: number };
  exactTop: Map<string, string[]>;
}

async function searchFigures(db: Db, queries: string[]) {
  const s = createSearcher(db, {});
  try {
    for (const q of queries.slice(0, 20)) await s.search({ query: q, version: 'a', k: 10 });
    const ms: number[] = [];
    let found = 0;
    const exactTop = new Map<string, string[]>();
    for (const q of queries) {
      const ann = await s.search({ query: q, version: 'a', k: 10 });
      ms.push(ann.timings.searchMs);
      const exact = await s.search({ query: q, version: 'a', k: 10, exact: true });
      const last = exact.hits.at(-1)?.distance ?? Infinity;
      const top = new Set(exact.hits.map((h) => h.chunkId));
      // Ties at the 10th distance count as found (the hash encoder has many).
      found += ann.hits.filter((h) => top.has(h.chunkId) || h.distance <= last + 1e-6).length;
      exactTop.set(
        q,
        exact.hits.map((h) => h.documentId),
      );
    }
    return { p50: p50(ms), p99: p99(ms), recall: found / (queries.length * 10), exactTop };
  } finally {
    await s.close();
  }
}

async function sizes(db: Db): Promise<Measured['bytes']> {
  const { rows } = await sql<{ heap: string; index: string; rows: string }>`
    select pg_table_size('chunk_embeddings_v1')::text as heap, pg_indexes_size('chunk_embeddings_v1')::text as index,
           (select count(*) from chunk_embeddings_v1)::text as rows`.execute(db.kysely);
  const r = rows[0]!;
  let heap = Number(r.heap);
  let index = Number(r.index);
  let shards = 1;
  if (db.distributed) {
    // The coordinator's partition is a shell: the data is in the shards.
    const total = await sql<{ t: string; h: string; n: number }>`
      select citus_total_relation_size('chunk_embeddings_v1')::text as t, citus_table_size('chunk_embeddings_v1')::text as h,
             (select count(*)::int from citus_shards where table_name = 'chunk_embeddings_v1'::regclass) as n`.execute(
      db.kysely,
    );
    heap = Number(total.rows[0]!.h);
    index = Number(total.rows[0]!.t) - heap;
    shards = total.rows[0]!.n;
  }
  return { heap, index, rows: Number(r.rows), shards };
}

async function runOn(
  name: string,
  url: string,
  corpus: string,
  queries: string[],
  judged: string | undefined,
  work: string,
) {
  const home = mkdtempSync(join(work, `${name}-`));
  cli(name, url, ['migrate'], home);
  cli(name, url, ['ingest', corpus], home);
  cli(name, url, ['versions', 'register', 'a', '--encoder', 'hash:mixed-384'], home);
  // Their own timings (--json), without the CLI's start-up.
  const bf = cli(name, url, ['backfill', 'a', '--workers', '2', '--no-index', '--json'], home);
  const ix = cli(name, url, ['index', 'a', '--json'], home);
  const backfillS = ownSeconds(bf, (j) => j.seconds);
  const indexS = ownSeconds(ix, (j) => (typeof j.ms === 'number' ? j.ms / 1000 : undefined));
  const db = await openDatabase({ databaseUrl: url, homeDir: home, logger });
  let m: Measured;
  try {
    const s = await searchFigures(db, queries);
    m = {
      backfillRowsPerS: CHUNKS / backfillS,
      indexS,
      p50: s.p50,
      p99: s.p99,
      recall: s.recall,
      bytes: await sizes(db),
      exactTop: s.exactTop,
    };
  } finally {
    await db.close();
  }
  // The rest of the loop, as a user runs it.
  const judgedFile = judged ?? writeJudged(work, m.exactTop);
  cli(name, url, ['versions', 'register', 'b', '--encoder', 'hash:words-256'], home);
  cli(name, url, ['backfill', 'b', '--workers', '2'], home);
  cli(name, url, ['sync'], home);
  const gates = writeGates(work);
  cli(
    name,
    url,
    ['evaluate', '--version', 'a', '--judged', judgedFile, '--gate', '--gates', gates, '--baseline', 'a'],
    home,
  );
  cli(name, url, ['activate', 'a'], home);
  cli(name, url, ['shadow', 'start', 'b', '--sample', '1'], home);
  cli(name, url, ['search', queries[0]!, '-k', '5'], home);
  cli(name, url, ['shadow', 'stop', 'b'], home);
  cli(
    name,
    url,
    ['evaluate', '--version', 'b', '--judged', judgedFile, '--baseline', 'a', '--gate', '--gates', gates],
    home,
  );
  cli(name, url, ['activate', 'b', '--force', '--reason', 'bench: the flip and the rollback'], home);
  cli(name, url, ['rollback'], home);
  cli(name, url, ['retire', 'b', '--yes'], home);
  cli(name, url, ['status'], home);
  return { m, judgedFile };
}

/** One absolute gate (a relative one would fail b, which is not the point here: the commands are). */
function writeGates(work: string): string {
  const path = join(work, 'gates.json');
  writeFileSync(path, JSON.stringify({ gates: [{ name: 'nDCG@10 above 0.05', metric: 'nDCG@10', min: 0.05 }] }));
  return path;
}

/** A command's own duration from its --json output, else the wall time around it. */
function ownSeconds(r: { stdout: string; seconds: number }, pick: (j: Record<string, unknown>) => unknown): number {
  try {
    const v = pick(JSON.parse(r.stdout) as Record<string, unknown>);
    if (typeof v === 'number' && v > 0) return v;
  } catch {
    /* not JSON: the wall time */
  }
  return r.seconds;
}

/** A judged set from one node's exact results (document ids of the top 3), the same file for both targets. */
function writeJudged(work: string, exactTop: Map<string, string[]>): string {
  const path = join(work, 'citus.judged.jsonl');
  const lines = [
    JSON.stringify({
      embctl_judged_set: 1,
      key: 'document_id',
      name: 'citus-bench',
      description: 'exact top 3 on one node',
    }),
  ];
  let i = 0;
  for (const [query, docs] of exactTop) {
    if (i >= 50) break;
    const relevant = Object.fromEntries([...new Set(docs)].slice(0, 3).map((d) => [d, 1]));
    lines.push(JSON.stringify({ id: `q${++i}`, query, relevant }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const admin = citusAdminUrl();
const work = mkdtempSync(join(tmpdir(), 'embctl-bench-citus-'));
const corpus = join(work, 'corpus.jsonl');
writeCorpus(corpus, CHUNKS, 42);
const queries = corpusQueries(NQ, 42);
const tag = `${process.pid}`;
const oneName = `embctl_bench_one_${tag}`;
const clusterName = `embctl_bench_citus_${tag}`;
const at = (name: string) => {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
};
const versions = await serverVersions(admin);
let one: Awaited<ReturnType<typeof runOn>> | undefined;
let cluster: Awaited<ReturnType<typeof runOn>> | undefined;
try {
  await withAdmin(admin, (c) => c.query(`create database ${oneName}`));
  await createCitusDatabase(admin, clusterName);
  log(`one node: ${oneName}; cluster: ${clusterName}; ${CHUNKS} chunks, ${NQ} queries`);
  one = await runOn('one-node', at(oneName), corpus, queries, undefined, work);
  cluster = await runOn('citus', at(clusterName), corpus, queries, one.judgedFile, work);
} finally {
  await withAdmin(admin, (c) => c.query(`drop database if exists ${oneName} with (force)`)).catch(() => {});
  await dropCitusDatabase(admin, clusterName).catch(() => {});
  rmSync(work, { recursive: true, force: true });
}

const o = one!.m;
const c = cluster!.m;
console.log(
  header('bench:citus — one node vs a Citus cluster (coordinator + 2 workers) on the same machine', versions),
);
console.log(
  `# ${CHUNKS} chunks (bench/scale-data.ts, seed 42), hash:mixed-384, HNSW m 16 ef_construction 64, ef_search 200; ${NQ} queries`,
);
function row(name: string, m: Measured): string[] {
  return [
    name,
    m.backfillRowsPerS.toFixed(0),
    m.indexS.toFixed(1),
    m.p50.toFixed(2),
    m.p99.toFixed(2),
    m.recall.toFixed(3),
    (m.bytes.heap / 2 ** 20).toFixed(1),
    (m.bytes.index / 2 ** 20).toFixed(1),
  ];
}
console.log(`# cluster: citus.shard_count ${c.bytes.shards}, all three servers on these cores`);
console.log(
  table(
    ['', 'backfill rows/s', 'index build s', 'search p50 ms', 'search p99 ms', 'recall@10', 'heap MB', 'index MB'],
    [row('one node', o), row('citus', c)],
  ),
);
console.log('# commands of the loop (seconds, exit 0?)');
console.log(
  table(
    ['target', 'command', 's', 'ok'],
    steps.map((s) => [s.target, s.command, s.seconds.toFixed(1), s.ok ? 'yes' : 'NO']),
  ),
);

// Sizing model: per-vector bytes measured here (384-d fp32), scaled by the vector's own bytes.
const rows = c.bytes.rows;
const heapOverhead = c.bytes.heap / rows - 384 * 4; // tuple header, key, page slack
const indexOverhead = c.bytes.index / rows - 384 * 4; // graph links, tuple headers, the primary key index
console.log("# sizing model (assumptions: workers with 256 GB RAM keep their shards' HNSW indexes in memory at");
console.log('# 75% of RAM; 4 shards per worker so that a shard can move; per-vector overheads measured above)');
const model: (string | number)[][] = [];
for (const chunks of [100e6, 1e9]) {
  for (const [label, vecBytes] of [
    ['1536-d vector', 1536 * 4],
    ['3072-d halfvec', 3072 * 2],
  ] as const) {
    const indexBytes = chunks * (vecBytes + indexOverhead);
    const heapBytes = chunks * (vecBytes + heapOverhead);
    const workers = Math.max(2, Math.ceil(indexBytes / (0.75 * 256 * 2 ** 30)));
    model.push([
      `${chunks / 1e6}M`,
      label,
      (heapBytes / 2 ** 40).toFixed(2),
      (indexBytes / 2 ** 40).toFixed(2),
      workers,
      workers * 4,
      (chunks / (workers * 4) / 1e6).toFixed(1),
    ]);
  }
}
console.log(table(['chunks', 'vectors', 'heap TB', 'HNSW TB', 'workers', 'shards', 'M vectors/shard'], model));
console.log(
  `# per vector here: heap ${(c.bytes.heap / rows).toFixed(0)} B, index ${(c.bytes.index / rows).toFixed(0)} B (overheads ${heapOverhead.toFixed(0)} / ${indexOverhead.toFixed(0)} B)`,
);
console.log('# what one machine cannot show: throughput scaling (three servers share 2 cores here).');
const ran = steps.length;
const ok = steps.filter((s) => s.ok).length;
printTargets([
  target('citus-recall@10-vs-one-node', c.recall - o.recall, '>=', -0.01),
  target('citus-loop-commands-ok', ok / ran, '==', 1),
]);
