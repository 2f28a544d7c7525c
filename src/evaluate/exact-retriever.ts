/**
 * A reference retriever: exact (sequential) nearest-neighbour search over
 * one version's partition, the query embedded with the version's own
 * encoder. Evaluation uses it until the search module provides the real
 * (indexed) search; it stays useful as the exact reference.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { formatVectorText } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import type { Encoder } from '../encoders/index.js';
import { encoderForVersion } from '../versions/index.js';
import { nearestQuery } from '../partitions/index.js';
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
    const encoder = await encoderOf(version);
    const [vector] = await encoder.embed([query], { label: 'evaluation query' });
    const nearest = nearestQuery(version, formatVectorText(vector!), depth);
    const { rows } = await sql<{ chunk_id: number; distance: number; semantic_key: string; document_id: string }>`
      select n.chunk_id, n.distance, c.semantic_key, c.document_id
      from (${nearest}) n join document_chunks c on c.id = n.chunk_id
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
