import { CompiledQuery, type TransactionSettings } from 'kysely';

/**
 * Two operations Kysely has no node for, carried through its ordinary
 * `executeQuery` path so that they run on the same connection (and in the
 * same transaction) as everything else:
 *  - a binary COPY ... FROM STDIN with its payload,
 *  - a multi-statement script (migrations), run with the simple protocol.
 * Each driver recognises them and runs them its own way.
 */
const COPY_PAYLOAD = Symbol('embctl.copyPayload');
const SCRIPT = Symbol('embctl.script');

/** A COPY payload: one buffer, or pieces streamed in order. */
export type CopyPayload = Buffer | Iterable<Buffer>;

type Special = CompiledQuery & { [COPY_PAYLOAD]?: CopyPayload; [SCRIPT]?: true };

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
