import type { DistanceMetric } from '../db/index.js';
import type { MetadataFilter } from './filters.js';
import type { VersionSource } from './resolve-version.js';

/** One search. Only `query` is required. */
export interface SearchRequest {
  /** The query text; it is embedded with the serving version's own encoder. */
  query: string;
  /** Serve from this version (default: the pinned version, else the active one). */
  version?: string;
  /** Results wanted (default 10, at most 1000). */
  k?: number;
  /** Metadata the chunks must contain (`metadata @> filters`). */
  filters?: MetadataFilter;
  /** Fuse full-text and vector results with reciprocal rank fusion (k = 60). */
  hybrid?: boolean;
  /** Keep hits whose calibrated score is at least this (needs a calibrated version). */
  minScore?: number;
  /** HNSW `ef_search` for this call (default 200). */
  efSearch?: number;
  /** IVFFlat `probes` for this call (default max(10, √lists)). */
  probes?: number;
  /** Exact search (no ANN index): the reference for recall. */
  exact?: boolean;
}

export interface SearchHit {
  /** The version that produced this hit (the same for every hit of a result). */
  version: string;
  chunkId: number;
  semanticKey: string;
  documentId: string;
  chunkNo: number;
  content: string;
  metadata: Record<string, unknown>;
  /** Distance to the query by the version's metric (pgvector operator). */
  distance: number;
  /** Similarity from the distance (see `scoreFromDistance`); larger is better; not comparable across versions. */
  score: number;
  /** The score through the version's calibration, in [0, 1], when it has one. */
  calibratedScore?: number;
  /** Hybrid only: the fused score and the 1-based ranks in each list (null when absent). */
  fusedScore?: number;
  vectorRank?: number | null;
  textRank?: number | null;
}

export interface SearchResult {
  version: string;
  versionId: number;
  /** Why this version served: asked for, pinned by EMBCTL_PIN_VERSION, or active. */
  source: VersionSource;
  metric: DistanceMetric;
  mode: 'ann' | 'exact' | 'hybrid';
  k: number;
  hits: SearchHit[];
  /** Wall time of the whole call, and its parts. */
  ms: number;
  timings: { resolveMs: number; embedMs: number; searchMs: number };
  /** The ANN settings used (absent for exact search). */
  efSearch?: number;
  probes?: number;
  /** Set when the ANN index returned fewer rows than exist and exact search filled the result. */
  exactFallback?: { annRows: number; exactRows: number; reason: string };
  /** Hits dropped by minScore. */
  belowMinScore?: number;
}
