/**
 * The test server's stand-in for an LLM relevance judge: how it finds the
 * (query, passage) pair in a chat prompt, and the default grader.
 *
 * Finding the pair (`findPair`): only the LAST message with role `user` is
 * read (a system message may hold the rubric, with examples of its own).
 *   - The query is the rest of the first line that starts with `Query:`
 *     (leading spaces allowed), trimmed.
 *   - The passage starts after the first `Passage:` label (same rule) and runs
 *     to the end of the message, or to the first later line that starts with
 *     `Query:` or is exactly `---` (whichever comes first), trimmed. So a
 *     prompt either ends with the passage, or closes it with a `---` line.
 *   - Either is missing → no pair: the request is still answered (grade 0 by
 *     the default grader) but not counted per pair.
 *
 * The default grader (`overlapGrade`): the share of the query's distinct
 * words (lower-cased runs of letters and digits, 3 or more characters, a few
 * stop words left out) that also occur in the passage: 0 → grade 0,
 * under 1/3 → 1, under 2/3 → 2, else 3. No query words → 0.
 */
import { createHash } from 'node:crypto';

export interface ChatMessage {
  role: string;
  content: string | Array<{ type: string; text?: string }> | null;
}

export interface GradeContext {
  model: string;
  messages: ChatMessage[];
  /** The pair found in the prompt (see findPair), when found. */
  query?: string;
  passage?: string;
  /** As sent (undefined when the request did not set it; OpenAI's default is 1). */
  temperature?: number;
  /** 1-based number of this chat request. */
  n: number;
}

/**
 * Decides the answer of the default chat model. A number N becomes the
 * content `{"grade": N}` (in a ```json fence when the request did not ask for
 * `response_format: {type: 'json_object'}`); a string is sent as the content,
 * as is.
 */
export type Grader = (ctx: GradeContext) => number | string;

/** The text of a message's content (string, or the text parts of a list). */
export function messageText(m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) return m.content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/** The (query, passage) pair of a prompt, by the rules in this file's header. */
export function findPair(messages: ChatMessage[]): { query: string; passage: string } | undefined {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  if (!user) return undefined;
  const lines = messageText(user).split(/\r?\n/);
  const qi = lines.findIndex((l) => /^\s*Query:/.test(l));
  const pi = lines.findIndex((l) => /^\s*Passage:/.test(l));
  if (qi < 0 || pi < 0) return undefined;
  const query = lines[qi]!.replace(/^\s*Query:/, '').trim();
  const passageLines = [lines[pi]!.replace(/^\s*Passage:/, '')];
  for (let i = pi + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s*Query:/.test(l) || l.trim() === '---') break;
    passageLines.push(l);
  }
  return { query, passage: passageLines.join('\n').trim() };
}

/** The key of a (query, passage) pair in the per-pair counters. */
export function pairKey(query: string, passage: string): string {
  return JSON.stringify([query, passage]);
}

const STOP = new Set([
  'the',
  'and',
  'for',
  'with',
  'that',
  'this',
  'are',
  'was',
  'were',
  'from',
  'what',
  'which',
  'how',
]);

function words(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (w.length >= 3 && !STOP.has(w)) out.add(w);
  }
  return out;
}

/** The default grade of a pair: word overlap, see this file's header. */
export function overlapGrade(query: string, passage: string): number {
  const q = words(query);
  if (q.size === 0) return 0;
  const p = words(passage);
  let shared = 0;
  for (const w of q) if (p.has(w)) shared++;
  const share = shared / q.size;
  if (share === 0) return 0;
  if (share < 1 / 3) return 1;
  if (share < 2 / 3) return 2;
  return 3;
}

/**
 * The default grader: `overlapGrade` of the pair (0 without a pair). With a
 * temperature other than 0 (including none sent: OpenAI's default is 1) the
 * grade wobbles like a sampled answer would: for about `temperature / 2` of
 * the requests (chosen by a hash of the request number and the prompt, so it
 * is reproducible) it moves by one step, within 0..3.
 */
export const defaultGrader: Grader = (ctx) => {
  const grade = ctx.query !== undefined && ctx.passage !== undefined ? overlapGrade(ctx.query, ctx.passage) : 0;
  const t = ctx.temperature ?? 1;
  if (t === 0) return grade;
  const h = createHash('sha256').update(`${ctx.n}\0`).update(ctx.messages.map(messageText).join('\0')).digest();
  if (h.readUInt32LE(0) / 4294967296 >= Math.min(1, t / 2)) return grade;
  const step = h[4]! & 1 ? 1 : -1;
  const moved = grade + step;
  return moved < 0 || moved > 3 ? grade - step : moved;
};
