import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshDb, type TestDb } from './support/db.js';
import { createPartition, type PartitionSpec } from '../src/partitions/partition.js';
import { copyBinaryWriter, encodeRows, type EncodedRows } from '../src/partitions/embedding-writer.js';
import { encodeEmbeddingCopy } from '../src/partitions/copy-encoding.js';
import { copyFromStdinQuery } from '../src/db/driver/special-queries.js';
import { sql } from 'kysely';
import { allFinite, vectorProblem } from '../src/db/vector-codec.js';
import { InputError, InvariantError } from '../src/errors.js';

// The backfill checks and encodes a batch before its transaction (so that
// this work overlaps the previous batch's COPY): a bad vector must still
// never reach a partition, and the error must name chunk and version.

describe('allFinite and vectorProblem (the one-pass check)', () => {
  test('finds NaN and ±Infinity at every position, for lengths that are and are not multiples of 4', () => {
    for (let n = 1; n <= 9; n++) {
      const ok = Float32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (i + 0.5));
      assert.equal(allFinite(ok), true, `length ${n}`);
      assert.equal(vectorProblem(ok, n), null);
      for (let at = 0; at < n; at++) {
        for (const [bad, said] of [
          [NaN, 'NaN'],
          [Infinity, 'Infinity'],
          [-Infinity, '-Infinity'],
        ] as const) {
          const v = ok.slice();
          v[at] = bad;
          assert.equal(allFinite(v), false, `length ${n}, ${said} at ${at}`);
          assert.equal(vectorProblem(v, n), `has ${said} at position ${at}`);
        }
      }
    }
  });

  test('accepts zeros, -0, subnormals and the float32 extremes', () => {
    const v = new Float32Array([
      0, -0, 1e-45, -1e-45, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38,
    ]);
    assert.equal(allFinite(v), true);
    assert.equal(vectorProblem(v, v.length), null);
    assert.equal(allFinite(new Float32Array(0)), true);
  });

  test('plain arrays still get the full check (values beyond float32 range are refused)', () => {
    assert.equal(vectorProblem([1, 2, 3], 3), null);
    assert.equal(vectorProblem([1, NaN, 3], 3), 'has NaN at position 1');
    assert.equal(vectorProblem([1, 1e39, 3], 3), 'has a value outside float32 range at position 1');
    assert.equal(vectorProblem(new Float32Array(3), 4), 'has 3 dimensions, expected 4');
  });
});

