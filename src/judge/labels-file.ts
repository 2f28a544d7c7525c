/**
 * Labels from people, in and out: `judge export` writes the pool with the
 * query and passage texts (JSONL or CSV, by extension) for a spreadsheet;
 * `judge import` (or `--judge file:labels.jsonl`) reads grades back,
 * validates every line, reports every bad one at once, and writes nothing
 * unless all are good.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { InputError } from '../errors.js';
import { HUMAN_JUDGE, MAX_JUDGE_GRADE } from '../judges/index.js';
import { isKeyKind, type JudgedSet, type KeyKind } from '../judged-set/index.js';
import { querySha256, upsertLabels, type NewJudgment } from '../judgments/index.js';
import { csvLine, parseCsv } from './csv.js';
import type { PoolPair } from './pool.js';

export type LabelsFormat = 'jsonl' | 'csv';

export function labelsFormat(path: string): LabelsFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return 'jsonl';
  throw new InputError(`labels file ${path}: use a .jsonl or a .csv file`);
}

export const EXPORT_COLUMNS = [
  'query_id',
  'query',
  'key_kind',
  'key',
  'candidate_rank',
  'baseline_rank',
  'grade',
  'passage',
] as const;

/** The pool as a file for people to label: the `grade` column is left empty. */
export function formatPool(
  pairs: readonly PoolPair[],
  keyKind: KeyKind,
  passages: ReadonlyMap<string, string>,
  format: LabelsFormat,
): string {
  const records = pairs.map((p) => ({
    query_id: p.queryId,
    query: p.queryText,
    key_kind: keyKind,
    key: p.key,
    candidate_rank: p.candidateRank,
    baseline_rank: p.baselineRank,
    grade: null,
    passage: passages.get(p.key) ?? '',
  }));
  if (format === 'jsonl') return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
  const lines = [csvLine([...EXPORT_COLUMNS])];
  for (const r of records) lines.push(csvLine(EXPORT_COLUMNS.map((c) => r[c])));
  return lines.join('\r\n') + '\r\n';
}

/** One label read from a file. */
export interface ParsedLabel {
  line: number;
  queryId: string | null;
  query: string | null;
  keyKind: KeyKind | null;
  key: string;
  grade: number;
}

interface RawLabel {
  line: number;
  record: Record<string, unknown>;
}

function rawLabels(text: string, format: LabelsFormat, problems: string[]): RawLabel[] {
  if (format === 'jsonl') {
    const out: RawLabel[] = [];
    text.split('\n').forEach((l, i) => {
      if (l.trim() === '') return;
      try {
        const v: unknown = JSON.parse(l);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) problems.push(`line ${i + 1}: not a JSON object`);
        else out.push({ line: i + 1, record: v as Record<string, unknown> });
      } catch {
        problems.push(`line ${i + 1}: not valid JSON`);
      }
    });
    return out;
  }
  let rows;
  try {
    rows = parseCsv(text);
  } catch (e) {
    problems.push((e as Error).message);
    return [];
  }
  const header = rows.shift();
  if (!header) return [];
  const names = header.fields.map((f) => f.trim());
  for (const need of ['key', 'grade']) if (!names.includes(need)) problems.push(`line 1: no "${need}" column`);
  if (!names.includes('query') && !names.includes('query_id'))
    problems.push('line 1: no "query" (or "query_id") column');
  return rows.map((r) => ({ line: r.line, record: Object.fromEntries(names.map((n, i) => [n, r.fields[i] ?? ''])) }));
}

function str(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = String(v);
  return s.trim() === '' ? null : s;
}

/** Parse a labels file's text; every problem is collected. Lines with an empty grade are skipped (not labelled yet). */
export function parseLabels(text: string, format: LabelsFormat, into: string[]): ParsedLabel[] {
  const out: ParsedLabel[] = [];
  const problems: string[] = [];
  for (const { line, record } of rawLabels(text, format, problems)) {
    const at = `line ${line}`;
    const gradeRaw = record.grade;
    if (gradeRaw === undefined || gradeRaw === null || (typeof gradeRaw === 'string' && gradeRaw.trim() === ''))
      continue;
    const grade = typeof gradeRaw === 'number' ? gradeRaw : Number(String(gradeRaw).trim());
    const key = str(record.key);
    const kind = str(record.key_kind);
    const lineProblems: string[] = [];
    if (!Number.isInteger(grade) || grade < 0 || grade > MAX_JUDGE_GRADE)
      lineProblems.push(`grade ${JSON.stringify(gradeRaw)} is not an integer from 0 to ${MAX_JUDGE_GRADE}`);
    if (!key) lineProblems.push('no key (a document id or a chunk semantic key)');
    if (kind !== null && !isKeyKind(kind))
      lineProblems.push(`key_kind ${JSON.stringify(kind)} is not document_id or semantic_key`);
    const query = str(record.query);
    const queryId = str(record.query_id);
    if (!query && !queryId) lineProblems.push('no query text (or query_id of the judged set)');
    if (lineProblems.length) {
      problems.push(`${at}: ${lineProblems.join('; ')}`);
      continue;
    }
    out.push({ line, queryId, query, keyKind: (kind as KeyKind | null) ?? null, key: key!, grade });
  }
  into.push(...problems.sort((a, b) => lineNo(a) - lineNo(b)));
  return out;
}

