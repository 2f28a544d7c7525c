import type { CompiledQuery, Kysely } from 'kysely';
import { sessionSettingsQuery } from '../../src/db/index.js';
import { ON_CITUS } from './db.js';
import { QueryVector } from '../../src/db/query-vector.js';

/**
 * The EXPLAIN text of a compiled query. On Citus, a shard's plan cannot be
 * shown for a statement with parameters ("Could not get remote plan"), so
 * there the test's own values are written into the statement as literals.
 */
export async function explainText(
  db: Kysely<any>,
  q: CompiledQuery,
  settings: Record<string, string> = {},
): Promise<string> {
  const statement = ON_CITUS ? inlineParameters(q) : q;
  // In a transaction, sessionSettingsQuery sets them locally (on Citus, on the shards too).
  const plan = await db.transaction().execute(async (trx) => {
    await trx.executeQuery(sessionSettingsQuery(settings));
    return trx.executeQuery<{ 'QUERY PLAN': string }>({ ...statement, sql: `EXPLAIN ${statement.sql}` });
  });
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

function inlineParameters(q: CompiledQuery): CompiledQuery {
  const literal = (v: unknown) => {
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
    if (v instanceof QueryVector) return `'${v.text()}'`;
    throw new Error(`explainText: cannot inline a ${typeof v} parameter`);
  };
  const sql = q.sql.replace(/\$(\d+)/g, (_, n: string) => literal(q.parameters[Number(n) - 1]));
  return { ...q, sql, parameters: [] };
}

/** A table's name in a plan: on Citus, a shard's, with its shard id after it. */
export function planName(table: string): string {
  return ON_CITUS ? `${table}_\\d+` : table;
}
