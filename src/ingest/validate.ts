import { readSource } from './read.js';
import { listSources, type InputArg, type SourceOptions } from './sources.js';
import type { OnProgress } from '../util/index.js';
import type { IngestProblem, IngestProgress } from './types.js';

/** At most this many problems are kept with their text (all are counted). */
export const MAX_KEPT_PROBLEMS = 10_000;

/** Where a record is: its source's position in the run and its line. */
export function locationOf(sourceNo: number, line: number): number {
  return sourceNo * 2 ** 32 + line;
}

export interface Validation {
  problems: IngestProblem[];
  problemCount: number;
  /** Every document id of the input with the location of its first record (which wins). */
  firstSeen: Map<string, number>;
  validDocuments: number;
  /** Problems whose record has no readable id (its document cannot be protected from prune). */
  problemsWithoutId: number;
  /** Locations of every problem (so the writing pass knows which ones were reported). */
  problemAt: Set<number>;
}

/**
 * The first pass: read every input, keep the problems, and for each document
 * id the location of its first record. Nothing else is kept, so memory grows
 * with the number of documents, not with their text.
 */
export async function validateInputs(
  inputs: readonly InputArg[],
  opts: SourceOptions,
  onProgress?: OnProgress<IngestProgress>,
): Promise<Validation> {
  const v: Validation = {
    problems: [],
    problemCount: 0,
    firstSeen: new Map(),
    validDocuments: 0,
    problemsWithoutId: 0,
    problemAt: new Set(),
  };
  const displays: string[] = [];
  const add = (p: IngestProblem, loc: number) => {
    v.problemCount++;
    v.problemAt.add(loc);
    if (v.problems.length < MAX_KEPT_PROBLEMS) v.problems.push(p);
  };
  let read = 0;
  for await (const source of listSources(inputs, opts)) {
    displays[source.no] = source.display;
    for await (const item of readSource(source)) {
      const loc = locationOf(source.no, item.line);
      const id = item.ok ? item.doc.id : item.documentId;
      if (id !== undefined) {
        const first = v.firstSeen.get(id);
        if (first !== undefined) {
          const at = `${displays[Math.floor(first / 2 ** 32)]}${first % 2 ** 32 ? `:${first % 2 ** 32}` : ''}`;
          add(
            {
              source: source.display,
              line: item.line || undefined,
              documentId: id,
              reason: `duplicate document id "${id}" (first at ${at})`,
            },
            loc,
          );
          continue;
        }
        v.firstSeen.set(id, loc);
      }
      if (item.ok) v.validDocuments++;
      else {
        if (id === undefined) v.problemsWithoutId++;
        add({ source: source.display, line: item.line || undefined, documentId: id, reason: item.reason }, loc);
      }
      if (++read % 1000 === 0) onProgress?.({ phase: 'validating', documents: read, chunks: 0 });
    }
  }
  return v;
}
