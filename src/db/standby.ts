import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

/** Whether the database is a hot standby, and where its primary is when the role may see it. */
export interface StandbyInfo {
  standby: boolean;
  /** `host:port` of the primary this standby streams from, or null when unknown (or not a standby). */
  primary: string | null;
}

/**
 * Ask the server (`pg_is_in_recovery()`; PGlite is never a standby). A
 * standby's primary comes from `pg_stat_wal_receiver` (needs superuser or
 * pg_read_all_stats), else from the `primary_conninfo` setting
 * (pg_read_all_settings); only its host and port are kept, never a password.
 */
export async function standbyInfo(db: Kysely<DB>): Promise<StandbyInfo> {
  const { rows } = await sql<{ standby: boolean }>`select pg_is_in_recovery() as standby`.execute(db);
  if (!rows[0]?.standby) return { standby: false, primary: null };
  const receiver = await sql<{ host: string | null; port: number | null }>`
    select sender_host as host, sender_port as port from pg_stat_wal_receiver`
    .execute(db)
    .catch(() => undefined);
  const r = receiver?.rows[0];
  if (r?.host) return { standby: true, primary: r.port ? `${r.host}:${r.port}` : r.host };
  const setting = await sql<{ setting: string | null }>`
    select setting from pg_settings where name = 'primary_conninfo'`
    .execute(db)
    .catch(() => undefined);
  return { standby: true, primary: primaryFromConninfo(setting?.rows[0]?.setting ?? '') };
}

/** `host:port` of a libpq conninfo string (`host=a port=5432 user=...`), or null. */
export function primaryFromConninfo(conninfo: string): string | null {
  const field = (name: string) =>
    new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:'((?:[^'\\\\]|\\\\.)*)'|(\\S+))`).exec(conninfo);
  const host = field('host') ?? field('hostaddr');
  if (!host) return null;
  const h = (host[1] ?? host[2])!.replace(/\\(.)/g, '$1');
  const port = field('port');
  return port ? `${h}:${(port[1] ?? port[2])!}` : h;
}

/** How far a hot standby is behind what it knows its primary has written. */
export interface ReplayLag {
  /** The database is a hot standby. */
  standby: boolean;
  /**
   * It has WAL it has not applied yet: replay is paused, or it received (or
   * its primary reported) more WAL than it replayed. Not knowable: WAL the
   * primary wrote and has not sent yet.
   */
  behind: boolean;
  /** Bytes received or reported but not replayed (0 when unknown). */
  bytes: number;
}

/**
 * Whether a hot standby is still replaying WAL it has: a version (or its
 * vectors) that exists on the primary may not be here yet. Asked only when
 * a search fails, never on the hot path. `pg_stat_wal_receiver.latest_end_lsn`
 * (the primary's end of WAL, as last reported) is read when the role may see
 * it; otherwise the received position alone.
 */
export async function replayLag(db: Kysely<DB>): Promise<ReplayLag> {
  const { rows } = await sql<{ standby: boolean }>`select pg_is_in_recovery() as standby`.execute(db);
  if (!rows[0]?.standby) return { standby: false, behind: false, bytes: 0 };
  const lag = await sql<{ paused: boolean; bytes: string | null }>`
    select pg_get_wal_replay_pause_state() <> 'not paused' as paused,
           greatest(
             pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
             (select pg_wal_lsn_diff(latest_end_lsn, pg_last_wal_replay_lsn()) from pg_stat_wal_receiver),
             0
           )::text as bytes`.execute(db);
  const row = lag.rows[0];
  const bytes = Number(row?.bytes ?? 0);
  return { standby: true, behind: Boolean(row?.paused) || bytes > 0, bytes };
}
