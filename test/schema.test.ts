import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { freshDb, ON_SERVER, type TestDb } from './support/db.js';
import { createPartition, dropPartition, partitionExists, type PartitionSpec } from '../src/partitions/partition.js';
import { copyBinaryWriter, insertValuesWriter } from '../src/partitions/embedding-writer.js';
import { InputError } from '../src/errors.js';
import { createHash } from 'node:crypto';

let db: TestDb;
before(async () => {
  db = await freshDb();
});
after(async () => {
  await db?.destroy();
});

async function addVersion(
  key: string,
  dims: number,
  extra: Partial<PartitionSpec> = {},
): Promise<PartitionSpec & { version_key: string }> {
  const row = await db.kysely
    .insertInto('embedding_versions')
    .values({
      version_key: key,
      encoder_spec: 'hash:test',
      encoder_name: 'hash:test',
      encoder_revision: '1',
      encoder_settings: '{}',
      encoder_identity: 'a'.repeat(64),
      dimensions: dims,
      distance_metric: 'cosine',
      index_kind: 'hnsw',
      index_params: '{}',
      index_storage: 'vector',
      ...(extra as object),
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  const spec: PartitionSpec & { version_key: string } = {
    id: row.id,
    version_key: key,
    dimensions: dims,
    distance_metric: 'cosine',
    index_kind: 'hnsw',
    index_storage: 'vector',
    index_params: {},
    ...extra,
  };
  await db.kysely.transaction().execute((trx) => createPartition(trx, spec));
  return spec;
}

async function addChunks(n: number, prefix = 'doc'): Promise<number[]> {
  const rows = Array.from({ length: n }, (_, i) => ({
    semantic_key: createHash('sha256').update(`${prefix}:${i}`).digest('hex'),
    document_id: `${prefix}-${i}`,
    chunk_no: 0,
    content: `text ${prefix} ${i}`,
    content_sha256: Buffer.alloc(32, i),
    metadata: '{}',
  }));
  const out = await db.kysely.insertInto('document_chunks').values(rows).returning('id').execute();
  return out.map((r) => r.id);
}

describe('schema invariants', () => {
  test('the database rejects a second active version', async () => {
    const a = await addVersion('act-a', 3);
    const b = await addVersion('act-b', 3);
    await db.kysely.updateTable('embedding_versions').set({ active: true }).where('id', '=', a.id).execute();
    await assert.rejects(
      db.kysely.updateTable('embedding_versions').set({ active: true }).where('id', '=', b.id).execute(),
      (e: { code?: string; message?: string }) =>
        e.code === '23505' && /embedding_versions_one_active/.test(String(e.message)),
    );
    // A flip in one transaction is fine: clear, then set.
    await db.kysely.transaction().execute(async (trx) => {
      await trx.updateTable('embedding_versions').set({ active: false }).where('active', '=', true).execute();
      await trx.updateTable('embedding_versions').set({ active: true }).where('id', '=', b.id).execute();
    });
    const active = await db.kysely
      .selectFrom('embedding_versions')
      .select('version_key')
      .where('active', '=', true)
      .execute();
    assert.deepEqual(
      active.map((r) => r.version_key),
      ['act-b'],
    );
    await db.kysely.updateTable('embedding_versions').set({ active: false }).execute();
  });

  test('a vector of the wrong dimension is refused by the partition CHECK, naming the version', async () => {
    const v = await addVersion('dims-4', 4);
    const [chunk] = await addChunks(1, 'dimcheck');
    // Straight SQL, past every check in the writer: the partition's CHECK stops it.
    await assert.rejects(
      sql`insert into chunk_embeddings (chunk_id, embedding_version_id, embedding) values (${chunk}, ${v.id}, '[1,2,3]')`.execute(
        db.kysely,
      ),
      (e: { code?: string; message?: string }) =>
        e.code === '23514' && String(e.message).includes(`chunk_embeddings_v${v.id}_dims`),
    );
    // Through binary COPY (the writer's path) with its own validation bypassed: the error names the version.
    const { translateWriteError } = await import('../src/partitions/embedding-writer.js');
    const { encodeEmbeddingCopy } = await import('../src/partitions/copy-encoding.js');
    const { copyFromStdinQuery } = await import('../src/db/driver/special-queries.js');
    const err = await db.kysely
      .executeQuery(
        copyFromStdinQuery(
          `COPY chunk_embeddings_v${v.id} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`,
          encodeEmbeddingCopy(v.id, [{ chunkId: chunk!, vector: new Float32Array([1, 2, 3]) }]),
        ),
      )
      .then(
        () => null,
        (e) => translateWriteError(e, v),
      );
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.match((err as Error).message, /version dims-4/);
    // The writer refuses before sending, naming chunk and version.
    await assert.rejects(
      copyBinaryWriter.write(db.kysely, v, [{ chunkId: chunk!, vector: new Float32Array([1, 2, 3]) }]),
      new RegExp(`chunk ${chunk} in version dims-4 has 3 dimensions, expected 4`),
    );
    await assert.rejects(
      copyBinaryWriter.write(db.kysely, v, [{ chunkId: chunk!, vector: new Float32Array([1, NaN, 3, 4]) }]),
      /NaN at position 1/,
    );
    await assert.rejects(
      copyBinaryWriter.write(db.kysely, v, [{ chunkId: chunk!, vector: new Float32Array([1, Infinity, 3, 4]) }]),
      /Infinity at position 1/,
    );
    const n = await db.kysely
      .selectFrom('chunk_embeddings')
      .select(sql<number>`count(*)`.as('n'))
      .where('embedding_version_id', '=', v.id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 0);
  });

  test('a vector written and read back is bit-identical (binary COPY and INSERT)', async () => {
    const dims = 384;
    const v = await addVersion('roundtrip', dims);
    const ids = await addChunks(50, 'roundtrip');
    const rand = mulberry32(7);
    const vectors = ids.map(() => {
      const a = new Float32Array(dims);
      for (let i = 0; i < dims; i++) a[i] = (rand() - 0.5) * Math.pow(10, Math.floor(rand() * 12) - 6);
      a[0] = 1e-38;
      a[1] = -3.4e38;
      a[2] = 0.1;
      a[3] = -0;
      return a;
    });
    const half = 25;
    await db.kysely.transaction().execute((trx) =>
      copyBinaryWriter.write(
        trx,
        v,
        ids.slice(0, half).map((chunkId, i) => ({ chunkId, vector: vectors[i]! })),
      ),
    );
    await db.kysely.transaction().execute((trx) =>
      insertValuesWriter.write(
        trx,
        v,
        ids.slice(half).map((chunkId, i) => ({ chunkId, vector: vectors[half + i]! })),
      ),
    );
    const back = await db.kysely
      .selectFrom('chunk_embeddings')
      .select(['chunk_id', 'embedding'])
      .where('embedding_version_id', '=', v.id)
      .orderBy('chunk_id')
      .execute();
    assert.equal(back.length, ids.length);
    // By chunk id: the ids an INSERT … RETURNING gave back need not be in order (on Citus they are not).
    const sent = new Map(ids.map((id, i) => [id, vectors[i]!]));
    back.forEach((row, i) => {
      assert.ok(row.embedding instanceof Float32Array);
      assert.deepEqual(
        Buffer.from(row.embedding.buffer),
        Buffer.from(sent.get(Number(row.chunk_id))!.buffer),
        `row ${i} differs`,
      );
    });
  });

  test('dropping one version partition leaves the others intact', async () => {
    const a = await addVersion('keep-me', 2);
    const b = await addVersion('drop-me', 2);
    const ids = await addChunks(3, 'droptest');
    for (const v of [a, b]) {
      await copyBinaryWriter.write(
        db.kysely,
        v,
        ids.map((chunkId) => ({ chunkId, vector: new Float32Array([1, 0]) })),
      );
    }
    await db.kysely.transaction().execute((trx) => dropPartition(trx, b.id));
    assert.equal(await partitionExists(db.kysely, b.id), false);
    assert.equal(await partitionExists(db.kysely, a.id), true);
    const rows = await db.kysely
      .selectFrom('chunk_embeddings')
      .select(['embedding_version_id'])
      .where('chunk_id', 'in', ids)
      .execute();
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.embedding_version_id === a.id));
    // Inserting for the dropped version now fails: no partition holds it.
    await assert.rejects(
      copyBinaryWriter.write(db.kysely, b, [{ chunkId: ids[0]!, vector: new Float32Array([1, 0]) }]),
    );
  });

  test('chunks referenced by a vector cannot be deleted', async () => {
    const v = await addVersion('fk-check', 2);
    const [id] = await addChunks(1, 'fkcheck');
    await copyBinaryWriter.write(db.kysely, v, [{ chunkId: id!, vector: new Float32Array([0, 1]) }]);
    await assert.rejects(
      db.kysely.deleteFrom('document_chunks').where('id', '=', id!).execute(),
      (e: { code?: string }) => e.code === '23503',
    );
  });

  test('the generated tsvector is searchable', async () => {
    await addChunks(1, 'fts');
    const rows = await sql<{
      document_id: string;
    }>`select document_id from document_chunks where content_tsv @@ plainto_tsquery('english', 'texts fts')`.execute(
      db.kysely,
    );
    assert.ok(rows.rows.some((r) => r.document_id === 'fts-0'));
  });

  test(`backend is ${ON_SERVER ? 'postgres' : 'pglite'}`, () => {
    assert.equal(db.backend, ON_SERVER ? 'postgres' : 'pglite');
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
