/**
 * Checking a judge's answer: a JSON object with an integer `grade` 0..3
 * (other keys are ignored). Anything else is invalid, with a one-line reason
 * that quotes the start of the answer.
 */
import { safeText } from '../../encoders/index.js';
import { MAX_JUDGE_GRADE } from '../types.js';

export type ParsedAnswer = { ok: true; grade: number } | { ok: false; reason: string };

/** How much of a bad answer a reason quotes. */
const QUOTE_CHARS = 60;

function quote(text: string, secrets: readonly string[]): string {
  return `"${safeText(text, secrets, QUOTE_CHARS)}"`;
}

export function parseAnswer(content: string | null | undefined, secrets: readonly string[] = []): ParsedAnswer {
  if (typeof content !== 'string' || content.trim() === '') return { ok: false, reason: 'the answer is empty' };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch {
    return { ok: false, reason: `the answer is not JSON {"grade": 0..${MAX_JUDGE_GRADE}}: ${quote(content, secrets)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      ok: false,
      reason: `the answer is not a JSON object {"grade": 0..${MAX_JUDGE_GRADE}}: ${quote(content, secrets)}`,
    };
  }
  if (!Object.prototype.hasOwnProperty.call(value, 'grade')) {
    return { ok: false, reason: `the answer has no "grade": ${quote(content, secrets)}` };
  }
  const grade = (value as { grade: unknown }).grade;
  if (typeof grade !== 'number' || !Number.isInteger(grade) || grade < 0 || grade > MAX_JUDGE_GRADE) {
    return {
      ok: false,
      reason: `the answer's grade is not an integer 0..${MAX_JUDGE_GRADE}: ${quote(content, secrets)}`,
    };
  }
  return { ok: true, grade };
}
