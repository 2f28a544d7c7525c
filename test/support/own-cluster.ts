import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A private, throwaway PostgreSQL 15 cluster for fault-injection tests:
 * stop it, kill it, start it again on the same port, without disturbing the
 * shared test server. trust auth on 127.0.0.1, pgvector through
 * `CREATE EXTENSION vector` (in template1, so every database made from it
 * has it), `shared_preload_libraries` untouched. Same initdb/pg_ctl flags as
 * scripts/pg-test-server.sh.
 *
 * A cluster is a data folder plus a port. `initCluster` makes a primary from
 * initdb; `startStandby` makes a streaming hot standby of one from its
 * `pg_basebackup -R` into another `OwnCluster` on another port (the
 * primary's pg_hba already trusts replication connections from 127.0.0.1,
 * and wal_level is replica by default). `waitForReplay` waits until a
 * standby has replayed everything its primary has written so far;
 * `pauseReplay` / `resumeReplay` hold replay still to make lag on purpose.
 */

export const PG_BIN = process.env.EMBCTL_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const MARKER = '.embctl-own-cluster';
const run = promisify(execFile);
const AS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

/** Why own-cluster tests cannot run here, or undefined when they can. */
export function ownClusterUnavailable(): string | undefined {
  if (!existsSync(join(PG_BIN, 'initdb')) || !existsSync(join(PG_BIN, 'pg_ctl')))
    return `no PostgreSQL binaries in ${PG_BIN} (set EMBCTL_PG_BIN)`;
  return undefined;
}

