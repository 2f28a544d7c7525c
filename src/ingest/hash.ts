import { createHash } from 'node:crypto';

/** sha256(document_id || ':' || chunk_no || ':' || normalized_text), hex: the content identity that decides which chunks a version must embed (ARCHITECTURE.md, "The life of one backfill batch"). */
export function semanticKey(documentId: string, chunkNo: number, normalizedText: string): string {
  return createHash('sha256').update(`${documentId}:${chunkNo}:${normalizedText}`, 'utf8').digest('hex');
}

/** sha256 of the normalized text: 32 raw bytes (`document_chunks.content_sha256`). */
export function contentSha256(normalizedText: string): Buffer {
  return createHash('sha256').update(normalizedText, 'utf8').digest();
}
