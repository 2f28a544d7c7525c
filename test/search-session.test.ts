import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { freshDb, ON_SERVER, type TestDb } from './support/db.js';
import { fillVersion, ingestDocs, register, syntheticDocs } from './support/fill-version.js';
import { createSearcher, calibrateVersion, type Searcher } from '../src/search/index.js';
import { knobSettings } from '../src/search/knobs.js';
import { openDatabase, sessionSettingsQuery, withSessionSettings, type Db } from '../src/db/index.js';
import { silentLogger } from '../src/log/index.js';
import { RefusedError } from '../src/errors.js';
import { retire } from '../src/lifecycle/index.js';
import { partitionTable } from '../src/partitions/index.js';
import { encoderForVersion, requireVersion } from '../src/versions/index.js';

/**
 * A search sets its ANN settings as session settings of the connection it
 * runs on, only when they differ from what that connection has, and needs
 * no transaction. These tests run on a database with ONE connection (PGlite
 * has only one; on a server, a second pool of size 1 on the same database),
 * so the session they look at is the one the searches ran on.
 */
let db: TestDb;
let one: Db;
const searchers: Searcher[] = [];
const searcher = (on: Db, opts: Parameters<typeof createSearcher>[1] = {}) => {
  const s = createSearcher(on, opts);
  searchers.push(s);
  return s;
};

before(async () => {
  db = await freshDb();
  await ingestDocs(db, syntheticDocs(200));
  await register(db, { key: 'a', encoder: 'hash:words-256' });
  await fillVersion(db, 'a');
  one = ON_SERVER
    ? await openDatabase({ databaseUrl: db.url, homeDir: db.homeDir, logger: silentLogger(), poolSize: 1 })
    : db;
});
after(async () => {
  for (const s of searchers) await s.close();
  if (one && one !== db) await one.close();
  await db?.destroy();
});

const setting = async (k: Kysely<any>, name: string) =>
  (await sql<{ v: string }>`select current_setting(${name}) as v`.execute(k)).rows[0]!.v;

/** The statements sent to the database while `fn` runs (node-postgres on a server, PGlite's `query` embedded). */
async function statementsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const proto = (ON_SERVER ? pg.Client.prototype : PGlite.prototype) as unknown as {
    query: (...a: unknown[]) => unknown;
  };
  const original = proto.query;
  const seen: string[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const a = args[0];
    seen.push(typeof a === 'string' ? a : String((a as { text?: string })?.text ?? '?'));
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  // PGlite: the watcher's 1 s poll shares the database; it is not the search's.
  return seen.filter((s) => !/concat_ws/.test(s));
}

