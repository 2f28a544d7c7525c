import { InputError } from '../errors.js';

/** The most problems listed one per line; the rest are counted in a last line. */
export const MAX_LISTED_PROBLEMS = 200;

/**
 * Collects every problem of an input so they can be reported at once
 * (STYLE.md: never throw on the first problem of a judged set).
 */
export class ProblemList {
  readonly items: string[] = [];

  /** Record a problem; `where` is e.g. `qrels.txt:12` or `queries.jsonl`. */
  add(where: string, message: string): void {
    this.items.push(where ? `${where}: ${message}` : message);
  }

  get size(): number {
    return this.items.length;
  }

  /** Throw one InputError listing every problem (if any). */
  throwIfAny(summary: string): void {
    if (this.items.length === 0) return;
    throw new InputError(`${summary}: ${plural(this.items.length, 'problem')}`, listed(this.items));
  }
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function listed(items: string[]): string[] {
  if (items.length <= MAX_LISTED_PROBLEMS) return [...items];
  const rest = items.length - MAX_LISTED_PROBLEMS;
  return [...items.slice(0, MAX_LISTED_PROBLEMS), `... and ${plural(rest, 'more problem')}`];
}

/** `file:line`, or just `line N` when the input has no name. */
export function at(source: string | undefined, line: number): string {
  return source ? `${source}:${line}` : `line ${line}`;
}

/** Lines of a text, without their end-of-line characters (\n or \r\n). */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  if (lines.length > 0 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
  return lines;
}
