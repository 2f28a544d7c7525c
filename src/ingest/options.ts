import { UsageError } from '../errors.js';
import { DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE } from './chunk.js';
import { INGEST_LIMITS } from './limits.js';
import type { IngestFormat, IngestOptions } from './types.js';

export const DEFAULT_BATCH_SIZE = 1000;
const FORMATS: readonly IngestFormat[] = ['auto', 'jsonl', 'beir', 'text'];

export interface ResolvedIngestOptions {
  format: IngestFormat;
  include?: string[];
  exclude?: string[];
  chunkSize: number;
  chunkOverlap: number;
  prune: boolean;
  skipInvalid: boolean;
  dryRun: boolean;
  batchSize: number;
}

/** Defaults in one place; every bad option reported at once. */
export function resolveIngestOptions(o: IngestOptions): ResolvedIngestOptions {
  const problems: string[] = [];
  const format = o.format ?? 'auto';
  if (!FORMATS.includes(format)) problems.push(`format: must be one of ${FORMATS.join(', ')}, not "${String(format)}"`);
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > INGEST_LIMITS.chunkSize) {
    problems.push(
      `chunk size: must be a whole number from 1 to ${INGEST_LIMITS.chunkSize} characters, not ${chunkSize}`,
    );
  }
  const chunkOverlap = o.chunkOverlap ?? Math.min(DEFAULT_CHUNK_OVERLAP, Math.floor(chunkSize / 4));
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    problems.push(
      `chunk overlap: must be an integer from 0 to less than the chunk size (${chunkSize}), not ${chunkOverlap}`,
    );
  }
  const batchSize = o.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    problems.push(`batch size: must be a positive integer, not ${batchSize}`);
  for (const [name, list] of [
    ['include', o.include],
    ['exclude', o.exclude],
  ] as const) {
    if (list?.some((g) => typeof g !== 'string' || g.trim() === ''))
      problems.push(`${name}: globs must be non-empty strings`);
  }
  if (problems.length) throw new UsageError(problems.length === 1 ? problems[0]! : 'invalid ingest options', problems);
  return {
    format,
    include: o.include,
    exclude: o.exclude,
    chunkSize,
    chunkOverlap,
    batchSize,
    prune: o.prune ?? false,
    skipInvalid: o.skipInvalid ?? false,
    dryRun: o.dryRun ?? false,
  };
}
