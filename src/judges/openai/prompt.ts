/**
 * The prompt of the `openai:<chat model>` judge: an UMBRELA-style 0–3
 * relevance rubric (Upadhyay et al., 2024, "UMBRELA: UMbrela is the
 * (Bing) RELevance Assessor", after Thomas et al., 2023), asking for a JSON
 * object `{"grade": <0..3>}` and nothing else.
 *
 * The grades, as UMBRELA defines them:
 *   0  the passage has nothing to do with the query;
 *   1  the passage seems related to the query but does not answer it;
 *   2  the passage has some answer for the query, but the answer may be a bit
 *      unclear, or hidden among extraneous information;
 *   3  the passage is dedicated to the query and contains the exact answer.
 * Unlike UMBRELA's own prompt (which asks for `##final score: N` after
 * silent steps), the answer is a JSON object, so that it can be checked
 * strictly and sent with `response_format: {type: 'json_object'}`.
 *
 * Versioning: any change to the texts below is a new prompt. Bump
 * PROMPT_VERSION with it; the judge's identity carries the sha256 of the
 * template (version, system text, user template), so judgments made with
 * another prompt are never mistaken for this one's.
 */
import { createHash } from 'node:crypto';

export interface JudgePrompt {
  /** A name for people, e.g. `umbrela-v1`. Part of the hashed text. */
  version: string;
  /** The rubric. Must mention JSON (the API refuses JSON mode otherwise). */
  system: string;
  /** The user message; `{query}` and `{passage}` are replaced, once each. */
  user: string;
}

export const PROMPT_VERSION = 'umbrela-v1';

export const UMBRELA_PROMPT: JudgePrompt = {
  version: PROMPT_VERSION,
  system: [
    'You are a search quality rater evaluating the relevance of passages.',
    'Given a query and a passage, you must provide a score on an integer scale of 0 to 3 with the following meanings:',
    '0 = represents that the passage has nothing to do with the query,',
    '1 = represents that the passage seems related to the query but does not answer it,',
    '2 = represents that the passage has some answer for the query, but the answer may be a bit unclear, or hidden amongst extraneous information and',
    '3 = represents that the passage is dedicated to the query and contains the exact answer.',
    '',
    'Important instruction: assign grade 1 if the passage is somewhat related to the topic but not completely, grade 2 if the passage presents something very important related to the entire topic but also has some extra information, and grade 3 if the passage only and entirely refers to the topic. If none of the above is satisfied, give grade 0.',
    '',
    'Consider the underlying intent of the search, measure how well the content matches a likely intent of the query, and how trustworthy the passage is; then decide on a final grade.',
    'Answer with a JSON object and nothing else, exactly of the form {"grade": N} where N is the integer grade 0, 1, 2 or 3. Give no reasoning.',
  ].join('\n'),
  user: 'Query: {query}\nPassage: {passage}',
};

/** The prompt's sha256 (hex) over its version, system text and user template: the judge's revision. */
export function promptSha256(prompt: JudgePrompt): string {
  return createHash('sha256')
    .update(prompt.version)
    .update('\0')
    .update(prompt.system)
    .update('\0')
    .update(prompt.user)
    .digest('hex');
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

/**
 * The messages for one pair. The query is put on one line (its whitespace
 * runs become single spaces); the passage is sent as is.
 */
export function renderPrompt(prompt: JudgePrompt, query: string, passage: string): ChatMessage[] {
  const q = query.replace(/\s+/g, ' ').trim();
  // One pass with a function: a `{passage}` inside the query, or `$&` in either text, stays literal.
  const user = prompt.user.replace(/\{query\}|\{passage\}/g, (slot) => (slot === '{query}' ? q : passage));
  return [
    { role: 'system', content: prompt.system },
    { role: 'user', content: user },
  ];
}

/** Problems of a custom prompt, one line each. */
export function promptProblems(prompt: JudgePrompt): string[] {
  const out: string[] = [];
  if (!prompt.version || !prompt.version.trim()) out.push('prompt.version: required (e.g. my-rubric-v1)');
  if (!/json/i.test(prompt.system + prompt.user)) out.push('prompt: must mention JSON (JSON mode needs it)');
  for (const slot of ['{query}', '{passage}']) {
    if (prompt.user.split(slot).length !== 2) out.push(`prompt.user: must hold ${slot} exactly once`);
  }
  return out;
}
