import { readFile, stat } from 'node:fs/promises';
import { idProblem, INGEST_LIMITS, titleProblem } from './limits.js';
import { decodeUtf8 } from './lines.js';
import type { ParsedRecord } from './records.js';

/** A text or Markdown file as one document (the whole file is read: one file at a time). */
export async function readTextDocument(
  path: string,
  docId: string,
  markdown: boolean,
): Promise<ParsedRecord & { line?: number }> {
  if (idProblem(docId, 'id')) {
    return {
      ok: false,
      reason: `its path (the document id) is ${Buffer.byteLength(docId)} bytes long or not valid Unicode; ids may be at most ${INGEST_LIMITS.idBytes} bytes: ingest it from a shorter path`,
    };
  }
  const size = (await stat(path)).size;
  if (size > INGEST_LIMITS.fileBytes) {
    return {
      ok: false,
      reason: `the file is ${(size / 1024 / 1024).toFixed(0)} MiB; a text document may be at most ${INGEST_LIMITS.fileBytes / 1024 / 1024} MiB: split it`,
      documentId: docId,
    };
  }
  const bytes = await readFile(path);
  if (bytes.length === 0) return { ok: false, reason: 'empty file', documentId: docId };
  const decoded = decodeUtf8(bytes);
  if ('badLine' in decoded) return { ok: false, reason: 'not valid UTF-8', documentId: docId, line: decoded.badLine };
  let text = decoded.text.replace(/^\uFEFF/, '');
  let title: string | undefined;
  if (markdown || /^\s*# /.test(text)) {
    const t = markdownTitle(text);
    if (t && !titleProblem(t.title)) {
      title = t.title;
      if (t.leading) text = text.slice(t.end);
    }
  }
  if (text.trim() === '' && !title) return { ok: false, reason: 'empty file', documentId: docId };
  return { ok: true, doc: { id: docId, text, title, metadata: {} } };
}

/**
 * The first ATX level-1 heading (`# Title`) outside code fences. `leading` is
 * true when it is the first content of the file (then it is cut from the
 * body, since the title is prepended to every chunk anyway).
 */
export function markdownTitle(text: string): { title: string; leading: boolean; end: number } | undefined {
  let offset = 0;
  let fence: string | undefined;
  let seenContent = false;
  for (const line of text.split('\n')) {
    const end = offset + line.length + 1;
    const fenceMatch = /^\s{0,3}(```|~~~)/.exec(line);
    if (fenceMatch) {
      if (!fence) fence = fenceMatch[1];
      else if (fenceMatch[1] === fence) fence = undefined;
      seenContent = true;
    } else if (!fence) {
      const h = /^\s{0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\r?$/.exec(line);
      if (h && h[1]!.trim()) return { title: h[1]!.trim(), leading: !seenContent, end: Math.min(end, text.length) };
      if (line.trim() !== '') seenContent = true;
    }
    offset = end;
  }
  return undefined;
}
