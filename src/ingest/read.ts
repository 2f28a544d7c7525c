import { readLines } from './lines.js';
import { parseRecordLine, type ParsedRecord } from './records.js';
import { readTextDocument } from './text-file.js';
import type { Source } from './sources.js';

/** One record of a source, at a line (0 for a whole file). */
export type SourceItem = ParsedRecord & { line: number };

/**
 * The records of a source, streamed: a JSONL file line by line (blank lines
 * ignored), a text file as one document. A file with no record yields one
 * `empty file` problem.
 */
export async function* readSource(source: Source): AsyncGenerator<SourceItem> {
  if (source.kind.kind === 'text') {
    const r = await readTextDocument(source.path, source.docId ?? source.display, source.kind.markdown);
    yield { ...r, line: r.ok ? 0 : ((r as { line?: number }).line ?? 0) };
    return;
  }
  const format = source.kind.format;
  let records = 0;
  for await (const l of readLines(source.path)) {
    if (l.error !== undefined) {
      records++;
      yield { ok: false, reason: l.error, line: l.no };
      continue;
    }
    if (l.text.trim() === '') continue;
    records++;
    yield { ...parseRecordLine(l.text, format), line: l.no };
  }
  if (records === 0) yield { ok: false, reason: 'empty file', line: 0 };
}
