import { explainText, planName } from './support/explain.js';
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { freshDb, ON_CITUS, ON_SERVER, type TestDb } from './support/db.js';
import {
  annIndexState,
  annIndexStatement,
  createPartition,
  nearestQuery,
  partitionTable,
  type PartitionSpec,
} from '../src/partitions/partition.js';
import { copyBinaryWriter } from '../src/partitions/embedding-writer.js';
import { formatVectorText } from '../src/db/vector-codec.js';
import type { IndexKind, IndexStorage } from '../src/db/schema.js';

let db: TestDb;
const chunkIds: number[] = [];
const N = 2000;

before(async () => {
  db = await freshDb();
  const rows = Array.from({ length: N }, (_, i) => ({
    semantic_key: createHash('sha256').update(`p:${i}`).digest('hex'),
    document_id: `d${i}`,
    chunk_no: 0,
    content: `chunk ${i}`,
    content_sha256: createHash('sha256').update(`c${i}`).digest(),
    metadata: '{}',
  }));
  for (let i = 0; i < rows.length; i += 500) {
    const out = await db.kysely
      .insertInto('document_chunks')
      .values(rows.slice(i, i + 500))
      .returning('id')
      .execute();
    chunkIds.push(...out.map((r) => r.id));
  }
});
after(async () => {
  await db?.destroy();
});

async function version(
  key: string,
  dims: number,
  kind: IndexKind,
  storage: IndexStorage,
  metric: 'cosine' | 'l2' | 'ip' = 'cosine',
): Promise<PartitionSpec> {
  const r = await db.kysely
    .insertInto('embedding_versions')
    .values({
      version_key: key,
      encoder_spec: 'hash:test',
      encoder_name: 'hash:test',
      encoder_revision: '1',
      encoder_settings: '{}',
      encoder_identity: 'b'.repeat(64),
      dimensions: dims,
      distance_metric: metric,
      index_kind: kind,
      index_params: '{}',
      index_storage: storage,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const spec: PartitionSpec = {
    id: r.id,
    dimensions: dims,
    distance_metric: metric,
    index_kind: kind,
    index_storage: storage,
    index_params: {},
  };
  await db.kysely.transaction().execute((trx) => createPartition(trx, spec));
  return spec;
}

function randomVectors(n: number, dims: number, seed: number): Float32Array[] {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  return Array.from({ length: n }, () => Float32Array.from({ length: dims }, rnd));
}

async function load(v: PartitionSpec, vectors: Float32Array[]): Promise<void> {
  const target = { id: v.id, version_key: `v${v.id}`, dimensions: v.dimensions };
  await db.kysely.transaction().execute((trx) =>
    copyBinaryWriter.write(
      trx,
      target,
      vectors.map((vector, i) => ({ chunkId: chunkIds[i]!, vector })),
    ),
  );
  await sql.raw(annIndexStatement(v)!).execute(db.kysely);
  await sql.raw(`ANALYZE ${partitionTable(v.id)}`).execute(db.kysely);
}

describe('per-version partitions', () => {
  test('the ANN index is used and only that partition is scanned', async () => {
    const a = await version('explain-a', 32, 'hnsw', 'vector');
    const b = await version('explain-b', 32, 'hnsw', 'vector');
    await load(a, randomVectors(N, 32, 1));
    await load(b, randomVectors(N, 32, 2));
    assert.equal(await annIndexState(db.kysely, a.id), 'valid');
    const q = formatVectorText(randomVectors(1, 32, 3)[0]!);
    const built = nearestQuery(a, q, 10).compile(db.kysely);
    // On Citus each shard holds a quarter of the rows, too few for its planner to prefer the index:
    // there the plan is asked with sequential scans off (on the shards: explainText sets them there).
    const text = await explainText(db.kysely, built, ON_CITUS ? { enable_seqscan: 'off' } : {});
    assert.match(
      text,
      new RegExp(`Index Scan using ${planName(`${partitionTable(a.id)}_ann`)} on ${planName(partitionTable(a.id))}`),
      text,
    );
    assert.doesNotMatch(text, new RegExp(`${partitionTable(b.id)}\\b`), text);
    assert.doesNotMatch(text, /Seq Scan/, text);
    // And the query returns neighbours from that version only.
    const res = await nearestQuery(a, q, 10).execute(db.kysely);
    assert.equal(res.rows.length, 10);
    const sorted = [...res.rows].sort((x, y) => x.distance - y.distance);
    assert.deepEqual(res.rows, sorted);
  });

  test('a 3072-dimension halfvec version gets an HNSW index', async () => {
    const v = await version('big-halfvec', 3072, 'hnsw', 'halfvec');
    await load(v, randomVectors(ON_SERVER ? 300 : 60, 3072, 4));
    assert.equal(await annIndexState(db.kysely, v.id), 'valid');
    const def = await sql<{
      d: string;
    }>`select pg_get_indexdef(to_regclass(${partitionTable(v.id) + '_ann'})) as d`.execute(db.kysely);
    assert.match(def.rows[0]!.d, /USING hnsw \(\(\(embedding\)::halfvec\(3072\)\) halfvec_cosine_ops\)/);
    const res = await nearestQuery(v, formatVectorText(randomVectors(1, 3072, 5)[0]!), 5).execute(db.kysely);
    assert.equal(res.rows.length, 5);
  });

  test('the schema refuses HNSW on vector above 2000 dimensions', async () => {
    await assert.rejects(version('too-big', 3072, 'hnsw', 'vector'), /embedding_versions_index_dims/);
  });

  test('IVFFlat with l2 and inner product build with matching operator classes', async () => {
    const l2 = await version('ivf-l2', 16, 'ivfflat', 'vector', 'l2');
    await load(l2, randomVectors(N, 16, 6));
    const ip = await version('hnsw-ip', 16, 'hnsw', 'halfvec', 'ip');
    await load(ip, randomVectors(N, 16, 7));
    for (const [v, opclass] of [
      [l2, 'vector_l2_ops'],
      [ip, 'halfvec_ip_ops'],
    ] as const) {
      const oc = await sql<{ opcname: string }>`
        select o.opcname from pg_index i join pg_opclass o on o.oid = i.indclass[0]
        where i.indexrelid = to_regclass(${partitionTable(v.id) + '_ann'})`.execute(db.kysely);
      assert.equal(oc.rows[0]?.opcname, opclass);
    }
  });
});
