/**
 * A reference retriever: exact (sequential, never the ANN index) nearest-neighbour search over
 * one version's partition, the query embedded with the version's own
 * encoder. Evaluation uses it until the search module provides the real
 * (indexed) search; it stays useful as the exact reference.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { QueryVector } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import type { Encoder } from '../encoders/index.js';
import { encoderForVersion } from '../versions/index.js';
import {
  castExpression,
  derivationOf,
  indexOperator,
  partitionTable,
  queryCast,
  queryVectorSql,
} from '../partitions/index.js';
import { InputError } from '../errors.js';
import type { VersionRow } from '../versions/index.js';
import type { RetrievedChunk, Retriever } from './types.js';
import { scoreFromDistance } from '../search/index.js';

export interface ClosableRetriever extends Retriever {
  close(): Promise<void>;
}

export function createExactRetriever(db: Kysely<DB>, deps: EncoderDeps = {}): ClosableRetriever {
  const encoders = new Map<number, Promise<Encoder>>();
  const encoderOf = (v: VersionRow) => {
    let e = encoders.get(v.id);
    if (!e) {
      e = encoderForVersion(v, deps);
      encoders.set(v.id, e);
      e.catch(() => encoders.delete(v.id));
    }
    return e;
  };
  const retrieve = async (version: VersionRow, query: string, depth: number): Promise<RetrievedChunk[]> => {
    if (derivationOf(version)?.rerank)
      throw new InputError(
        `version ${version.version_key} re-ranks on its parent: evaluate it with the search retriever (its exact mode re-ranks too)`,
      );
    const encoder = await encoderOf(version);
    const [vector] = await encoder.embed([query], { label: 'evaluation query' });
    // Behind an `offset 0` fence no index can serve the ordering: a sequential
    // scan, whatever ANN settings the pooled connection holds from a search.
    // A derived version's query goes through its transform (partitions/transform.ts).
    const queryVector = queryVectorSql(version, new QueryVector(vector!), queryCast(version));
    const distance = sql`${sql.raw(castExpression(version, 'e'))} ${sql.raw(indexOperator(version))} ${queryVector}`;
    const { rows } = await sql<{ chunk_id: number; distance: number; semantic_key: string; document_id: string }>`
      select n.chunk_id, n.distance, c.semantic_key, c.document_id
      from (
        select s.chunk_id, s.distance
        from (select e.chunk_id, ${distance} as distance from ${sql.raw(partitionTable(version.id))} e offset 0) s
        order by s.distance, s.chunk_id
        limit ${depth}
      ) n join document_chunks c on c.id = n.chunk_id
      where c.retired_at is null
      order by n.distance, n.chunk_id`.execute(db);
    return rows.map((r) => ({
      chunkId: Number(r.chunk_id),
      semanticKey: r.semantic_key,
      documentId: r.document_id,
      score: scoreFromDistance(version.distance_metric, Number(r.distance)),
    }));
  };
  return Object.assign(retrieve, {
    async close() {
      const all = [...encoders.values()];
      encoders.clear();
      for (const e of all) await (await e.catch(() => undefined))?.close?.();
    },
  });
}
