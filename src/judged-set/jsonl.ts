/**
 * embctl's own judged-set format, JSONL:
 *   {"embctl_judged_set": 1, "key": "document_id" | "semantic_key", "name"?: ..., "description"?: ...}   (optional first line)
 *   {"id": "q1", "query": "text", "segment"?: "faq", "relevant": {"doc-7": 2, "doc-9": 1}}
 * Every problem is reported with file and line, all at once.
 */
import { basename, extname } from 'node:path';
import {
  gradeProblem,
  isKeyKind,
  makeJudgedSet,
  type JudgedQuery,
  type JudgedSet,
  type JudgedSetOptions,
  type KeyKind,
} from './judged-set.js';
import { ProblemList, at, splitLines } from '../util/index.js';
import { readText } from '../util/index.js';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** Parse embctl JSONL text. `source` names the file in messages. Throws InputError listing every problem. */
export function parseJudgedSetJsonl(text: string, source: string, options: JudgedSetOptions = {}): JudgedSet {
  const problems = new ProblemList();
  const queries: JudgedQuery[] = [];
  const idLines = new Map<string, number>();
  let header: Obj | null = null;
  let sawContent = false;

  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const where = at(source, i + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      problems.add(where, `malformed JSON (${(e as Error).message})`);
      sawContent = true;
      continue;
    }
    if (!isObject(value)) {
      problems.add(where, 'expected a JSON object');
      sawContent = true;
      continue;
    }
    if ('embctl_judged_set' in value) {
      if (sawContent) problems.add(where, 'the embctl_judged_set header must be the first line');
      else checkHeader(value, where, problems);
      header ??= value;
      sawContent = true;
      continue;
    }
    sawContent = true;
    const q = checkQuery(value, where, problems);
    if (!q) continue;
    const first = idLines.get(q.id);
    if (first !== undefined) {
      problems.add(where, `duplicate query id "${q.id}" (first on line ${first})`);
      continue;
    }
    idLines.set(q.id, i + 1);
    queries.push(q);
  }
  if (!sawContent) problems.add(source, 'the judged set is empty');
  else if (queries.length === 0 && problems.size === 0) problems.add(source, 'the judged set has no queries');
  problems.throwIfAny(`Invalid judged set ${source}`);

  const headerKey = header && isKeyKind(header.key) ? (header.key as KeyKind) : undefined;
  const headerName = header && typeof header.name === 'string' ? header.name : undefined;
  return makeJudgedSet({
    name: options.name ?? headerName ?? basename(source, extname(source)),
    description: header && typeof header.description === 'string' ? header.description : null,
    keyKind: options.keyKind ?? headerKey ?? 'document_id',
    queries,
    source,
  });
}

function checkHeader(h: Obj, where: string, problems: ProblemList): void {
  if (h.embctl_judged_set !== 1)
    problems.add(where, `unsupported embctl_judged_set version ${show(h.embctl_judged_set)} (expected 1)`);
  if (h.key !== undefined && !isKeyKind(h.key)) {
    problems.add(where, `unknown key kind ${show(h.key)} (expected "document_id" or "semantic_key")`);
  }
  if (h.name !== undefined && typeof h.name !== 'string') problems.add(where, '"name" must be a string');
  if (h.description !== undefined && typeof h.description !== 'string')
    problems.add(where, '"description" must be a string');
}

function checkQuery(v: Obj, where: string, problems: ProblemList): JudgedQuery | null {
  const before = problems.size;
  const id = v.id;
  if (typeof id !== 'string' || id.trim() === '')
    problems.add(where, `missing or empty "id" (a non-empty string)${id === undefined ? '' : `, got ${show(id)}`}`);
  const text = v.query;
  if (typeof text !== 'string' || text.trim() === '')
    problems.add(where, `missing or empty "query" (a non-empty string)`);
  const segment = v.segment;
  if (segment !== undefined && segment !== null && (typeof segment !== 'string' || segment === '')) {
    problems.add(where, `"segment" must be a non-empty string, got ${show(segment)}`);
  }
  const relevant = new Map<string, number>();
  const rel = v.relevant;
  if (!isObject(rel)) {
    problems.add(where, `missing "relevant" (an object of key -> grade)`);
  } else {
    for (const [key, grade] of Object.entries(rel)) {
      if (key.trim() === '') problems.add(where, 'empty key in "relevant"');
      else if (typeof grade !== 'number' || !Number.isInteger(grade) || grade < 0) {
        problems.add(where, `bad grade ${show(grade)} for "${key}" (an integer >= 0)`);
      } else if (gradeProblem(grade, false)) {
        problems.add(where, `bad grade ${show(grade)} for "${key}": ${gradeProblem(grade, false)}`);
      } else relevant.set(key, grade);
    }
    if (Object.keys(rel).length === 0) problems.add(where, 'query has no relevant entry');
    else if (relevant.size > 0 && ![...relevant.values()].some((g) => g > 0)) {
      problems.add(where, 'query has no relevant entry with grade >= 1 (every measure would be 0)');
    }
  }
  if (problems.size > before) return null;
  return { id: id as string, text: text as string, segment: (segment as string | undefined) ?? null, relevant };
}

export async function readJudgedSetJsonl(path: string, options: JudgedSetOptions = {}): Promise<JudgedSet> {
  return parseJudgedSetJsonl(await readText(path), path, options);
}