/** Run a PostgreSQL binary as the cluster owner (`postgres` when we are root: PostgreSQL refuses root). */
export async function pgBin(name: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const bin = join(PG_BIN, name);
  const [cmd, argv] = AS_ROOT ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  try {
    const { stdout } = await run(cmd, argv, { timeout: opts.timeoutMs ?? 300_000 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${name} ${args.join(' ')} failed: ${err.stderr || err.message}`, { cause: e });
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export type StopMode = 'smart' | 'fast' | 'immediate';

export class OwnCluster {
  /** The folder this class made (holds `data/`, the socket and the server log). */
  readonly dir: string;
  readonly dataDir: string;
  readonly port: number;
  /** For a standby: the cluster it streams from. */
  readonly primary: OwnCluster | undefined;
  #destroyed = false;

  constructor(dir: string, port: number, primary?: OwnCluster) {
    this.dir = dir;
    this.dataDir = join(dir, 'data');
    this.port = port;
    this.primary = primary;
  }

  /** URL of a database of this cluster (user postgres, trust auth). */
  url(database = 'postgres'): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get logFile(): string {
    return join(this.dir, 'server.log');
  }

  /** Start the server (waits until it accepts connections). */
  async start(): Promise<void> {
    await pgBin('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '120', '-s', 'start']);
  }

  /** Stop it: `fast` (disconnect clients, clean shutdown) or `immediate` (like a crash; recovery on next start). */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    await pgBin('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '120', '-s', 'stop']);
  }

  async isRunning(): Promise<boolean> {
    try {
      await pgBin('pg_ctl', ['-D', this.dataDir, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  /** Run `fn` with a short-lived superuser connection. */
  async admin<T>(fn: (c: pg.Client) => Promise<T>, database = 'postgres'): Promise<T> {
    const c = new pg.Client({ connectionString: this.url(database), application_name: 'own-cluster-admin' });
    c.on('error', () => {}); // we may be killing the server under it
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => {});
    }
  }

  /** A new database (from template1, so with pgvector); returns its URL. */
  async createDatabase(name: string): Promise<string> {
    if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new Error(`bad database name ${name}`);
    await this.admin((c) => c.query(`create database ${name}`));
    return this.url(name);
  }

  /**
   * `pg_terminate_backend` every client backend whose application_name is
   * `applicationName` (all but our own when omitted); returns how many.
   */
  async terminateBackends(applicationName?: string): Promise<number> {
    return this.admin(async (c) => {
      const r = await c.query<{ n: string }>(
        `select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity
         where backend_type = 'client backend' and pid <> pg_backend_pid()
           and ($1::text is null or application_name = $1)`,
        [applicationName ?? null],
      );
      return Number(r.rows[0]?.n ?? 0);
    });
  }

  /** Stop the server at once and delete its folder. Safe twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.stop('immediate').catch(() => {});
    if (existsSync(join(this.dir, MARKER))) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines of the server log (for a failing test's message). */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

export interface InitOptions {
  /** Extra postgresql.conf lines, e.g. { max_connections: '50' }. */
  settings?: Record<string, string>;
}

/** A new folder for a cluster under /tmp, marked as ours and owned by `postgres` when we are root. */
function clusterFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embctl-own-pg-'));
  writeFileSync(join(dir, MARKER), '');
  chmodSync(dir, 0o755);
  if (AS_ROOT) chownSync(dir, uid('postgres'), gid('postgres'));
  return dir;
}

/** initdb a new cluster in a temp folder under /tmp, start it on a free port, and add pgvector to template1. */
export async function initCluster(opts: InitOptions = {}): Promise<OwnCluster> {
  const reason = ownClusterUnavailable();
  if (reason) throw new Error(reason);
  const dir = clusterFolder();
  const data = join(dir, 'data');
  try {
    await pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const conf = join(data, 'postgresql.conf');
  const original = readFileSync(conf, 'utf8');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(conf, original);
    appendFileSync(
      conf,
      [
        '',
        '# embctl own test cluster: speed over durability',
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 100',
        ...Object.entries(opts.settings ?? {}).map(([k, v]) => `${k} = ${v}`),
        '',
      ].join('\n'),
    );
    const cluster = new OwnCluster(dir, port);
    try {
      await cluster.start();
    } catch (e) {
      if (attempt < 5 && /could not bind|could not create any TCP/.test(cluster.logTail())) continue; // the port was taken meanwhile
      await cluster.destroy();
      throw e;
    }
    try {
      for (const db of ['template1', 'postgres'])
        await cluster.admin((c) => c.query('create extension if not exists vector'), db);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }
}

export interface StandbyOptions {
  /** Extra postgresql.conf lines for the standby. */
  settings?: Record<string, string>;
  /** Most time to wait until it streams (default 10 minutes: a bound, not a timing). */
  limitMs?: number;
}

/**
 * A streaming hot standby of `primary`: `pg_basebackup -R -X stream` into a
 * new folder (it writes `standby.signal` and `primary_conninfo`), its own
 * free port and socket folder, `hot_standby = on` and `hot_standby_feedback
 * = on` (so the primary's vacuum does not cancel the standby's searches),
 * started and waited for until its WAL receiver streams. Destroy it before
 * its primary.
 */
export async function startStandby(primary: OwnCluster, opts: StandbyOptions = {}): Promise<OwnCluster> {
  const dir = clusterFolder();
  const data = join(dir, 'data');
  try {
    await pgBin('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(primary.port),
      '-U',
      'postgres',
      '-D',
      data,
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const conf = join(data, 'postgresql.conf');
  const copied = readFileSync(conf, 'utf8'); // the primary's, with its port and socket folder: overridden below
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(conf, copied);
    appendFileSync(
      conf,
      [
        '',
        '# embctl own test cluster: streaming hot standby',
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'hot_standby = on',
        'hot_standby_feedback = on',
        ...Object.entries(opts.settings ?? {}).map(([k, v]) => `${k} = ${v}`),
        '',
      ].join('\n'),
    );
    const standby = new OwnCluster(dir, port, primary);
    try {
      await standby.start();
    } catch (e) {
      if (attempt < 5 && /could not bind|could not create any TCP/.test(standby.logTail())) continue;
      await standby.destroy();
      throw e;
    }
    try {
      await waitForStreaming(standby, opts.limitMs);
    } catch (e) {
      await standby.destroy();
      throw e;
    }
    return standby;
  }
}

/** Wait until the standby's WAL receiver streams from its primary (`pg_stat_wal_receiver.status`). */
export async function waitForStreaming(standby: OwnCluster, limitMs = 600_000): Promise<void> {
  await poll(
    `the standby on port ${standby.port} to stream`,
    limitMs,
    async () => {
      const r = await standby.admin((c) =>
        c.query<{ status: string | null; recovery: boolean }>(
          `select pg_is_in_recovery() as recovery, (select status from pg_stat_wal_receiver) as status`,
        ),
      );
      const row = r.rows[0];
      if (row && !row.recovery)
        throw new StopPolling(`the cluster on port ${standby.port} is not in recovery: it is not a standby`);
      return row?.status === 'streaming';
    },
    () => standby.logTail(),
  );
}

/**
 * Wait until the standby has replayed everything its primary had written
 * when this was called; returns that LSN. The primary's position is
 * `pg_current_wal_insert_lsn()`, not `pg_current_wal_lsn()`: the own
 * clusters run with synchronous_commit = off, so a commit that has returned
 * may not be written yet, and the write position could be behind it. Throws
 * at once if replay is paused (it would never catch up).
 */
export async function waitForReplay(standby: OwnCluster, limitMs = 600_000): Promise<string> {
  const primary = standby.primary;
  if (!primary) throw new Error(`the cluster on port ${standby.port} is not a standby made by startStandby`);
  const lsn = await primary.admin(
    async (c) => (await c.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn,
  );
  await poll(
    `the standby to replay up to ${lsn}`,
    limitMs,
    async () => {
      const r = await standby.admin((c) =>
        c.query<{ caught_up: boolean | null; paused: string }>(
          `select pg_last_wal_replay_lsn() >= $1::pg_lsn as caught_up, pg_get_wal_replay_pause_state() as paused`,
          [lsn],
        ),
      );
      const row = r.rows[0]!;
      if (row.caught_up) return true;
      if (row.paused !== 'not paused')
        throw new StopPolling(
          `replay is paused on the standby (${row.paused}): it cannot reach ${lsn}; call resumeReplay first`,
        );
      return false;
    },
    () => standby.logTail(),
  );
  return lsn;
}

/**
 * Wait until the standby has received (not necessarily applied) everything
 * its primary had written when this was called: with replay paused, the
 * WAL is then on the standby and waits (`pg_last_wal_receive_lsn()`).
 */
export async function waitForReceived(standby: OwnCluster, limitMs = 600_000): Promise<string> {
  const primary = standby.primary;
  if (!primary) throw new Error(`the cluster on port ${standby.port} is not a standby made by startStandby`);
  const lsn = await primary.admin(
    async (c) => (await c.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn,
  );
  await poll(
    `the standby to receive WAL up to ${lsn}`,
    limitMs,
    async () => {
      const r = await standby.admin((c) =>
        c.query<{ ok: boolean | null }>('select pg_last_wal_receive_lsn() >= $1::pg_lsn as ok', [lsn]),
      );
      return Boolean(r.rows[0]?.ok);
    },
    () => standby.logTail(),
  );
  return lsn;
}

/**
 * Stop applying WAL on the standby (`pg_wal_replay_pause()`). From the
 * moment this returns, no record the primary writes afterwards is applied
 * (the startup process checks the request before each record) until
 * `resumeReplay`; the WAL keeps streaming and waits.
 */
export async function pauseReplay(standby: OwnCluster): Promise<void> {
  await standby.admin((c) => c.query('select pg_wal_replay_pause()'));
}

export async function resumeReplay(standby: OwnCluster): Promise<void> {
  await standby.admin((c) => c.query('select pg_wal_replay_resume()'));
}

/** 'not paused', 'pause requested' or 'paused' (`pg_get_wal_replay_pause_state()`). */
export async function replayPauseState(standby: OwnCluster): Promise<string> {
  return standby.admin(
    async (c) => (await c.query<{ s: string }>('select pg_get_wal_replay_pause_state() as s')).rows[0]!.s,
  );
}

class StopPolling extends Error {}

/** Poll until `probe` says true; connection errors are retried; a bound, not a timing. */
async function poll(what: string, limitMs: number, probe: () => Promise<boolean>, tail: () => string): Promise<void> {
  const until = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (e) {
      if (e instanceof StopPolling) throw new Error(e.message, { cause: e });
      last = e;
    }
    if (Date.now() > until)
      throw new Error(`gave up waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function uid(user: string): number {
  return idOf(user, 2);
}
function gid(user: string): number {
  return idOf(user, 3);
}
function idOf(user: string, field: number): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  const n = Number(line?.split(':')[field]);
  if (!Number.isInteger(n)) throw new Error(`no user ${user} in /etc/passwd`);
  return n;
}
