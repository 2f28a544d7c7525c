import type pg from 'pg';
import type { Db } from '../db/index.js';
import type { Logger } from '../log/index.js';
import { VERSION_CHANNEL, type VersionChange } from './notify.js';
import { backoffDelay } from '../util/index.js';
import { versionsSignature } from '../versions/index.js';

export type WatchEvent =
  | ({ kind: 'change' } & VersionChange)
  /** Notifications may have been missed (the listening connection was lost): re-read everything. */
  | { kind: 'resync'; reason: string };

export interface VersionWatcher {
  /** 'listen' on a server (LISTEN/NOTIFY), 'poll' on PGlite. */
  readonly mode: 'listen' | 'poll';
  /** Resolves once the watcher is listening (or has its first poll baseline). */
  readonly ready: Promise<void>;
  /**
   * Whether change events are being received right now. While false (the
   * listening connection is lost and being re-established), a cache kept
   * up to date by the events must not be trusted.
   */
  connected(): boolean;
  close(): Promise<void>;
}

export interface WatchOptions {
  onEvent: (e: WatchEvent) => void;
  logger: Logger;
  /** PGlite poll interval (default 1000 ms). */
  pollMs?: number;
  /** Server: first delay before reconnecting a lost listener (default 250 ms; then backoff up to 5 s). */
  reconnectMs?: number;
}

/**
 * How a serving process learns about flips. On a server: a dedicated
 * connection from `db.pool` runs `LISTEN embctl_active_version`; activation,
 * rollback and retirement `pg_notify` in their transaction, so the event
 * arrives right after the commit. If the connection drops (backend
 * terminated, server restarted, failover), the watcher emits `resync`
 * (events may have been missed), reports itself not connected, and
 * reconnects with capped backoff until it listens again, then emits
 * `resync` once more. On PGlite (one process, one connection) a poll of the
 * audit trail and the versions' `updated_at` every second does the same job.
 */
export function watchVersionChanges(db: Db, opts: WatchOptions): VersionWatcher {
  return db.pool ? listen(db.pool, opts) : poll(db, opts);
}

function listen(pool: pg.Pool, opts: WatchOptions): VersionWatcher {
  let client: pg.PoolClient | undefined;
  let listening = false;
  let closed = false;
  let attempt = 0;
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
  const retry = () => {
    if (closed || timer) return;
    attempt++;
    const ms = backoffDelay({ attempt }, { baseMs: opts.reconnectMs ?? 250, maxMs: 5000, jitter: 'decorrelated' });
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, ms);
    timer.unref();
  };
  /** The connection `c` failed: forget it (the pool discards it) and reconnect. A client errs more than once as it dies: only the first counts. */
  const lost = (c: pg.PoolClient | undefined, err: Error) => {
    if (c !== client) return;
    const wasListening = listening;
    client = undefined;
    listening = false;
    if (c) {
      c.removeListener('notification', onNotification);
      c.release(err); // our error listener stays: the dying client may still emit
    }
    if (closed) return;
    if (wasListening || attempt === 0)
      opts.logger.warn({ err: err.message }, 'version listener lost its connection; reconnecting');
    opts.onEvent({ kind: 'resync', reason: 'listener reconnecting' });
    retry();
  };
  const connect = async () => {
    if (closed) return;
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (e) {
      lost(undefined, e as Error);
      return;
    }
    if (closed) {
      c.release();
      return;
    }
    client = c;
    c.on('error', (e: Error) => lost(c, e));
    c.on('notification', onNotification);
    try {
      await c.query(`LISTEN ${VERSION_CHANNEL}`);
    } catch (e) {
      lost(c, e as Error);
      return;
    }
    if (client !== c) return;
    listening = true;
    if (attempt > 0) opts.logger.info({ attempts: attempt }, 'version listener reconnected');
    attempt = 0;
    // Anything may have changed while nobody listened: re-read.
    opts.onEvent({ kind: 'resync', reason: 'listening' });
    markReady();
  };
  void connect();
  return {
    mode: 'listen',
    ready,
    connected: () => listening,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      listening = false;
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
  let ok = false;
  const tick = async () => {
    const sig = await versionsSignature(db.kysely);
    if (last !== undefined && sig !== last) opts.onEvent({ kind: 'resync', reason: 'versions changed' });
    last = sig;
    ok = true;
  };
  const failed = (e: Error) => {
    if (ok) opts.onEvent({ kind: 'resync', reason: 'version poll failed' });
    ok = false;
    opts.logger.warn({ err: e.message }, 'version poll failed');
  };
  const ready = tick().catch(failed);
  const timer = setInterval(() => {
    if (closed || running) return;
    running = tick()
      .catch(failed)
      .finally(() => (running = undefined));
  }, opts.pollMs ?? 1000);
  timer.unref();
  return {
    mode: 'poll',
    ready: ready.then(() => {}),
    connected: () => ok,
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
