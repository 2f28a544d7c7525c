import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { readSource } from './read.js';
import { listSources, type InputArg, type SourceOptions } from './sources.js';
import type { OnProgress } from '../util/index.js';
import type { IngestProblem, IngestProgress } from './types.js';
import { SeenIds } from './seen-ids.js';

/** At most this many problems are kept with their text (all are counted). */
export const MAX_KEPT_PROBLEMS = 10_000;

/** Where a record is: its source's position in the run and its line. */
export function locationOf(sourceNo: number, line: number): number {
  return sourceNo * 2 ** 32 + line;
}

export interface Validation {
  problems: IngestProblem[];
  problemCount: number;
  /** Every document id of the input with the location of its first record (which wins), in the database. */
  seen: SeenIds;
  validDocuments: number;
  /** Problems whose record has no readable id (its document cannot be protected from prune). */
  problemsWithoutId: number;
  /** Locations of every record that cannot be read (so the writing pass knows which ones were reported). */
  problemAt: Set<number>;
}

/**
 * The first pass: read every input, keep the problems, and send each
 * document id with the location of its record to a temporary table of
 * `conn` (SeenIds). Memory holds the problems only, not the ids nor the
 * text: an input of any size validates in bounded memory.
 */
export async function validateInputs(
  conn: Kysely<DB>,
  inputs: readonly InputArg[],
  opts: SourceOptions,
  onProgress?: OnProgress<IngestProgress>,
): Promise<Validation> {
  const seen = await SeenIds.create(conn);
  const invalid: { p: IngestProblem; loc: number }[] = [];
  const problemAt = new Set<number>();
  let invalidCount = 0;
  let problemsWithoutId = 0;
  let okRecords = 0;
  const displays: string[] = [];
  let read = 0;
  for await (const source of listSources(inputs, opts)) {
    displays[source.no] = source.display;
    for await (const item of readSource(source)) {
      const loc = locationOf(source.no, item.line);
      const id = item.ok ? item.doc.id : item.documentId;
      if (id !== undefined) await seen.add(id, loc, item.ok);
      if (item.ok) okRecords++;
      else {
        if (id === undefined) problemsWithoutId++;
        invalidCount++;
        problemAt.add(loc);
        if (invalid.length < MAX_KEPT_PROBLEMS)
          invalid.push({
            p: { source: source.display, line: item.line || undefined, documentId: id, reason: item.reason },
            loc,
          });
      }
      if (++read % 1000 === 0) onProgress?.({ phase: 'validating', documents: read, chunks: 0 });
    }
  }
  const at = (loc: number) => `${displays[Math.floor(loc / 2 ** 32)]}${loc % 2 ** 32 ? `:${loc % 2 ** 32}` : ''}`;
  const repeated = await seen.finish(MAX_KEPT_PROBLEMS);
  const repeats = repeated.repeats.map((r) => ({
    p: {
      source: displays[Math.floor(r.loc / 2 ** 32)]!,
      line: r.loc % 2 ** 32 || undefined,
      documentId: r.id,
      reason: `duplicate document id "${r.id}" (first at ${at(r.first)})`,
    },
    loc: r.loc,
  }));
  const problems = [...invalid, ...repeats]
    .sort((a, b) => a.loc - b.loc)
    .slice(0, MAX_KEPT_PROBLEMS)
    .map((x) => x.p);
  return {
    problems,
    problemCount: invalidCount + repeated.count,
    seen,
    validDocuments: okRecords - repeated.count,
    problemsWithoutId,
    problemAt,
  };
}
