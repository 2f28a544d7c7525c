import { sql, type Kysely } from 'kysely';
import { createEncoder, type EncoderSettings } from '../../src/encoders/factory.js';
import type { Encoder } from '../../src/encoders/types.js';

/**
 * The tests' exact-search oracle, kept apart from the code it checks: one
 * plain SQL statement over the parent table (the partition is chosen by the
 * planner from `embedding_version_id`), the distance operator of the
 * version's metric on the raw stored vectors — no cast expression, no index,
 * no search module, no shared SQL builder. Only the query's embedding comes
 * from src/ (the version's own encoder, which is not what this checks).
 *
 * It has the shape of an evaluation retriever: (version, query, depth) → the
 * nearest live chunks, best first, ties by chunk id.
 */
export interface OracleVersion {
  id: number;
  encoder_spec: string;
  encoder_settings: unknown;
  /** cosine, l2 or ip (anything else is refused at run time). */
  distance_metric: string;
}

export interface OracleHit {
  chunkId: number;
  semanticKey: string;
  documentId: string;
  /** Larger is better: the negated distance. */
  score: number;
}

export interface ExactRetriever {
  (version: OracleVersion, query: string, depth: number): Promise<OracleHit[]>;
  close(): Promise<void>;
}

const OPERATOR = { cosine: '<=>', l2: '<->', ip: '<#>' } as const;

/** pgvector's text form of a vector, written here rather than imported. */
function vectorLiteral(v: Float32Array): string {
  return `[${Array.from(v, (x) => String(x)).join(',')}]`;
}

export function createExactRetriever(db: Kysely<any>): ExactRetriever {
  const encoders = new Map<number, Promise<Encoder>>();
  const encoderOf = (v: OracleVersion) => {
    let e = encoders.get(v.id);
    if (!e) {
      e = createEncoder(v.encoder_spec, (v.encoder_settings ?? {}) as EncoderSettings);
      encoders.set(v.id, e);
    }
    return e;
  };
  const retrieve = async (version: OracleVersion, query: string, depth: number): Promise<OracleHit[]> => {
    const [vector] = await (await encoderOf(version)).embed([query]);
    const op = OPERATOR[version.distance_metric as keyof typeof OPERATOR];
    if (!op) throw new Error(`unknown metric ${version.distance_metric}`);
    const { rows } = await sql<{
      chunk_id: string | number;
      distance: number;
      semantic_key: string;
      document_id: string;
    }>`
      select e.chunk_id, e.embedding ${sql.raw(op)} ${vectorLiteral(vector!)}::vector as distance, c.semantic_key, c.document_id
      from chunk_embeddings e join document_chunks c on c.id = e.chunk_id
      where e.embedding_version_id = ${version.id} and c.retired_at is null
      order by distance, e.chunk_id
      limit ${depth}`.execute(db);
    return rows.map((r) => ({
      chunkId: Number(r.chunk_id),
      semanticKey: r.semantic_key,
      documentId: r.document_id,
      score: -Number(r.distance),
    }));
  };
  return Object.assign(retrieve, {
    async close() {
      for (const e of encoders.values()) await (await e).close?.();
      encoders.clear();
    },
  });
}
