// The public surface of src/ingest/: other folders import from here only.
export { ingest, describeSkipped, type IngestDeps } from './ingest.js';
export type {
  IngestOptions,
  IngestProblem,
  IngestProgress,
  IngestReport,
  ChunkCounts,
  IngestFormat,
  SourceDocument,
} from './types.js';
export { normalizeText, normalizeTitle } from './normalize.js';
export { chunkDocument, chunkText, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP, type ChunkOptions } from './chunk.js';
export { semanticKey, contentSha256 } from './hash.js';
export { prepareDocument, canonicalJson } from './prepare.js';
export { globToRegExp, matchesGlob } from './glob.js';
export { formatProblem } from './problems.js';
export { markdownTitle } from './text-file.js';
