/**
 * Query texts for TREC-style judged sets: TSV `qid<TAB>text` or JSONL
 * `{"_id": ..., "text": ...}` (the BEIR layout; `id` is accepted for `_id`).
 * The format is chosen by the first non-blank line: `{` means JSONL.
 */
import { ProblemList, at, splitLines } from '../util/index.js';

export interface QueryText {
  text: string;
  line: number;
}

/** Parse a queries file into id -> text, adding every bad line to `problems`. */
export function collectQueries(text: string, source: string, problems: ProblemList): Map<string, QueryText> {
  const lines = splitLines(text);
  const firstContent = lines.find((l) => l.trim() !== '');
  const jsonl = firstContent !== undefined && firstContent.trimStart().startsWith('{');
  const out = new Map<string, QueryText>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const where = at(source, i + 1);
    const parsed = jsonl ? jsonlQuery(line, where, problems) : tsvQuery(line, where, problems);
    if (!parsed) continue;
    const prev = out.get(parsed.id);
    if (prev) {
      problems.add(where, `duplicate query id "${parsed.id}" (first on line ${prev.line})`);
      continue;
    }
    out.set(parsed.id, { text: parsed.text, line: i + 1 });
  }
  if (out.size === 0 && firstContent === undefined) problems.add(source, 'the queries file is empty');
  return out;
}

function tsvQuery(line: string, where: string, problems: ProblemList): { id: string; text: string } | null {
  const tab = line.indexOf('\t');
  if (tab < 0) {
    problems.add(where, 'expected "qid<TAB>text"');
    return null;
  }
  const id = line.slice(0, tab).trim();
  const text = line.slice(tab + 1).trim();
  if (id === '') problems.add(where, 'empty query id');
  if (text === '') problems.add(where, 'empty query text');
  return id && text ? { id, text } : null;
}

function jsonlQuery(line: string, where: string, problems: ProblemList): { id: string; text: string } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    problems.add(where, `malformed JSON (${(e as Error).message})`);
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.add(where, 'expected a JSON object');
    return null;
  }
  const o = v as Record<string, unknown>;
  const rawId = o._id ?? o.id;
  const id = typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : rawId;
  let ok = true;
  if (typeof id !== 'string' || id.trim() === '') {
    problems.add(where, 'missing or empty "_id"');
    ok = false;
  }
  if (typeof o.text !== 'string' || o.text.trim() === '') {
    problems.add(where, 'missing or empty "text"');
    ok = false;
  }
  return ok ? { id: (id as string).trim(), text: (o.text as string).trim() } : null;
}
