import { CompiledQuery } from 'kysely';

/**
 * Session settings (GUCs) kept per connection, so that a statement needs no
 * transaction of its own for them. `sessionSettingsQuery` carries the values
 * wanted (`withSessionSettings`: the values, and the statement to run after
 * them); the driver's connection compares them with what it last set on
 * that session and sends `set_config(name, value, false)` for the ones that
 * differ, or nothing at all when none does.
 *
 * What a connection remembers stays true because these names are set at
 * session level only through these queries: others set them with SET LOCAL
 * (`set_config(..., true)`) inside their transactions, which ends with the
 * transaction and leaves the session value as it was. Inside a transaction
 * the query itself sets them locally, every time, and remembers nothing
 * (a rollback would undo a session-level SET made there). A value is
 * remembered only after the server accepted it; a replaced connection (the
 * pool opened a new one) starts with nothing remembered.
 */
const SESSION_SETTINGS = Symbol('embctl.sessionSettings');
const SETTINGS_ONLY = Symbol('embctl.settingsOnly');

/** Setting name → value, e.g. `{ 'hnsw.ef_search': '200' }`. */
export type SettingValues = Readonly<Record<string, string>>;

type Special = CompiledQuery & { [SESSION_SETTINGS]?: SettingValues; [SETTINGS_ONLY]?: true };

const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

function checkNames(values: SettingValues): void {
  for (const name of Object.keys(values))
    if (!SETTING_NAME.test(name)) throw new Error(`not a setting name: ${JSON.stringify(name)}`);
}

/** Bring the session to `values`, and run nothing else. */
export function sessionSettingsQuery(values: SettingValues): CompiledQuery {
  checkNames(values);
  // The SQL is what runs when a driver does not know the query (sets everything, locally).
  return { ...setConfig(Object.entries(values), true), [SESSION_SETTINGS]: values, [SETTINGS_ONLY]: true } as Special;
}

/**
 * `q`, run right after bringing its session to `values` (as
 * `sessionSettingsQuery` does, on the same connection), in one call through
 * Kysely: the search hot path, which then needs no connection of its own
 * for two calls. Only this package's drivers know it: another driver would
 * run `q` with the session's current values.
 */
export function withSessionSettings(q: CompiledQuery, values: SettingValues): CompiledQuery {
  checkNames(values);
  return { ...q, [SESSION_SETTINGS]: values } as Special;
}

function setConfig(entries: [string, string][], local: boolean): CompiledQuery {
  const calls = entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, ${local ? 'true' : 'false'})`);
  return CompiledQuery.raw(`select ${calls.join(', ')}`, entries.flat());
}

const SETTING_VALUE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * `SET LOCAL` statements, which Citus sends on to the workers of this
 * transaction (its sessions open with citus.propagate_set_commands = local:
 * db/open.ts). Names and values are checked.
 */
function setLocalStatements(entries: [string, string][]): CompiledQuery {
  const sets = entries.map(([name, value]) => {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) {
      throw new Error(`not a setting for SET LOCAL: ${JSON.stringify(name)} = ${JSON.stringify(value)}`);
    }
    return `set local ${name} to '${value}'`;
  });
  // Sessions run multi-shard statements sequentially (db/open.ts); a statement
  // with query settings reads only, and its shards are scanned in parallel.
  return CompiledQuery.raw([`set local citus.multi_shard_modify_mode to 'parallel'`, ...sets].join('; '));
}

/** What one session has been set to through `sessionSettingsQuery`, and whether it is inside a transaction. */
export class SessionSettingsState {
  readonly #known = new Map<string, string>();
  readonly #distributed: boolean;
  #inTransaction = false;

  /**
   * `distributed`: a Citus coordinator. Its workers see a setting only when
   * it is made with a SET LOCAL statement under
   * `citus.propagate_set_commands = 'local'` (neither a session-level SET nor
   * `set_config` reaches a shard's query), so there the settings are SET LOCAL
   * statements, and only inside a transaction: outside one they would stay on
   * the coordinator, and a query on the shards would run with the workers'
   * defaults, so the request is refused.
   */
  constructor(distributed = false) {
    this.#distributed = distributed;
  }

  transactionStarted(): void {
    this.#inTransaction = true;
  }

  transactionEnded(): void {
    this.#inTransaction = false;
  }

  /**
   * For a driver's connection, before it runs `q`: bring the session to the
   * settings `q` carries, if any, by `run`ning the statement `plan` makes.
   * True when `q` is a `sessionSettingsQuery`: nothing else to run.
   */
  async applyCarried(q: CompiledQuery, run: (statement: CompiledQuery) => Promise<unknown>): Promise<boolean> {
    const wanted = (q as Special)[SESSION_SETTINGS];
    if (!wanted) return false;
    const plan = this.plan(wanted);
    if (plan) {
      await run(plan.query);
      plan.applied();
    }
    return (q as Special)[SETTINGS_ONLY] === true;
  }

  /**
   * The statement that brings the session to `wanted` (undefined: it is
   * there already), and what to call once the server has run it.
   */
  plan(wanted: SettingValues): { query: CompiledQuery; applied: () => void } | undefined {
    const entries = Object.entries(wanted);
    if (this.#distributed) {
      if (!this.#inTransaction) {
        if (entries.length === 0) return undefined;
        throw new Error('on a Citus cluster, query settings reach the shards only inside a transaction (SET LOCAL)');
      }
      return { query: setLocalStatements(entries), applied: () => {} };
    }
    if (this.#inTransaction) return entries.length ? { query: setConfig(entries, true), applied: () => {} } : undefined;
    const differ = entries.filter(([name, value]) => this.#known.get(name) !== value);
    if (differ.length === 0) return undefined;
    return {
      query: setConfig(differ, false),
      applied: () => {
        for (const [name, value] of differ) this.#known.set(name, value);
      },
    };
  }
}
