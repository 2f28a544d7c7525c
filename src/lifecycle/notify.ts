import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';

/** The channel activation, rollback, retirement and calibration notify (payload: `VersionChange` JSON). */
export const VERSION_CHANNEL = 'embctl_active_version';

export interface VersionChange {
  event: 'activated' | 'rolled_back' | 'retired' | 'calibrated';
  version: string;
  /** The version active before (activation, rollback). */
  previous?: string | null;
}

/** Queue a notification in the caller's transaction: listeners get it at commit, never before, never on rollback. */
export async function notifyVersionChange(trx: Kysely<DB>, change: VersionChange): Promise<void> {
  await sql`select pg_notify(${VERSION_CHANNEL}, ${JSON.stringify(change)})`.execute(trx);
}

/** Serialises lifecycle changes (activate, rollback, retire) for the rest of the transaction. */
export const LIFECYCLE_LOCK = 0x656d626c; // "embl"

export async function lockLifecycle(trx: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${LIFECYCLE_LOCK})`.execute(trx);
}
