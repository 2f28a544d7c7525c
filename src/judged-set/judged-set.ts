/**
 * A judged query set in one normalized shape, whatever file it came from
 * (embctl JSONL, TREC qrels + queries, or a BEIR folder), with a sha256 of
 * its canonical content so an evaluation run can record which set it used.
 */
import { createHash } from 'node:crypto';
import { compareCodePoints } from '../trec/index.js';
import type { Qrels } from '../trec/index.js';
import { InputError } from '../errors.js';
import { textProblem } from '../util/index.js';

/** What the keys of `relevant` name: whole documents or chunks (their semantic keys). */
export type KeyKind = 'document_id' | 'semantic_key';
export const KEY_KINDS: readonly KeyKind[] = ['document_id', 'semantic_key'];

/**
 * A judged set's grades are small integers: 0 judged not relevant, 1, 2,
 * ... more relevant (TREC qrels may also use negatives for junk). Larger
 * ones are typos, and sums of them overflow the measures. (TREC mode,
 * `--qrels/--run`, scores qrels as trec_eval does and is not bound by this.)
 */
export const MAX_JUDGED_GRADE = 100;

/** Why a grade of a judged set is unusable, or undefined. */
export function gradeProblem(grade: number, allowNegative: boolean): string | undefined {
  const low = allowNegative ? -MAX_JUDGED_GRADE : 0;
  if (!Number.isSafeInteger(grade) || grade < low || grade > MAX_JUDGED_GRADE)
    return `grades are small integers from ${low} to ${MAX_JUDGED_GRADE}`;
  return undefined;
}

export function isKeyKind(v: unknown): v is KeyKind {
  return typeof v === 'string' && (KEY_KINDS as readonly string[]).includes(v);
}

export interface JudgedQuery {
  id: string;
  text: string;
  /** Optional segment the query belongs to (results are also reported per segment). */
  segment: string | null;
  /** Document id or semantic key -> grade. */
  relevant: Map<string, number>;
}

export interface JudgedSet {
  name: string;
  description: string | null;
  keyKind: KeyKind;
  queries: JudgedQuery[];
  /** sha256 (hex) of the canonical content: key kind and queries, not name, description or file layout. */
  sha256: string;
  /** Where it was loaded from. */
  source: string;
}

export interface JudgedSetOptions {
  /** Overrides the key kind of the file (or the default, `document_id`). */
  keyKind?: KeyKind;
  /** Overrides the set's name (default: the header's name, else the file or folder name). */
  name?: string;
}

/** The canonical JSON the sha256 is taken over: queries by id, judgments by key. */
export function canonicalJudgedSet(keyKind: KeyKind, queries: readonly JudgedQuery[]): string {
  const qs = [...queries]
    .sort((a, b) => compareCodePoints(a.id, b.id))
    .map((q) => [q.id, q.text, q.segment, [...q.relevant.entries()].sort((a, b) => compareCodePoints(a[0], b[0]))]);
  return JSON.stringify({ embctl_judged_set: 1, key: keyKind, queries: qs });
}

export function makeJudgedSet(parts: {
  name: string;
  description: string | null;
  keyKind: KeyKind;
  queries: JudgedQuery[];
  source: string;
}): JudgedSet {
  checkStorable(parts);
  const sha256 = createHash('sha256').update(canonicalJudgedSet(parts.keyKind, parts.queries)).digest('hex');
  return { ...parts, sha256 };
}

/**
 * An evaluation run records the set's name, query ids, segments and keys
 * in PostgreSQL, which stores neither NUL nor an unpaired UTF-16 surrogate
 * (from a JSON escape); and grades must be small integers. Refuse them now,
 * every one, rather than after all the searching.
 */
function checkStorable(parts: {
  name: string;
  description: string | null;
  queries: JudgedQuery[];
  source: string;
}): void {
  const problems: string[] = [];
  const check = (where: string, s: string | null) => {
    const p = s === null ? undefined : textProblem(s);
    if (p && problems.length < 100) problems.push(`${where} contains ${p}, which PostgreSQL cannot store: remove it`);
  };
  check('the name', parts.name);
  check('the description', parts.description);
  for (const q of parts.queries) {
    const label = `query ${JSON.stringify(q.id)}`;
    check(`${label}: its id`, q.id);
    check(`${label}: its text`, q.text);
    check(`${label}: its segment`, q.segment);
    for (const [key, grade] of q.relevant) {
      check(`${label}: judged key ${JSON.stringify(key)}`, key);
      const bad = gradeProblem(grade, true);
      if (bad && problems.length < 100)
        problems.push(`${label}: judged key ${JSON.stringify(key)} has grade ${grade}: ${bad}`);
    }
  }
  if (problems.length)
    throw new InputError(
      `Invalid judged set ${parts.source}: ${problems.length} unusable value${problems.length === 1 ? '' : 's'}`,
      problems,
    );
}

/** The judgments as qrels, ready for `evaluateRun`. */
export function judgedSetQrels(set: JudgedSet): Qrels {
  return new Map(set.queries.map((q) => [q.id, q.relevant]));
}

/** Serialize to embctl's own JSONL format (header line, then one query per line). */
export function toJudgedSetJsonl(set: JudgedSet): string {
  const header: Record<string, unknown> = { embctl_judged_set: 1, key: set.keyKind, name: set.name };
  if (set.description) header.description = set.description;
  const lines = [JSON.stringify(header)];
  for (const q of set.queries) {
    const line: Record<string, unknown> = { id: q.id, query: q.text };
    if (q.segment !== null) line.segment = q.segment;
    line.relevant = Object.fromEntries(q.relevant);
    lines.push(JSON.stringify(line));
  }
  return lines.join('\n') + '\n';
}
