import type { Db } from '../db/index.js';
import type { EncoderDeps } from '../encoders/index.js';
import { createSearcher, MAX_K } from '../search/index.js';
import type { VersionRow } from '../versions/index.js';
import type { ClosableRetriever } from './exact-retriever.js';
import type { RetrievedChunk } from './types.js';

/**
 * Evaluate what users get: the same search the CLI and the HTTP service
 * run (the version's own encoder, its ANN index and query-time settings).
 */
export function createSearchRetriever(db: Db, deps: EncoderDeps = {}): ClosableRetriever {
  const searcher = createSearcher(db, { logger: deps.logger, encoderDeps: deps });
  const retrieve = async (version: VersionRow, query: string, depth: number): Promise<RetrievedChunk[]> => {
    const r = await searcher.search({ query, version: version.version_key, k: Math.min(depth, MAX_K) });
    return r.hits.map((h) => ({
      chunkId: h.chunkId,
      semanticKey: h.semanticKey,
      documentId: h.documentId,
      score: h.score,
    }));
  };
  return Object.assign(retrieve, { close: () => searcher.close() });
}
