import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { freshDb, ON_CITUS, withAdmin, type TestDb } from './support/db.js';
import { fillVersion, ingestDocs, recordGate, register, syntheticDocs } from './support/fill-version.js';
import { openDatabase, type Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { COORDINATOR_TABLES, REFERENCE_TABLES } from '../src/migrate/citus.js';
import { silentLogger } from '../src/log/logger.js';
import { annIndexStatement, createPartition, partitionTable, type PartitionSpec } from '../src/partitions/partition.js';
import { copyBinaryWriter } from '../src/partitions/embedding-writer.js';
import { QueryVector } from '../src/db/query-vector.js';
import { runQuery } from '../src/search/run-query.js';
import { knobSettings } from '../src/search/knobs.js';
import { withSessionSettings } from '../src/db/index.js';
import { activate } from '../src/lifecycle/activate.js';
import { getStatus } from '../src/status/index.js';
import { planBatchBackfill, runBatchBackfill } from '../src/backfill/batch-api/run.js';
import { RefusedError } from '../src/errors.js';
import type { DB } from '../src/db/schema.js';

/**
 * What only a Citus cluster can show (the Citus pass: EMBCTL_TEST_BACKEND=citus,
 * a coordinator and two workers from scripts/citus-test-cluster.sh). The
 * rest of the suite runs on the cluster too (test/citus-files.json).
 */
const ONLY_CITUS = ON_CITUS ? false : 'needs a Citus cluster: runs in the Citus pass (TEST_CITUS_URL)';
const logger = silentLogger();

let db: TestDb;
before(async () => {
  if (!ON_CITUS) return;
  db = await freshDb();
});
after(async () => {
  await db?.destroy();
});

interface CitusTable {
  table_name: string;
  citus_table_type: string;
  distribution_column: string;
  colocation_id: number;
}

async function citusTables(k: Kysely<DB>): Promise<Map<string, CitusTable>> {
  const { rows } = await sql<CitusTable>`
    select table_name::text, citus_table_type, distribution_column, colocation_id from citus_tables`.execute(k);
  return new Map(rows.map((r) => [r.table_name, r]));
}

/** The URL of this test database on each node: the coordinator first, then the workers. */
async function nodeUrls(k: Kysely<DB>, url: string): Promise<string[]> {
  const { rows } = await sql<{ host: string; port: number }>`
    select nodename as host, nodeport as port from pg_dist_node where noderole = 'primary' order by groupid, nodeid`.execute(
    k,
  );
  return rows.map((r) => {
    const u = new URL(url);
    u.hostname = r.host;
    u.port = String(r.port);
    return u.toString();
  });
}

describe('Citus: the schema on the cluster', () => {
  test(
    'migrate distributes chunks and vectors colocated, versions and bookkeeping as reference tables, leases on the coordinator',
    { skip: ONLY_CITUS },
    async () => {
      const t = await citusTables(db.kysely);
      const chunks = t.get('document_chunks');
      const vectors = t.get('chunk_embeddings');
      assert.equal(chunks?.citus_table_type, 'distributed');
      assert.equal(chunks?.distribution_column, 'id');
      assert.equal(vectors?.citus_table_type, 'distributed');
      assert.equal(vectors?.distribution_column, 'chunk_id');
      assert.equal(vectors?.colocation_id, chunks?.colocation_id, 'vectors live on the shard of their chunk');
      for (const name of ['embedding_versions', ...REFERENCE_TABLES]) {
        assert.equal(t.get(name)?.citus_table_type, 'reference', name);
      }
      for (const name of COORDINATOR_TABLES) assert.equal(t.get(name)?.citus_table_type, 'local', name);
      // The database keeps the invariants it enforces on one node.
      const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_indexes where indexname = 'embedding_versions_one_active'`.execute(db.kysely);
      assert.equal(rows[0]?.n, 1, 'the one-active-version index');
      // A second migrate finds the schema distributed and does nothing.
      const again = await migrate(db, { logger });
      assert.deepEqual(again.applied, []);
      assert.equal(again.distributed, undefined);
    },
  );

  test(
    "a new version's partition is distributed with the chunks, and its ANN index is built on every shard",
    { skip: ONLY_CITUS },
    async () => {
      await ingestDocs(db, syntheticDocs(200));
      await register(db, { key: 'shards', encoder: 'hash:mixed-384' });
      const v = await fillVersion(db, 'shards');
      const table = partitionTable(v.id);
      const t = await citusTables(db.kysely);
      assert.equal(t.get(table)?.citus_table_type, 'distributed');
      assert.equal(t.get(table)?.colocation_id, t.get('document_chunks')?.colocation_id);
      const { rows } = await sql<{ success: boolean; result: string }>`
      select success, result from run_command_on_shards(${table},
        $$select count(*) from pg_indexes where tablename = '%s' and indexdef like '%%USING hnsw%%'$$)`.execute(
        db.kysely,
      );
      assert.ok(rows.length >= 2, `shards: ${rows.length}`);
      assert.ok(
        rows.every((r) => r.success && r.result === '1'),
        `an HNSW index on every shard: ${JSON.stringify(rows)}`,
      );
      const placed = await sql<{ n: number }>`
        select count(distinct nodeport)::int as n from citus_shards where table_name = ${table}::regclass`.execute(
        db.kysely,
      );
      assert.equal(placed.rows[0]?.n, 2, 'shards on both workers');
      const status = await getStatus(db);
      assert.equal(status.cluster?.nodes.filter((n) => n.role === 'worker').length, 2);
      const s = status.versions.find((x) => x.key === 'shards');
      assert.equal(s?.shards?.shards, rows.length);
      assert.ok((s?.shards?.nodes ?? 0) >= 2);
    },
  );
});

/** Random unit-ish vectors, deterministic per seed. */
function randomVectors(n: number, dims: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  return Array.from({ length: n }, () => Float32Array.from({ length: dims }, rnd));
}

const N = 3000;
const DIMS = 24;

/** N chunks with random vectors in one HNSW version; returns the version's spec. */
async function loadRandom(target: Db): Promise<PartitionSpec> {
  const ids: number[] = [];
  const rows = Array.from({ length: N }, (_, i) => ({
    semantic_key: createHash('sha256').update(`r:${i}`).digest('hex'),
    document_id: `r${i}`,
    chunk_no: 0,
    content: `random ${i}`,
    content_sha256: createHash('sha256').update(`rc${i}`).digest(),
    metadata: '{}',
  }));
  for (let i = 0; i < rows.length; i += 1000) {
    const out = await target.kysely
      .insertInto('document_chunks')
      .values(rows.slice(i, i + 1000))
      .returning('id')
      .execute();
    ids.push(...out.map((r) => Number(r.id)));
  }
  const r = await target.kysely
    .insertInto('embedding_versions')
    .values({
      version_key: 'random',
      encoder_spec: 'hash:test',
      encoder_name: 'hash:test',
      encoder_revision: '1',
      encoder_settings: '{}',
      encoder_identity: 'c'.repeat(64),
      dimensions: DIMS,
      distance_metric: 'l2',
      index_kind: 'hnsw',
      index_params: '{}',
      index_storage: 'vector',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const spec: PartitionSpec = {
    id: r.id,
    dimensions: DIMS,
    distance_metric: 'l2',
    index_kind: 'hnsw',
    index_storage: 'vector',
    index_params: {},
  };
  await target.kysely.transaction().execute((trx) => createPartition(trx, spec));
  const vectors = randomVectors(N, DIMS, 7);
  await target.kysely.transaction().execute((trx) =>
    copyBinaryWriter.write(
      trx,
      { id: spec.id, version_key: 'random', dimensions: DIMS },
      vectors.map((vector, i) => ({ chunkId: ids[i]!, vector })),
    ),
  );
  await sql.raw(annIndexStatement(spec)!).execute(target.kysely);
  await sql.raw(`ANALYZE ${partitionTable(spec.id)}`).execute(target.kysely);
  return spec;
}

/** Recall@10 of the searcher's ANN query against exact search, over `queries`; and whether it ever fell back. */
async function recallAt10(target: Db, spec: PartitionSpec, queries: Float32Array[]) {
  let found = 0;
  let fallbacks = 0;
  for (const q of queries) {
    const vector = new QueryVector(q);
    const plan = {
      target: { ...spec, derivation: null },
      index: { kind: 'hnsw' as const },
      vector,
      limit: 10,
      knobs: {},
      exact: false,
    };
    // As the searcher does: a transaction on Citus (db.distributed), one connection elsewhere.
    const session = target.distributed ? target.kysely.transaction() : target.kysely.connection();
    const ann = await session.execute((conn) => runQuery(conn, plan));
    const exact = await target.kysely.connection().execute((conn) => runQuery(conn, { ...plan, exact: true }));
    if (ann.exactFallback) fallbacks++;
    const truth = new Set(exact.vector.map((r) => r.chunk_id));
    found += ann.vector.filter((r) => truth.has(r.chunk_id)).length;
  }
  return { recall: found / (queries.length * 10), fallbacks };
}

describe('Citus: what does not run on a cluster says so', () => {
  test(
    'backfill --batch-api is refused in one line that names the online path, before anything is read or sent',
    { skip: ONLY_CITUS },
    async () => {
      await register(db, { key: 'batchless', encoder: 'hash:mixed-384' });
      const deps = { actor: 'tester', logger, env: {} } as unknown as Parameters<typeof runBatchBackfill>[3];
      for (const call of [
        () => runBatchBackfill(db, 'batchless', {} as Parameters<typeof runBatchBackfill>[2], deps),
        () => planBatchBackfill(db, 'batchless', {} as Parameters<typeof planBatchBackfill>[2], deps),
      ]) {
        await assert.rejects(call(), (e: Error) => {
          assert.ok(e instanceof RefusedError, String(e));
          assert.match(
            e.message,
            /^backfill --batch-api does not run on a Citus cluster yet: run embctl backfill batchless without --batch-api/,
          );
          return true;
        });
      }
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from batch_api_jobs`.execute(db.kysely);
      assert.equal(rows[0]?.n, 0, 'nothing recorded');
    },
  );
});

describe('Citus: the query settings reach the shards', () => {
  test(
    'every shard runs the search with the ef_search it asked for, and recall matches one node at the same settings',
    { skip: ONLY_CITUS },
    async () => {
      const cluster = await freshDb();
      // One node to compare with: a plain database (no citus extension) on the coordinator's server.
      const admin = process.env.TEST_DATABASE_URL!;
      const single = `embctl_single_${process.pid}_${randomBytes(4).toString('hex')}`;
      await withAdmin(admin, (c) => c.query(`create database ${single}`));
      const u = new URL(admin);
      u.pathname = `/${single}`;
      const one = await openDatabase({ databaseUrl: u.toString(), homeDir: cluster.homeDir, logger });
      try {
        assert.equal(one.distributed, false);
        assert.equal(cluster.distributed, true);
        await migrate(one, { logger });
        const onCluster = await loadRandom(cluster);
        const onOne = await loadRandom(one);
        // The database's default is 1, on every node (Citus propagates ALTER DATABASE from the
        // coordinator): a search whose setting stayed on the coordinator would get one candidate
        // per shard (and fall back to exact search, which is counted below).
        const { rows: dbName } = await sql<{ d: string }>`select current_database() as d`.execute(cluster.kysely);
        await sql.raw(`alter database ${dbName[0]!.d} set hnsw.ef_search = 1`).execute(cluster.kysely);
        // New sessions (the coordinator caches its connections to the workers per session).
        const fresh = await openDatabase({ databaseUrl: cluster.url, homeDir: cluster.homeDir, logger });
        try {
          const efOnShards = async (k: Kysely<DB>) =>
            (
              await sql<{ ef: string }>`
              select distinct current_setting('hnsw.ef_search') as ef from ${sql.raw(partitionTable(onCluster.id))}`.execute(
                k,
              )
            ).rows.map((r) => r.ef);
          // A session-level setting stays on the coordinator: the shards keep their own.
          await sql`set hnsw.ef_search = 123`.execute(fresh.kysely);
          assert.deepEqual(await fresh.kysely.connection().execute(efOnShards), ['1'], 'the trap is set');
          // As a search sends them: with its statement, in its transaction (SET LOCAL on Citus).
          const { settings } = knobSettings({ kind: 'hnsw' }, { efSearch: 123 }, 10, false);
          const seen = await fresh.kysely.transaction().execute(async (trx) => {
            const q = sql<{
              ef: string;
            }>`select distinct current_setting('hnsw.ef_search') as ef from ${sql.raw(partitionTable(onCluster.id))}`;
            return (await trx.executeQuery<{ ef: string }>(withSessionSettings(q.compile(trx), settings))).rows.map(
              (r) => r.ef,
            );
          });
          assert.deepEqual(seen, ['123'], 'the setting as every shard saw it');
          const queries = randomVectors(40, DIMS, 99);
          const c = await recallAt10(fresh, onCluster, queries);
          const s1 = await recallAt10(one, onOne, queries);
          assert.equal(c.fallbacks, 0, 'no search on the cluster stopped short (its ef_search arrived)');
          assert.ok(s1.recall >= 0.95, `one node: recall@10 ${s1.recall}`);
          assert.ok(c.recall >= s1.recall - 0.01, `recall@10 on the cluster ${c.recall}, on one node ${s1.recall}`);
        } finally {
          await fresh.close();
        }
      } finally {
        await one.close();
        await cluster.destroy();
        await withAdmin(admin, (c) => c.query(`drop database if exists ${single} with (force)`));
      }
    },
  );
});

describe('Citus: the flip is atomic on every node', () => {
  test(
    'during 100 flips, each node’s copy of the versions has exactly one active version at every read',
    { skip: ONLY_CITUS },
    async () => {
      const flipDb = await freshDb();
      try {
        await ingestDocs(flipDb, syntheticDocs(60));
        for (const key of ['x', 'y']) {
          await register(flipDb, { key, encoder: key === 'x' ? 'hash:mixed-384' : 'hash:words-256' });
          await fillVersion(flipDb, key);
          await recordGate(flipDb, key, true);
        }
        const deps = { actor: 'tester', logger };
        await activate(flipDb, 'x', deps);
        const { rows: shard } = await sql<{ id: string }>`
        select shardid::text as id from pg_dist_shard where logicalrelid = 'embedding_versions'::regclass`.execute(
          flipDb.kysely,
        );
        const placement = `embedding_versions_${shard[0]!.id}`;
        const urls = await nodeUrls(flipDb.kysely, flipDb.url!);
        assert.equal(urls.length, 3, 'a coordinator and two workers');
        let done = false;
        const seen = urls.map(() => new Map<number, number>());
        const readers = urls.map(async (url, i) => {
          // Each node's own copy (the shard placement), read on that node, not through the coordinator.
          await withAdmin(url, async (c) => {
            while (!done) {
              const { rows } = await c.query<{ n: number }>(`select count(*)::int as n from ${placement} where active`);
              const n = Number(rows[0]!.n);
              seen[i]!.set(n, (seen[i]!.get(n) ?? 0) + 1);
            }
          });
        });
        let flips = 0;
        for (let i = 0; i < 100; i++) {
          const r = await activate(flipDb, i % 2 === 0 ? 'y' : 'x', deps);
          if (r.changed) flips++;
        }
        done = true;
        await Promise.all(readers);
        assert.equal(flips, 100);
        for (const [i, m] of seen.entries()) {
          assert.deepEqual([...m.keys()], [1], `node ${i}: active-version counts seen ${JSON.stringify([...m])}`);
          assert.ok((m.get(1) ?? 0) > 10, `node ${i} was read during the flips`);
        }
        // And the last flip is the one every node holds.
        for (const url of urls) {
          const { rows } = await withAdmin(url, (c) =>
            c.query<{ k: string }>(`select version_key as k from ${placement} where active`),
          );
          assert.deepEqual(
            rows.map((r) => r.k),
            ['x'],
          );
        }
      } finally {
        await flipDb.destroy();
      }
    },
  );
});
