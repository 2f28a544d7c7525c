/**
 * What one document may hold, checked while the input is validated (before
 * anything is written), so that no value reaches PostgreSQL that the schema
 * refuses half-way through an ingest:
 *  - an id is one entry of a btree index (at most ~2.7 kB per entry);
 *  - metadata is jsonb (no NUL, no unpaired surrogate escapes; nesting is
 *    bounded because deep values overflow stacks, ours and the server's);
 *  - a chunk (its title included) feeds a tsvector (at most 1 MB);
 *  - a line or a file is read whole into memory.
 */
import { hasLoneSurrogate, jsonValueProblem } from '../util/index.js';

export const INGEST_LIMITS = {
  idBytes: 1024,
  titleChars: 2000,
  metadataDepth: 100,
  metadataBytes: 1024 * 1024,
  /** Largest --chunk-size (characters). */
  chunkSize: 100_000,
  /** Largest JSONL line, and largest text file, in bytes. */
  lineBytes: 64 * 1024 * 1024,
  fileBytes: 64 * 1024 * 1024,
} as const;

/** Why this id cannot be stored, or undefined. */
export function idProblem(id: string, field: string): string | undefined {
  if (id.includes('\u0000')) return `"${field}" contains a NUL character`;
  if (hasLoneSurrogate(id))
    return `"${field}" contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff without its pair): fix the escape`;
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > INGEST_LIMITS.idBytes)
    return `"${field}" is ${bytes} bytes long; ids may be at most ${INGEST_LIMITS.idBytes} bytes (UTF-8): use a shorter id`;
  return undefined;
}

export function titleProblem(title: string): string | undefined {
  if (title.length > INGEST_LIMITS.titleChars) {
    return `"title" is ${title.length} characters long; at most ${INGEST_LIMITS.titleChars} (it is prepended to every chunk): shorten it or put it in the text`;
  }
  return undefined;
}

/** Why this metadata object cannot be stored as jsonb, or undefined. */
export function metadataProblem(meta: object): string | undefined {
  const p = jsonValueProblem(meta, 'metadata', INGEST_LIMITS.metadataDepth);
  if (p) return p;
  const bytes = Buffer.byteLength(JSON.stringify(meta), 'utf8');
  if (bytes > INGEST_LIMITS.metadataBytes) {
    return `"metadata" is ${(bytes / 1024 / 1024).toFixed(1)} MiB as JSON; at most ${INGEST_LIMITS.metadataBytes / 1024 / 1024} MiB per document: keep large data elsewhere`;
  }
  return undefined;
}
