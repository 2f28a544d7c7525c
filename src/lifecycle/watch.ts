import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from '../db/open.js';
import type { Logger } from '../log/logger.js';
import { VERSION_CHANNEL, type VersionChange } from './notify.js';

export type WatchEvent =
  | ({ kind: 'change' } & VersionChange)
  /** Notifications may have been missed (the listening connection was lost): re-read everything. */
  | { kind: 'resync'; reason: string };

export interface VersionWatcher {
  /** 'listen' on a server (LISTEN/NOTIFY), 'poll' on PGlite. */
  readonly mode: 'listen' | 'poll';
  /** Resolves once the watcher is listening (or has its first poll baseline). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  onEvent: (e: WatchEvent) => void;
  logger: Logger;
  /** PGlite poll interval (default 1000 ms). */
  pollMs?: number;
  /** Server: delay before reconnecting a lost listener (default 1000 ms). */
  reconnectMs?: number;
}

/**
 * How a serving process learns about flips. On a server: a dedicated
 * connection from `db.pool` runs `LISTEN embctl_active_version`; activation,
 * rollback and retirement `pg_notify` in their transaction, so the event
 * arrives right after the commit. If the connection drops, the watcher
 * emits `resync` (events may have been missed) and reconnects. On PGlite
 * (one process, one connection) a poll of the audit trail and the versions'
 * `updated_at` every second does the same job.
 */
export function watchVersionChanges(db: Db, opts: WatchOptions): VersionWatcher {
  return db.pool ? listen(db.pool, opts) : poll(db, opts);
}

function listen(pool: pg.Pool, opts: WatchOptions): VersionWatcher {
  let client: pg.PoolClient | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const onNotification = (msg: pg.Notification) => {
    if (msg.channel !== VERSION_CHANNEL) return;
    try {
      opts.onEvent({ kind: 'change', ...(JSON.parse(msg.payload ?? '{}') as VersionChange) });
    } catch {
      opts.onEvent({ kind: 'resync', reason: 'unreadable notification' });
    }
  };
  const lost = (err: Error) => {
    if (closed) return;
    opts.logger.warn({ err: err.message }, 'version listener lost its connection; reconnecting');
    const c = client;
    client = undefined;
    c?.removeListener('notification', onNotification);
    c?.release(err);
    opts.onEvent({ kind: 'resync', reason: 'listener reconnecting' });
    timer = setTimeout(connect, opts.reconnectMs ?? 1000);
    timer.unref();
  };
  const connect = async () => {
    if (closed) return;
    try {
      const c = await pool.connect();
      if (closed) {
        c.release();
        return;
      }
      client = c;
      c.on('notification', onNotification);
      c.once('error', lost);
      await c.query(`LISTEN ${VERSION_CHANNEL}`);
      opts.onEvent({ kind: 'resync', reason: 'listening' });
      markReady();
    } catch (e) {
      lost(e as Error);
    }
  };
  void connect();
  return {
    mode: 'listen',
    ready,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) {
        c.removeListener('notification', onNotification);
        await c.query(`UNLISTEN ${VERSION_CHANNEL}`).catch(() => {});
        c.release();
      }
      markReady();
    },
  };
}

function poll(db: Db, opts: WatchOptions): VersionWatcher {
  let closed = false;
  let last: string | undefined;
  let running: Promise<void> | undefined;
  const tick = async () => {
    const { rows } = await sql<{ sig: string }>`
      select concat_ws(':', (select max(id) from version_events),
                            (select max(updated_at) from embedding_versions),
                            (select version_key from embedding_versions where active)) as sig`.execute(db.kysely);
    const sig = rows[0]?.sig ?? '';
    if (last !== undefined && sig !== last) opts.onEvent({ kind: 'resync', reason: 'versions changed' });
    last = sig;
  };
  const ready = tick().catch((e: Error) => opts.logger.warn({ err: e.message }, 'version poll failed'));
  const timer = setInterval(() => {
    if (closed || running) return;
    running = tick()
      .catch((e: Error) => opts.logger.warn({ err: e.message }, 'version poll failed'))
      .finally(() => (running = undefined));
  }, opts.pollMs ?? 1000);
  timer.unref();
  return {
    mode: 'poll',
    ready: ready.then(() => {}),
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
