import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { RefusedError, UsageError } from '../errors.js';
import { activeVersion, requireVersion, type VersionRow } from '../versions/index.js';
import type { GatesConfig } from './gates-file.js';

/** The judged set when none is named: the one `*.judged.jsonl` in `dir` (default `evals`). */
export function findDefaultJudgedSet(dir = 'evals'): string {
  let files: string[] = [];
  try {
    files = readdirSync(dir)
      .filter((n) => n.endsWith('.judged.jsonl'))
      .map((n) => join(dir, n));
  } catch {
    /* no evals folder */
  }
  if (files.length === 1) return files[0]!;
  throw new UsageError(
    files.length === 0
      ? 'no judged set: pass --judged <file or BEIR folder> (or put one *.judged.jsonl in evals/)'
      : `several judged sets in evals/ (${files.join(', ')}): pick one with --judged <file>`,
  );
}

export interface EvaluationVersions {
  candidate: VersionRow;
  /** null when nothing compares against a baseline. */
  baseline: VersionRow | null;
}

/**
 * The versions an evaluation runs: the named candidate, else the active one;
 * a baseline only when one is named or a max_drop gate needs it, the named
 * one, else the active one (null if there is none).
 */
export async function pickEvaluationVersions(
  db: Kysely<DB>,
  opts: { version?: string; baseline?: string; gates?: GatesConfig | null },
): Promise<EvaluationVersions> {
  const candidate = opts.version ? await requireVersion(db, opts.version) : await activeVersion(db);
  if (!candidate) {
    throw new RefusedError('no active version to evaluate: pass --version <key> (embctl versions list shows them)');
  }
  const needsBaseline = opts.baseline !== undefined || (opts.gates?.gates.some((g) => g.kind === 'max_drop') ?? false);
  const baseline = !needsBaseline
    ? null
    : opts.baseline
      ? await requireVersion(db, opts.baseline)
      : ((await activeVersion(db)) ?? null);
  return { candidate, baseline };
}
