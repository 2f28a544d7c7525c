import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { IngestFormat } from './types.js';
import type { RecordFormat } from './records.js';

/** How one file is read: as JSON lines of records, or as one text document. */
export type FileKind = { kind: 'records'; format: RecordFormat } | { kind: 'text'; markdown: boolean };

const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson']);
const MARKDOWN_EXTENSIONS = new Set(['.md', '.markdown', '.mdown', '.mkd']);
const SNIFF_BYTES = 64 * 1024;

/**
 * Decide how to read a file. An explicit format wins. Otherwise a `.jsonl`
 * or `.ndjson` file holds records, and so does any file whose first line is
 * a JSON object with an `id` or `_id`; records with `_id` are BEIR.
 */
export async function detectFileKind(path: string, format: IngestFormat, forceRecords = false): Promise<FileKind> {
  const markdown = MARKDOWN_EXTENSIONS.has(extname(path).toLowerCase());
  if (format === 'text') return { kind: 'text', markdown };
  if (format === 'jsonl' || format === 'beir') return { kind: 'records', format };
  const first = await firstLine(path);
  const keys = sniffKeys(first);
  if (forceRecords || JSONL_EXTENSIONS.has(extname(path).toLowerCase())) {
    return { kind: 'records', format: keys.has('_id') && !keys.has('id') ? 'beir' : 'jsonl' };
  }
  if (keys.has('_id') && !keys.has('id')) return { kind: 'records', format: 'beir' };
  if (keys.has('id')) return { kind: 'records', format: 'jsonl' };
  return { kind: 'text', markdown };
}

/** The top-level keys of a line that looks like a JSON object (also when cut short by the sniff). */
function sniffKeys(line: string): Set<string> {
  const t = line.trim();
  if (!t.startsWith('{')) return new Set();
  try {
    const v: unknown = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? new Set(Object.keys(v)) : new Set();
  } catch {
    const keys = new Set<string>();
    if (/^\{\s*"_id"\s*:|,\s*"_id"\s*:/.test(t)) keys.add('_id');
    if (/^\{\s*"id"\s*:|,\s*"id"\s*:/.test(t)) keys.add('id');
    return keys;
  }
}

/** The first non-blank line within the first 64 KiB (lossy decoding: this only sniffs). */
async function firstLine(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    const text = buf
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.split('\n').find((l) => l.trim() !== '') ?? '';
  } finally {
    await fh.close();
  }
}