export interface ImportOptions {
  /** Key kind of lines that do not say (default: the set's, else document_id). */
  keyKind?: KeyKind;
  /** Resolves query_id and checks that every query is one of its queries. */
  judgedSet?: JudgedSet;
  actor: string;
  /** The spec recorded with the labels (`file:<path>`). */
  spec: string;
}

export interface ImportSummary {
  labels: number;
  written: number;
  skippedUnlabelled: number;
}

/** Read, validate (every bad line at once), then store a labels file as judge `human`, all or nothing. */
export async function importLabels(db: Kysely<DB>, path: string, o: ImportOptions): Promise<ImportSummary> {
  const format = labelsFormat(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(
      `cannot read labels file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  const problems: string[] = [];
  const lines = parseLabels(text, format, problems);
  const defaultKind = o.keyKind ?? o.judgedSet?.keyKind ?? 'document_id';
  const byId = new Map(o.judgedSet?.queries.map((q) => [q.id, q]) ?? []);
  const byText = new Set(o.judgedSet?.queries.map((q) => q.text) ?? []);
  const resolved: Array<ParsedLabel & { text: string; kind: KeyKind }> = [];
  for (const l of lines) {
    let text = l.query;
    if (o.judgedSet) {
      if (l.queryId !== null) {
        const q = byId.get(l.queryId);
        if (!q) {
          problems.push(
            `line ${l.line}: unknown query_id ${JSON.stringify(l.queryId)} (not in judged set ${o.judgedSet.name})`,
          );
          continue;
        }
        if (text !== null && text !== q.text) {
          problems.push(
            `line ${l.line}: query_id ${JSON.stringify(l.queryId)} has another text in judged set ${o.judgedSet.name}`,
          );
          continue;
        }
        text = q.text;
      } else if (text !== null && !byText.has(text)) {
        problems.push(
          `line ${l.line}: unknown query ${JSON.stringify(text.slice(0, 60))} (not in judged set ${o.judgedSet.name})`,
        );
        continue;
      }
    }
    if (text === null) {
      problems.push(
        `line ${l.line}: query_id without query text: give --judged <set> to resolve it, or a "query" field`,
      );
      continue;
    }
    const kind = l.keyKind ?? defaultKind;
    if (o.judgedSet && kind !== o.judgedSet.keyKind) {
      problems.push(
        `line ${l.line}: key_kind ${kind} does not match judged set ${o.judgedSet.name} (${o.judgedSet.keyKind})`,
      );
      continue;
    }
    resolved.push({ ...l, text, kind });
  }
  await checkKeysExist(db, resolved, problems);
  const seen = new Map<string, number>();
  for (const r of resolved) {
    const id = `${r.kind}\u0000${r.text}\u0000${r.key}`;
    const first = seen.get(id);
    if (first !== undefined) problems.push(`line ${r.line}: the same query and key as line ${first}`);
    else seen.set(id, r.line);
  }
  if (problems.length) {
    problems.sort((a, b) => lineNo(a) - lineNo(b));
    throw new InputError(
      `labels file ${path}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}; nothing was imported: fix them and import again`,
      problems,
    );
  }
  const rows: NewJudgment[] = resolved.map((r) => ({
    querySha256: querySha256(r.text),
    queryText: r.text,
    keyKind: r.kind,
    key: r.key,
    judge: { id: HUMAN_JUDGE, spec: o.spec, model: null, revision: null, settings: {} },
    grade: r.grade,
    raw: r.grade,
    failure: null,
    actor: o.actor,
  }));
  const written = await db.transaction().execute(async (tx) => {
    let n = 0;
    for (let i = 0; i < rows.length; i += 500) n += await upsertLabels(tx, rows.slice(i, i + 500));
    return n;
  });
  return { labels: rows.length, written, skippedUnlabelled: countUnlabelled(text, format) };
}

function lineNo(problem: string): number {
  const m = /^line (\d+)/.exec(problem);
  return m ? Number(m[1]) : 0;
}

function countUnlabelled(text: string, format: LabelsFormat): number {
  const ignored: string[] = [];
  const labelled = parseLabels(text, format, ignored).length;
  const all = rawLabels(text, format, []).length;
  return Math.max(0, all - labelled - ignored.length);
}

async function checkKeysExist(
  db: Kysely<DB>,
  labels: ReadonlyArray<{ line: number; key: string; kind: KeyKind }>,
  problems: string[],
): Promise<void> {
  for (const kind of ['document_id', 'semantic_key'] as const) {
    const ls = labels.filter((l) => l.kind === kind);
    if (ls.length === 0) continue;
    const keys = [...new Set(ls.map((l) => l.key))];
    const column = kind === 'semantic_key' ? sql.ref('semantic_key') : sql.ref('document_id');
    const { rows } = await sql<{ k: string }>`
      select distinct ${column} as k from document_chunks where ${column} = any(${keys}::text[]) and retired_at is null`.execute(
      db,
    );
    const known = new Set(rows.map((r) => r.k));
    for (const l of ls)
      if (!known.has(l.key))
        problems.push(
          `line ${l.line}: unknown ${kind === 'semantic_key' ? 'chunk' : 'document'} ${JSON.stringify(l.key)} (not in the corpus)`,
        );
  }
}
