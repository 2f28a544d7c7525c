import { chunkDocument, type ChunkOptions } from './chunk.js';
import { contentSha256, semanticKey } from './hash.js';
import { normalizeText, normalizeTitle } from './normalize.js';
import type { SourceDocument } from './types.js';

export interface PreparedChunk {
  key: string;
  chunkNo: number;
  content: string;
  sha256: Buffer;
}

export interface PreparedDocument {
  id: string;
  /** Canonical JSON (sorted keys) of the metadata, as written and compared. */
  metadata: string;
  chunks: PreparedChunk[];
}

/** Normalize once, chunk, hash: a document as the rows it should have. */
export function prepareDocument(doc: SourceDocument, opts: ChunkOptions): PreparedDocument {
  const title = doc.title !== undefined ? normalizeTitle(doc.title) : undefined;
  const texts = chunkDocument(normalizeText(doc.text), title || undefined, opts);
  return {
    id: doc.id,
    metadata: canonicalJson(doc.metadata),
    chunks: texts.map((content, chunkNo) => ({
      key: semanticKey(doc.id, chunkNo, content),
      chunkNo,
      content,
      sha256: contentSha256(content),
    })),
  };
}

/** JSON with object keys sorted at every level, so equal values compare equal as text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}
