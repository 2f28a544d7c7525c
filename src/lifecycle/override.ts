import { InputError, RefusedError } from '../errors.js';
import type { Problem } from './readiness.js';

export interface OverrideOptions {
  /** Override failed checks (never a retired version); needs `reason`. */
  force?: boolean;
  /** Why: recorded in the audit trail (required with force). */
  reason?: string;
}

export function checkOverrideOptions(opts: OverrideOptions): void {
  if (opts.force && !opts.reason?.trim()) {
    throw new InputError('--force needs --reason "...": the override is recorded in the audit trail with its reason');
  }
}

/**
 * Refuse on problems unless forced. A retired version cannot be forced (its
 * vectors are gone). The message is one line with the first problem's fix;
 * every problem is in the details.
 */
export function refuseUnlessForced(action: string, problems: Problem[], opts: OverrideOptions): Problem[] {
  if (problems.length === 0) return [];
  const retired = problems.find((p) => p.code === 'retired');
  if (retired) throw new RefusedError(`cannot ${action}: ${retired.message}`, [], { code: retired.code });
  if (opts.force) return problems;
  const more = problems.length > 1 ? ` (+${problems.length - 1} more)` : '';
  throw new RefusedError(
    `cannot ${action}: ${problems[0]!.message}${more}; or override with --force --reason "..."`,
    problems.length > 1 ? problems.map((p) => p.message) : [],
    { code: problems[0]!.code },
  );
}
