import { createHash } from 'node:crypto';
import { CompiledQuery, type TransactionSettings } from 'kysely';

/**
 * Operations Kysely has no node for, carried through its ordinary
 * `executeQuery` path so that they run on the same connection (and in the
 * same transaction) as everything else:
 *  - a binary COPY ... FROM STDIN with its payload,
 *  - a multi-statement script (migrations), run with the simple protocol,
 *  - a statement to keep prepared on the session (the search hot path).
 * Each driver recognises them and runs them its own way.
 */
const COPY_PAYLOAD = Symbol('embctl.copyPayload');
const SCRIPT = Symbol('embctl.script');
const PREPARED = Symbol('embctl.prepared');

/** A COPY payload: one buffer, or pieces streamed in order. */
export type CopyPayload = Buffer | Iterable<Buffer>;

type Special = CompiledQuery & { [COPY_PAYLOAD]?: CopyPayload; [SCRIPT]?: true; [PREPARED]?: string };

/** `sql` must be `COPY <table> (<cols>) FROM STDIN (FORMAT binary)` built from validated identifiers. */
export function copyFromStdinQuery(sql: string, payload: CopyPayload): CompiledQuery {
  if (!/^COPY\s.+\sFROM\s+STDIN\s*\(FORMAT binary\)$/is.test(sql)) {
    throw new Error(`not a binary COPY FROM STDIN statement: ${sql}`);
  }
  return { ...CompiledQuery.raw(sql), [COPY_PAYLOAD]: payload } as Special;
}

export function scriptQuery(sql: string): CompiledQuery {
  return { ...CompiledQuery.raw(sql), [SCRIPT]: true } as Special;
}

/**
 * `q`, to be run as a named prepared statement where the driver can (the
 * server's: parsed and analysed once per pooled session, then only bound
 * and executed; PGlite's driver runs it as any other query). The name is
 * the hash of the SQL text, so one text is one statement and two texts
 * never share a name. Meant for a few statement shapes run very often:
 * each stays prepared for the life of its session.
 */
export function preparedQuery(q: CompiledQuery): CompiledQuery {
  const name = `embctl_${createHash('sha256').update(q.sql).digest('hex').slice(0, 24)}`;
  return { ...q, [PREPARED]: name } as Special;
}

export function preparedNameOf(q: CompiledQuery): string | undefined {
  return (q as Special)[PREPARED];
}

export function copyPayloadOf(q: CompiledQuery): CopyPayload | undefined {
  return (q as Special)[COPY_PAYLOAD];
}

export function isScript(q: CompiledQuery): boolean {
  return (q as Special)[SCRIPT] === true;
}

/** `begin [isolation level …] [read only|read write]` (values from Kysely's validated enums). */
export function beginStatement(settings: TransactionSettings): string {
  let sql = 'begin';
  if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode) sql += ` ${settings.accessMode}`;
  return sql;
}
