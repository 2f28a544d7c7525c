import type { Progress } from '../util/index.js';

/** Public shapes of `embctl ingest` (options, progress, report). */

export type IngestFormat = 'auto' | 'jsonl' | 'beir' | 'text';

export interface IngestOptions {
  /** How inputs are read; 'auto' decides per file from its content (default). */
  format?: IngestFormat;
  /** Globs a file found in a folder must match (default: text, Markdown and JSONL files). */
  include?: string[];
  /** Globs that drop files and folders found in a folder (default: dot-files and node_modules). */
  exclude?: string[];
  /** Chunk size in characters, title excluded (default 1000). */
  chunkSize?: number;
  /** Characters repeated from the end of one chunk at the start of the next (default 100). */
  chunkOverlap?: number;
  /** Retire the chunks of every document absent from this input. */
  prune?: boolean;
  /** Ingest the valid records and list the invalid ones, instead of rejecting the run. */
  skipInvalid?: boolean;
  /** Read, validate and compare, write nothing. */
  dryRun?: boolean;
  /** Documents per transaction (default 1000). */
  batchSize?: number;
}

export interface IngestProgress extends Progress {
  phase: 'validating' | 'writing' | 'pruning';
  /** Documents read (validating) or written (writing) so far. */
  documents: number;
  /** Chunks produced so far (writing). */
  chunks: number;
  /** Valid documents found by the validation pass (known while writing). */
  totalDocuments?: number;
}

/** One rejected input: a record, a line or a whole file. */
export interface IngestProblem {
  /** The input as the user named it (a path, or `<stdin>`). */
  source: string;
  /** 1-based line for JSONL records and text files, when known. */
  line?: number;
  documentId?: string;
  reason: string;
}

export interface ChunkCounts {
  new: number;
  unchanged: number;
  retired: number;
  metadataUpdated: number;
  unretired: number;
}

export interface IngestReport {
  /** Documents read from the input and ingested (or compared, in a dry run). */
  documents: number;
  /** Documents whose chunks changed (new, retired or un-retired chunks). */
  documentsChanged: number;
  /** Documents absent from the input whose chunks were retired (prune). */
  documentsPruned: number;
  chunks: ChunkCounts;
  /** Invalid inputs left out (skipInvalid). */
  skipped: IngestProblem[];
  dryRun: boolean;
  seconds: number;
}

/** A document read from any input, before normalization. */
export interface SourceDocument {
  id: string;
  text: string;
  title?: string;
  metadata: Record<string, unknown>;
}