describe('encodeRows and writeEncoded', () => {
  let db: TestDb;
  before(async () => {
    db = await freshDb();
  });
  after(async () => {
    await db?.destroy();
  });

  async function addVersion(key: string, dims: number): Promise<PartitionSpec & { version_key: string }> {
    const row = await db.kysely
      .insertInto('embedding_versions')
      .values({
        version_key: key,
        encoder_spec: 'hash:test',
        encoder_name: 'hash:test',
        encoder_revision: '1',
        encoder_settings: '{}',
        encoder_identity: 'b'.repeat(64),
        dimensions: dims,
        distance_metric: 'cosine',
        index_kind: 'none',
        index_params: '{}',
        index_storage: 'vector',
      })
      .returning(['id'])
      .executeTakeFirstOrThrow();
    const spec: PartitionSpec & { version_key: string } = {
      id: row.id,
      version_key: key,
      dimensions: dims,
      distance_metric: 'cosine',
      index_kind: 'none',
      index_storage: 'vector',
      index_params: {},
    };
    await db.kysely.transaction().execute((trx) => createPartition(trx, spec));
    return spec;
  }

  async function addChunks(n: number, prefix: string): Promise<number[]> {
    const out = await db.kysely
      .insertInto('document_chunks')
      .values(
        Array.from({ length: n }, (_, i) => ({
          semantic_key: createHash('sha256').update(`${prefix}:${i}`).digest('hex'),
          document_id: `${prefix}-${i}`,
          chunk_no: 0,
          content: `text ${prefix} ${i}`,
          content_sha256: createHash('sha256').update(`${prefix} ${i}`).digest(),
          metadata: '{}',
        })),
      )
      .returning('id')
      .execute();
    return out.map((r) => r.id);
  }

  const count = async (versionId: number) =>
    Number(
      (
        await db.kysely
          .selectFrom('chunk_embeddings')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('embedding_version_id', '=', versionId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  test('a bad vector anywhere in the batch refuses the whole batch, naming chunk and version, and nothing is written', async () => {
    const v = await addVersion('enc-bad', 5);
    const ids = await addChunks(130, 'enc-bad');
    const good = () => Float32Array.from({ length: 5 }, (_, i) => i + 1);
    for (const [at, vector, said] of [
      [0, new Float32Array([1, 2, 3, 4, NaN]), 'has NaN at position 4'],
      [129, new Float32Array([-Infinity, 2, 3, 4, 5]), 'has -Infinity at position 0'],
      [70, new Float32Array([1, 2, 3, 4]), 'has 4 dimensions, expected 5'],
    ] as const) {
      const rows = ids.map((chunkId) => ({ chunkId, vector: good() }));
      rows[at] = { chunkId: ids[at]!, vector };
      await assert.rejects(
        encodeRows(v, rows),
        (e: unknown) =>
          e instanceof InputError &&
          e.message === `vector for chunk ${ids[at]} in version enc-bad ${said}: nothing was written for this batch`,
      );
    }
    assert.equal(await count(v.id), 0);
  });

  test("writes the same bytes as write(), in pieces, in the caller's transaction", async () => {
    const dims = 7;
    const v = await addVersion('enc-ok', dims);
    const ids = await addChunks(150, 'enc-ok');
    const rows = ids.map((chunkId, j) => ({
      chunkId,
      vector: Float32Array.from({ length: dims }, (_, i) => Math.sin(j * dims + i)),
    }));
    const encoded = await encodeRows(v, rows);
    assert.equal(encoded.rows, 150);
    assert.ok(encoded.pieces.length > 1, 'a batch of 150 rows travels in more than one piece');
    assert.deepEqual(Buffer.concat([...encoded.pieces]), encodeEmbeddingCopy(v.id, rows));
    // Rolled back with its transaction: nothing stays.
    await assert.rejects(
      db.kysely.transaction().execute(async (trx) => {
        assert.equal(await copyBinaryWriter.writeEncoded(trx, v, encoded), 150);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await count(v.id), 0);
    assert.equal(await db.kysely.transaction().execute((trx) => copyBinaryWriter.writeEncoded(trx, v, encoded)), 150);
    const back = await db.kysely
      .selectFrom('chunk_embeddings')
      .select(['chunk_id', 'embedding'])
      .where('embedding_version_id', '=', v.id)
      .orderBy('chunk_id')
      .execute();
    assert.equal(back.length, 150);
    // By chunk id: the ids an INSERT … RETURNING gave back need not be in order (on Citus they are not).
    const sent = new Map(rows.map((r) => [r.chunkId, r.vector]));
    back.forEach((r, i) =>
      assert.deepEqual(
        Buffer.from((r.embedding as Float32Array).buffer),
        Buffer.from(sent.get(Number(r.chunk_id))!.buffer),
        `row ${i}`,
      ),
    );
    assert.equal(await copyBinaryWriter.writeEncoded(db.kysely, v, await encodeRows(v, [])), 0);
  });

  test('refuses rows not made by encodeRows, and rows encoded for another version', async () => {
    const a = await addVersion('enc-a', 3);
    const b = await addVersion('enc-b', 3);
    const [id] = await addChunks(1, 'enc-ab');
    const forA = await encodeRows(a, [{ chunkId: id!, vector: new Float32Array([1, 2, 3]) }]);
    await assert.rejects(
      copyBinaryWriter.writeEncoded(db.kysely, b, forA),
      (e: unknown) =>
        e instanceof InvariantError && /version id \d+ cannot be written into version enc-b/.test(e.message),
    );
    // Hand-made bytes (here with a NaN) never get through writeEncoded.
    const forged = {
      versionId: a.id,
      rows: 1,
      pieces: [encodeEmbeddingCopy(a.id, [{ chunkId: id!, vector: new Float32Array([1, NaN, 3]) }])],
    } as unknown as EncodedRows;
    await assert.rejects(
      copyBinaryWriter.writeEncoded(db.kysely, a, forged),
      (e: unknown) => e instanceof InvariantError && /made by encodeRows only/.test(e.message),
    );
    assert.equal(await count(a.id), 0);
    assert.equal(await count(b.id), 0);
  });

  test('a COPY payload that fails while it is produced is abandoned: nothing written, the connection still works', async () => {
    const v = await addVersion('enc-fail', 2);
    const ids = await addChunks(2, 'enc-fail');
    const good = encodeEmbeddingCopy(v.id, [{ chunkId: ids[0]!, vector: new Float32Array([1, 2]) }]);
    function* pieces(): Generator<Buffer> {
      yield good.subarray(0, good.length - 2); // header and one tuple, no trailer
      throw new Error('encoder broke');
    }
    await db.kysely.connection().execute(async (conn) => {
      await assert.rejects(
        conn.executeQuery(
          copyFromStdinQuery(
            `COPY chunk_embeddings_v${v.id} (chunk_id, embedding_version_id, embedding) FROM STDIN (FORMAT binary)`,
            pieces(),
          ),
        ),
        /encoder broke/,
      );
      // Same connection: it left COPY mode and answers.
      const r = await sql<{ one: number }>`select 1 as one`.execute(conn);
      assert.equal(Number(r.rows[0]!.one), 1);
    });
    assert.equal(await count(v.id), 0);
  });

  test('chunk ids beyond 32 bits are written exactly', async () => {
    const v = await addVersion('enc-bigid', 2);
    const ids = [2 ** 32 + 5, 2 ** 40 + 2 ** 31 + 7];
    for (const [i, id] of ids.entries()) {
      await db.kysely
        .insertInto('document_chunks')
        .values({
          id,
          semantic_key: createHash('sha256').update(`bigid:${i}`).digest('hex'),
          document_id: `bigid-${i}`,
          chunk_no: 0,
          content: `big id ${i}`,
          content_sha256: createHash('sha256').update(`bigid ${i}`).digest(),
          metadata: '{}',
        })
        .execute();
    }
    const encoded = await encodeRows(
      v,
      ids.map((chunkId, i) => ({ chunkId, vector: new Float32Array([i, 1]) })),
    );
    // The tuple as PostgreSQL's binary COPY format spells it, written field by field.
    const tuple = Buffer.alloc(2 + 12 + 8 + 4 + 4 + 8);
    let o = tuple.writeInt16BE(3, 0);
    o = tuple.writeInt32BE(8, o);
    o = tuple.writeBigInt64BE(BigInt(ids[0]!), o);
    o = tuple.writeInt32BE(4, o);
    o = tuple.writeInt32BE(v.id, o);
    o = tuple.writeInt32BE(12, o);
    o = tuple.writeInt16BE(2, o);
    o = tuple.writeInt16BE(0, o);
    o = tuple.writeFloatBE(0, o);
    tuple.writeFloatBE(1, o);
    assert.deepEqual(Buffer.concat([...encoded.pieces]).subarray(19, 19 + tuple.length), tuple);
    assert.equal(await copyBinaryWriter.writeEncoded(db.kysely, v, encoded), 2);
    const back = await db.kysely
      .selectFrom('chunk_embeddings')
      .select('chunk_id')
      .where('embedding_version_id', '=', v.id)
      .orderBy('chunk_id')
      .execute();
    assert.deepEqual(
      back.map((r) => Number(r.chunk_id)),
      ids,
    );
  });
});