/** Until the searcher's watcher receives changes (LISTEN on a server, its first poll on PGlite). */
async function listening(s: Searcher): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (s.activeSource() !== 'listening') {
    assert.ok(Date.now() < deadline, `the watcher never connected (${s.activeSource()})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('search session settings', () => {
  test('a search with efSearch does not leak it: the next search without one runs at the default', async () => {
    const s = searcher(one);
    const q = 'whale coral reef';
    const first = await s.search({ query: q, version: 'a', k: 5, efSearch: 7 });
    assert.equal(first.efSearch, 7);
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '7', 'a session setting of the one connection');
    const second = await s.search({ query: q, version: 'a', k: 5 });
    assert.equal(second.efSearch, 200);
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '200', 'the next search set its own default');
    // Another searcher (its own per-process knobs) on the same connection states all of its settings too.
    await searcher(one, { knobs: { iterativeScan: true, maxScanTuples: 500 } }).search({ query: q, version: 'a' });
    assert.equal(await setting(one.kysely, 'hnsw.iterative_scan'), 'relaxed_order', 'forced on without a filter');
    assert.equal(await setting(one.kysely, 'hnsw.max_scan_tuples'), '500');
    await s.search({ query: q, version: 'a' });
    assert.equal(await setting(one.kysely, 'hnsw.iterative_scan'), 'off', 'by default off without a filter');
    await s.search({ query: q, version: 'a', filters: { lang: 'en' } });
    assert.equal(await setting(one.kysely, 'hnsw.iterative_scan'), 'relaxed_order', 'by default on with a filter');
    assert.equal(await setting(one.kysely, 'hnsw.max_scan_tuples'), '20000');
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '200');
  });

  test('inside a transaction the settings are local: they end with it, and the connection still knows its session values', async () => {
    const s = searcher(one);
    await s.search({ query: 'planet', version: 'a', efSearch: 33 });
    for (const end of ['commit', 'rollback'] as const) {
      const work = one.kysely.transaction().execute(async (trx) => {
        await trx.executeQuery(
          sessionSettingsQuery(knobSettings({ kind: 'hnsw' }, { efSearch: 300 }, 10, false).settings),
        );
        assert.equal(await setting(trx, 'hnsw.ef_search'), '300');
        if (end === 'rollback') throw new Error('roll back');
      });
      if (end === 'rollback') await assert.rejects(work, /roll back/);
      else await work;
      assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '33', `after ${end}: the session value again`);
    }
    await s.search({ query: 'planet', version: 'a' });
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '200');
  });

  test('settings the connection already has are not sent again', async () => {
    const s = searcher(one);
    await s.search({ query: 'garlic', version: 'a' });
    // Behind the searcher's back (nothing in embctl does this at session level):
    // a search that skips the settings it believes the session has leaves this.
    await sql`select set_config('hnsw.ef_search', '11', false)`.execute(one.kysely);
    await s.search({ query: 'garlic', version: 'a' });
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '11', 'unchanged settings were not sent');
    await s.search({ query: 'garlic', version: 'a', efSearch: 12 });
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '12', 'a changed one is');
    await s.search({ query: 'garlic', version: 'a' });
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '200');
  });

  test('a statement that carries its settings runs right after them, on the same connection; in a transaction they are local', async () => {
    const ef = (v: string) =>
      withSessionSettings(sql<{ v: string }>`select current_setting('hnsw.ef_search') as v`.compile(one.kysely), {
        'hnsw.ef_search': v,
      });
    const { rows } = await one.kysely.executeQuery<{ v: string }>(ef('77'));
    assert.deepEqual(rows, [{ v: '77' }], 'the statement ran, and saw its setting');
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '77', 'a session setting of the one connection');
    await one.kysely.transaction().execute(async (trx) => {
      assert.deepEqual((await trx.executeQuery<{ v: string }>(ef('78'))).rows, [{ v: '78' }]);
    });
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '77', 'the transaction set it locally');
    // A settings-only query still returns no rows.
    assert.deepEqual((await one.kysely.executeQuery(sessionSettingsQuery({ 'hnsw.ef_search': '200' }))).rows, []);
    assert.equal(await setting(one.kysely, 'hnsw.ef_search'), '200');
  });

  test('a warm search naming a version is one statement (watchActive: the version row is cached)', async () => {
    const s = searcher(db, { watchActive: true });
    await listening(s);
    // Warm every connection of the pool (each is set once) and the caches.
    const warm = await Promise.all(Array.from({ length: 12 }, () => s.search({ query: 'reef', version: 'a' })));
    assert.ok(warm.every((r) => r.version === 'a'));
    const statements = await statementsOf(() => s.search({ query: 'reef', version: 'a' }));
    assert.equal(statements.length, 1, `sent: ${statements.join(' | ')}`);
    assert.match(statements[0]!, /from chunk_embeddings_v\d+ e/);
    // Without watchActive the row is read per request (a standby's configuration).
    const perRequest = searcher(db);
    await perRequest.search({ query: 'reef', version: 'a' });
    const again = await statementsOf(() => perRequest.search({ query: 'reef', version: 'a' }));
    assert.equal(again.length, 2, `sent: ${again.join(' | ')}`);
    assert.match(again[0]!, /embedding_versions/);
  });

  test('a cached version row follows a change to it (calibration), through the watcher', async () => {
    const s = searcher(db, { watchActive: true });
    await listening(s);
    await assert.rejects(s.search({ query: 'reef', version: 'a', minScore: 0.5 }), /needs a calibration/);
    await calibrateVersion(db, 'a', { sample: 50, k: 5 });
    // Generous: a loaded machine is slow, not wrong (poll ~1 s on PGlite, one notification on a server).
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await s.search({ query: 'reef', version: 'a', minScore: 0 }).catch((e: Error) => e);
      if (!(r instanceof Error)) {
        assert.ok(r.hits.every((h) => typeof h.calibratedScore === 'number'));
        break;
      }
      assert.match(r.message, /needs a calibration/);
      assert.ok(Date.now() < deadline, 'calibration not seen');
      await new Promise((res) => setTimeout(res, 20));
    }
  });

  test('an unfiltered query is a prepared statement of the session (server), one per shape; filtered ones are planned each time', async () => {
    const s = searcher(one);
    const prepared = async () =>
      (
        await sql<{ name: string; statement: string }>`
          select name, statement from pg_prepared_statements where name like 'embctl\_%'`.execute(one.kysely)
      ).rows;
    const a = await requireVersion(one.kysely, 'a');
    for (const query of ['whale', 'planet orbit', 'coral reef']) await s.search({ query, version: 'a', k: 5 });
    const after = await prepared();
    if (!ON_SERVER) {
      // PGlite's driver has no named statements: each query is parsed and planned anew.
      assert.deepEqual(after, []);
      return;
    }
    assert.equal(after.length, 1, `one statement for three searches: ${JSON.stringify(after)}`);
    assert.ok(after[0]!.statement.includes(partitionTable(a.id)), after[0]!.statement);
    await s.search({ query: 'whale', version: 'a', k: 5, filters: { lang: 'en' } });
    await s.search({ query: 'whale', version: 'a', k: 8 });
    assert.deepEqual(await prepared(), after, 'a filtered search and another k added none');
    await s.search({ query: 'whale', version: 'a', k: 5, exact: true });
    await s.search({ query: 'coral', version: 'a', k: 5, exact: true });
    const withExact = await prepared();
    assert.equal(withExact.length, 2, 'the unfiltered exact query is a shape of its own, prepared once');
    assert.ok(withExact.some((x) => x.statement.includes('exact_scan')));
  });

  test('a version retired between resolving it and running its (prepared) query: the search says it is retired', async () => {
    await register(db, { key: 'gone', encoder: 'hash:words-256' });
    await fillVersion(db, 'gone');
    await searcher(one).search({ query: 'planet', version: 'gone' }); // its statement is prepared on the session
    let retired = false;
    const racing = searcher(one, {
      makeEncoder: async (v) => {
        const e = await encoderForVersion(v, {});
        return Object.assign(Object.create(e) as typeof e, {
          embed: async (texts: string[], o?: Parameters<typeof e.embed>[1]) => {
            // The version is retired after the searcher resolved it, before its query runs.
            if (v.version_key === 'gone' && !retired) {
              retired = true;
              await retire(db, 'gone', { actor: 'test', reason: 'race with a search' });
            }
            return e.embed(texts, o);
          },
        });
      },
    });
    await assert.rejects(
      racing.search({ query: 'planet', version: 'gone' }),
      (e: unknown) => e instanceof RefusedError && /version gone is retired/.test(e.message),
    );
    assert.ok(retired, 'the retire ran inside the search');
  });
});
