import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/index.js';
import { HttpError } from './http-util.js';

/** Whether the database is a hot standby, and where its primary is when the role may see it. */
export interface StandbyInfo {
  standby: boolean;
  /** `host:port` of the primary this standby streams from, or null when unknown (or not a standby). */
  primary: string | null;
}

/**
 * Ask the server. A standby's primary comes from `pg_stat_wal_receiver`
 * (needs superuser or pg_read_all_stats), else from the `primary_conninfo`
 * setting (pg_read_all_settings); only its host and port are kept, never a
 * password.
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

/** The answer to a write (activate, rollback) sent to a standby: 409, naming the primary. */
export function standbyRefusal(info: StandbyInfo): HttpError {
  const where = info.primary ? `the primary at ${info.primary}` : 'the primary (this server could not see its address)';
  return new HttpError(
    409,
    'read_only_standby',
    `this service reads from a hot standby, which cannot activate or roll back: send the request to a service connected to ${where}`,
  );
}
