import { InputError } from '../errors.js';
import type { IngestProblem } from './types.js';

/** `corpus.jsonl:17: malformed JSON (...)`, or `notes/a.md: empty file`. */
export function formatProblem(p: IngestProblem): string {
  const where = p.line ? `${p.source}:${p.line}` : p.source;
  const named =
    p.documentId === undefined || !p.line || p.source === p.documentId || p.source.endsWith(`/${p.documentId}`);
  const id = named ? '' : ` (document "${p.documentId}")`;
  return `${where}: ${p.reason}${id}`;
}

/** The whole run refused: one line naming the count, every problem in `details`. */
export function invalidInputError(problems: readonly IngestProblem[], total: number): InputError {
  const sources = new Set(problems.map((p) => p.source));
  const what = `${total} invalid ${total === 1 ? 'record' : 'records'}`;
  const head = sources.size === 1 ? `${[...sources][0]}: ${what}` : `${what} in ${sources.size} inputs`;
  const details = problems.map(formatProblem);
  if (total > problems.length) details.push(`... and ${total - problems.length} more`);
  return new InputError(`${head}; nothing was ingested (use --skip-invalid to ingest the valid ones)`, details);
}
