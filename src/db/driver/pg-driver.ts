import type { DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { finished } from 'node:stream/promises';
import { beginStatement, copyPayloadOf, isScript, preparedNameOf } from './special-queries.js';
import { driverParameters } from '../query-vector.js';
import type { TypeParsers } from './type-parsers.js';
import { SessionSettingsState } from './session-settings.js';
import { connectionLost, isConnectionLoss } from '../connection-errors.js';

/**
 * The session settings of each pooled client (a PgConnection lives for one
 * checkout; the client, and its session, for as long as the pool keeps it).
 * A client the pool replaces takes its entry with it.
 */
const sessionSettings = new WeakMap<pg.PoolClient, SessionSettingsState>();

/**
 * The first error each client of a guarded pool emitted. A client whose
 * socket breaks (server stopped, backend terminated) emits 'error', and an
 * 'error' event nobody listens to ends the process. pg-pool listens only
 * while a client is idle, and a listener added by whoever checked the
 * client out comes a microtask too late: when the server's ReadyForQuery
 * and a FATAL (57P01 on a fast shutdown) arrive in one read, pg emits the
 * error in the same tick as the hand-out. Seen in CI: `embctl serve` died
 * while PostgreSQL stopped under it. So `guardPoolClients` gives every
 * client one listener for its whole life, on the pool's 'connect' event
 * (emitted in that same tick, before the hand-out), and every user of the
 * pool (PgConnection, the version watcher, open's first checkout) is
 * covered by it.
 */
const clientErrors = new WeakMap<pg.ClientBase, Error>();

/** Every client of `pool` keeps its first error in clientErrors, from its first checkout on. Call it once, as the pool is made. */
export function guardPoolClients(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    client.on('error', (e: Error) => {
      if (!clientErrors.has(client)) clientErrors.set(client, e);
    });
  });
}

/**
 * A Kysely driver over a `pg` pool that also speaks binary COPY FROM STDIN.
 * Its pool is guarded (`guardPoolClients`, as open.ts makes it): PgConnection
 * reads its clients' errors from clientErrors.
 */
export class PgDriver implements Driver {
  readonly pool: pg.Pool;
  /** A Citus coordinator: query settings become SET LOCAL statements (session-settings.ts). */
  distributed = false;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw isConnectionLoss(e) ? connectionLost(e) : e;
    }
    return new PgConnection(client, this.distributed);
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(beginStatement(settings)));
    (conn as PgConnection).settings.transactionStarted();
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    try {
      await conn.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      (conn as PgConnection).settings.transactionEnded(); // a failed COMMIT ends the transaction too
    }
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    // A broken session was rolled back by the server when it went away; the
    // caller's own error (why the transaction failed) is the one to report.
    if ((conn as PgConnection).broken) return;
    try {
      await conn.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      (conn as PgConnection).settings.transactionEnded();
    }
  }

  async releaseConnection(conn: DatabaseConnection): Promise<void> {
    (conn as PgConnection).release();
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * One checked-out pool client. Its 'error' events are caught for its whole
 * life by the pool's guard (clientErrors); a query that failed for a lost
 * connection marks it too. A connection that failed, before this checkout or
 * during it, is released with its error, so the pool discards it and opens
 * a fresh one next time. Connection failures surface as UnavailableError.
 */
class PgConnection implements DatabaseConnection {
  readonly #client: pg.PoolClient;
  readonly settings: SessionSettingsState;
  #lostInQuery: Error | undefined;

  constructor(client: pg.PoolClient, distributed: boolean) {
    this.#client = client;
    let settings = sessionSettings.get(client);
    if (!settings) sessionSettings.set(client, (settings = new SessionSettingsState(distributed)));
    this.settings = settings;
  }

  /** Why this connection is unusable, if it is. */
  get #broken(): Error | undefined {
    return clientErrors.get(this.#client) ?? this.#lostInQuery;
  }

  get broken(): boolean {
    return this.#broken !== undefined;
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#broken) throw connectionLost(this.#broken);
    try {
      const settingsOnly = await this.settings.applyCarried(q, (s) =>
        this.#client.query({ text: s.sql, values: s.parameters as unknown[] }),
      );
      if (settingsOnly) return { rows: [] };
      const payload = copyPayloadOf(q);
      if (payload) {
        const stream = this.#client.query(pgCopyStreams.from(q.sql));
        const done = finished(stream);
        // Every piece is handed over at once (the stream holds them until the
        // server is ready, then the socket takes them as fast as it drains):
        // waiting for 'drain' between pieces, as a piped Readable does, leaves
        // the server idle between them.
        try {
          for (const piece of Buffer.isBuffer(payload) ? [payload] : payload) stream.write(piece);
        } catch (e) {
          stream.destroy(e as Error); // CopyFail: the server abandons the COPY
          await done.catch(() => {});
          throw e;
        }
        stream.end();
        await done;
        return { rows: [], numAffectedRows: BigInt(stream.rowCount ?? 0) };
      }
      const res = isScript(q)
        ? await this.#client.query(q.sql)
        : await this.#client.query({
            text: q.sql,
            values: driverParameters(q.parameters, true),
            name: preparedNameOf(q),
          });
      const last = Array.isArray(res) ? res[res.length - 1] : res;
      const affected =
        last && ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY'].includes(last.command)
          ? BigInt(last.rowCount ?? 0)
          : undefined;
      return { rows: (last?.rows ?? []) as R[], numAffectedRows: affected };
    } catch (e) {
      if (isConnectionLoss(e) || this.#broken) {
        this.#lostInQuery ??= e as Error;
        throw connectionLost(e);
      }
      throw e;
    }
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(q);
  }

  release(): void {
    this.#client.release(this.#broken);
  }
}

/** pg's `types` option: our parsers first, pg's defaults otherwise. */
export function pgTypes(parsers: TypeParsers): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      const own = format !== 'binary' ? parsers.byOid.get(oid) : undefined;
      return own ?? pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}
