import type { SourceDocument } from './types.js';
import { idProblem, INGEST_LIMITS, metadataProblem, titleProblem } from './limits.js';

export type RecordFormat = 'jsonl' | 'beir';

/** A parsed record: a document, or the reason it is not one (with its id when readable). */
export type ParsedRecord = { ok: true; doc: SourceDocument } | { ok: false; reason: string; documentId?: string };

/**
 * One JSONL line as a document. `jsonl`: `{id, text | content, title?, metadata?}`;
 * `beir`: `{_id, title, text, metadata?}`. Ids may be strings or integers.
 */
export function parseRecordLine(line: string, format: RecordFormat): ParsedRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `malformed JSON (${shorten((e as Error).message)})` };
  }
  return recordToDocument(value, format);
}

export function recordToDocument(value: unknown, format: RecordFormat): ParsedRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reason: `not a JSON object (${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`,
    };
  }
  const rec = value as Record<string, unknown>;
  const idKey = format === 'beir' ? '_id' : 'id';
  const problems: string[] = [];

  const rawId = rec[idKey];
  let id: string | undefined;
  if (rawId === undefined || rawId === null || rawId === '') {
    const hint =
      format === 'beir' && rec.id !== undefined
        ? ' (read as BEIR, whose records have "_id"; use --format jsonl)'
        : format === 'jsonl' && rec._id !== undefined
          ? ' (read as JSONL, whose records have "id"; use --format beir)'
          : '';
    problems.push(`record without "${idKey}"${hint}`);
  } else if (typeof rawId === 'string') {
    id = rawId;
    const p = id.trim() === '' ? `"${idKey}" is blank` : idProblem(id, idKey);
    if (p) {
      problems.push(p);
      if (Buffer.byteLength(id) > INGEST_LIMITS.idBytes) id = undefined; // not an id to name in a report
    }
  } else if (typeof rawId === 'number' && Number.isSafeInteger(rawId)) {
    id = String(rawId);
  } else {
    problems.push(`"${idKey}" must be a string or an integer, not ${describe(rawId)}`);
  }

  const textKey = format === 'jsonl' && rec.text === undefined && rec.content !== undefined ? 'content' : 'text';
  const rawText = rec[textKey];
  const rawTitle = rec.title;
  let title: string | undefined;
  if (rawTitle !== undefined && rawTitle !== null) {
    if (typeof rawTitle !== 'string') problems.push(`"title" must be a string, not ${describe(rawTitle)}`);
    else {
      const p = titleProblem(rawTitle);
      if (p) problems.push(p);
      else title = rawTitle;
    }
  }
  let text: string | undefined;
  if (rawText === undefined || rawText === null) {
    problems.push(format === 'jsonl' ? 'record without "text" or "content"' : 'record without "text"');
  } else if (typeof rawText !== 'string') {
    problems.push(`"${textKey}" must be a string, not ${describe(rawText)}`);
  } else if (rawText.trim() === '' && !title?.trim()) {
    problems.push(`empty "${textKey}"`);
  } else {
    text = rawText;
  }

  let metadata: Record<string, unknown> = {};
  const rawMeta = rec.metadata;
  if (rawMeta !== undefined && rawMeta !== null) {
    if (typeof rawMeta !== 'object' || Array.isArray(rawMeta)) {
      problems.push(`"metadata" must be an object, not ${describe(rawMeta)}`);
    } else {
      const p = metadataProblem(rawMeta);
      if (p) problems.push(p);
      else metadata = rawMeta as Record<string, unknown>;
    }
  }

  if (problems.length || id === undefined || text === undefined) {
    return { ok: false, reason: problems.join('; '), documentId: id };
  }
  return { ok: true, doc: { id, text, title, metadata } };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function shorten(message: string, max = 120): string {
  return message.length > max ? `${message.slice(0, max - 1)}…` : message;
}
