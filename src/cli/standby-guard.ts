import { standbyInfo, type Db, type StandbyInfo } from '../db/index.js';
import { RefusedError } from '../errors.js';

/**
 * A command that writes refuses a hot standby up front, in one line that
 * names its primary (the same detection `embctl serve` uses), instead of
 * failing inside its first transaction with "read-only transaction".
 * PGlite is never a standby: nothing is asked there.
 */
export async function refuseStandby(db: Db, action: string): Promise<void> {
  if (db.backend !== 'postgres') return;
  const info = await standbyInfo(db.kysely);
  if (info.standby) throw standbyWriteRefusal(info, action);
}

/** The refusal for a write sent to a standby; `action` says what was refused ("activate v2"). */
export function standbyWriteRefusal(info: StandbyInfo, action: string): RefusedError {
  const where = info.primary ? `the primary at ${info.primary}` : 'the primary';
  return new RefusedError(
    `cannot ${action}: the database is a hot standby (read-only replica); point DATABASE_URL at ${where} and run it there`,
  );
}

/** Whether an error (or one it wraps) is PostgreSQL's "cannot execute ... in a read-only transaction" (25006). */
export function isReadOnlyError(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++)
    if ((c as { code?: unknown }).code === '25006') return true;
  return false;
}
