import type { DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import { CompiledQuery } from 'kysely';
import type { PGlite } from '@electric-sql/pglite';
import { Mutex } from './mutex.js';
import { beginStatement, copyPayloadOf, isScript } from './special-queries.js';
import type { TypeParsers } from './type-parsers.js';
import { SessionSettingsState } from './session-settings.js';
import { driverParameters } from '../query-vector.js';

/**
 * A Kysely driver over PGlite. PGlite is one session, so the driver hands
 * out one connection at a time (a transaction holds it until it ends).
 * Binary COPY FROM STDIN becomes COPY FROM '/dev/blob' with the payload as
 * a Blob: PGlite's fastest bulk path (its node-postgres COPY bridge is not usable).
 */
export class PgliteDriver implements Driver {
  readonly #db: PGlite;
  readonly #mutex = new Mutex();
  readonly #conn: PgliteConnection;

  constructor(db: PGlite, parsers: TypeParsers) {
    this.#db = db;
    this.#conn = new PgliteConnection(db, parsers);
  }

  async init(): Promise<void> {
    await this.#db.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#conn;
  }

  async beginTransaction(conn: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw(beginStatement(settings)));
    this.#conn.settings.transactionStarted();
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    try {
      await conn.executeQuery(CompiledQuery.raw('commit'));
    } finally {
      this.#conn.settings.transactionEnded(); // a failed COMMIT ends the transaction too
    }
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    try {
      await conn.executeQuery(CompiledQuery.raw('rollback'));
    } finally {
      this.#conn.settings.transactionEnded();
    }
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    if (!this.#db.closed) await this.#db.close();
  }
}

class PgliteConnection implements DatabaseConnection {
  /** The one session's settings, shared by everything that uses this database. */
  readonly settings = new SessionSettingsState();
  readonly #db: PGlite;
  readonly #parsers: TypeParsers;

  constructor(db: PGlite, parsers: TypeParsers) {
    this.#db = db;
    this.#parsers = parsers;
  }

  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    const settingsOnly = await this.settings.applyCarried(q, (s) => this.#db.query(s.sql, s.parameters as unknown[]));
    if (settingsOnly) return { rows: [] };
    const payload = copyPayloadOf(q);
    if (payload) {
      const sql = q.sql.replace(/FROM\s+STDIN/i, "FROM '/dev/blob'");
      const res = await this.#db.query(sql, [], {
        blob: new Blob(Buffer.isBuffer(payload) ? [payload] : [...payload]),
      });
      return { rows: [], numAffectedRows: BigInt(res.affectedRows ?? 0) };
    }
    if (isScript(q)) {
      const results = await this.#db.exec(q.sql);
      const last = results[results.length - 1];
      return { rows: (last?.rows ?? []) as R[] };
    }
    const res = await this.#db.query<R>(q.sql, driverParameters(q.parameters, false), {
      rowMode: 'object',
      parsers: this.#parsers.asRecord(),
    });
    return {
      rows: res.rows,
      numAffectedRows: res.affectedRows !== undefined ? BigInt(res.affectedRows) : undefined,
    };
  }

  async *streamQuery<R>(q: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    yield await this.executeQuery<R>(q);
  }
}
