import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { freshDb, ON_SERVER, type TestDb } from './support/db.js';
import { fillVersion, ingestDocs, recordGate, register, syntheticDocs } from './support/fill-version.js';
import { activate, retire, rollback, planRetire } from '../src/lifecycle/index.js';
import { createSearcher } from '../src/search/index.js';
import {
  annIndexName,
  annIndexState,
  annIndexStatement,
  partitionExists,
  partitionTable,
} from '../src/partitions/partition.js';
import { requireVersion, type VersionRow } from '../src/versions/store.js';
import { checkReadiness } from '../src/lifecycle/readiness.js';
import { buildIndex } from '../src/backfill/index-build.js';
import { silentLogger } from '../src/log/logger.js';
import { InputError, RefusedError } from '../src/errors.js';

let db: TestDb;
const deps = { actor: 'tester' };

before(async () => {
  db = await freshDb();
  await ingestDocs(db, syntheticDocs(60));
  for (const [key, enc] of [
    ['a', 'hash:words-256'],
    ['b', 'hash:mixed-384'],
    ['nogate', 'hash:words-32'],
    ['failed', 'hash:words-256'],
    ['partial', 'hash:words-256'],
    ['noindex', 'hash:words-256'],
    ['old', 'hash:words-256'],
    ['exact', 'hash:words-256'],
  ] as const) {
    await register(db, { key, encoder: enc, ...(key === 'exact' && { index: 'none' as const }) });
  }
  for (const key of ['a', 'b', 'nogate', 'failed', 'old', 'exact']) await fillVersion(db, key);
  await fillVersion(db, 'partial', { only: (_id, i) => i % 3 !== 0 });
  await fillVersion(db, 'noindex', { index: false });
  for (const key of ['a', 'b', 'partial', 'noindex', 'old', 'exact']) await recordGate(db, key, true);
  await recordGate(db, 'failed', true);
  await recordGate(db, 'failed', false); // the latest gated run counts
});
after(async () => {
  await db?.destroy();
});

async function activeKeys(): Promise<string[]> {
  return (
    await db.kysely.selectFrom('embedding_versions').select('version_key').where('active', '=', true).execute()
  ).map((r) => r.version_key);
}
async function events(key?: string) {
  let q = db.kysely
    .selectFrom('version_events')
    .selectAll()
    .where('event', 'in', ['activated', 'rolled_back', 'retired'])
    .orderBy('id');
  if (key) q = q.where('version_key', '=', key);
  return q.execute();
}
/**
 * An index PostgreSQL itself marks invalid. On a server: the version's real
 * CREATE INDEX CONCURRENTLY, cancelled while it waits for a writer (it has
 * already put the invalid index in the catalog). On PGlite, one session cannot
 * cancel itself mid-statement: a CREATE UNIQUE INDEX CONCURRENTLY under the ANN
 * index's name fails on duplicate values and leaves it invalid the same way.
 */
async function makeInvalidIndex(v: VersionRow): Promise<void> {
  const table = partitionTable(v.id);
  if (!ON_SERVER) {
    await assert.rejects(
      sql
        .raw(`CREATE UNIQUE INDEX CONCURRENTLY ${annIndexName(v.id)} ON ${table} (embedding_version_id)`)
        .execute(db.kysely),
      /could not create unique index/,
    );
    return;
  }
  const writer = new pg.Client({ connectionString: db.url });
  const builder = new pg.Client({ connectionString: db.url });
  await writer.connect();
  await builder.connect();
  try {
    await writer.query('begin');
    await writer.query(`delete from ${table} where false`); // holds a writer's lock: the build must wait for it
    const pid = (await builder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const building = builder.query(annIndexStatement(v, { concurrently: true })!).then(
      () => null,
      (e: Error) => e,
    );
    // Cancel once the build waits for the writer: its invalid index is in the catalog by then. While it
    // is still initializing (seen on Citus), a cancel can leave no index at all. Ten seconds at most.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const waiting = await sql<{
        phase: string;
      }>`select phase from pg_stat_progress_create_index where pid = ${pid}`.execute(db.kysely);
      const phase = waiting.rows[0]?.phase;
      if (phase !== undefined && (phase !== 'initializing' || Date.now() > deadline)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await sql`select pg_cancel_backend(${pid}::int)`.execute(db.kysely);
    const err = await building;
    assert.match(String(err?.message), /canceling statement/);
  } finally {
    await writer.query('rollback').catch(() => {});
    await writer.end();
    await builder.end();
  }
}

const refused = (re: RegExp) => (e: Error) => e instanceof RefusedError && re.test(e.message);

describe('activate', () => {
  test('activates in one transaction, records who, why and the previous version', async () => {
    const r = await activate(db, 'a', { ...deps, reason: 'first cut-over' });
    assert.deepEqual(r, { version: 'a', previous: null, changed: true, forced: false, overridden: [] });
    assert.deepEqual(await activeKeys(), ['a']);
    const ev = (await events('a')).at(-1)!;
    assert.equal(ev.event, 'activated');
    assert.equal(ev.actor, 'tester');
    assert.equal(ev.reason, 'first cut-over');
    assert.equal(ev.forced, false);
    assert.equal((ev.details as { previous: unknown }).previous, null);

    const again = await activate(db, 'a', deps);
    assert.equal(again.changed, false);
    assert.equal((await events('a')).length, 1, 'a no-op writes nothing');

    const r2 = await activate(db, 'b', deps);
    assert.equal(r2.previous, 'a');
    assert.deepEqual(await activeKeys(), ['b']);
    assert.equal(((await events('b')).at(-1)!.details as { previous: string }).previous, 'a');
  });

  test('refuses a version not fully backfilled', async () => {
    await assert.rejects(
      activate(db, 'partial', deps),
      refused(
        /cannot activate partial: version partial is not fully backfilled \(20 of 60 live chunks have no vector\): run embctl backfill partial; or override with --force/,
      ),
    );
  });
  test('refuses a version without its ANN index', async () => {
    await assert.rejects(activate(db, 'noindex', deps), refused(/has no hnsw index: run embctl backfill noindex/));
    // index kind none needs no index
    assert.equal((await activate(db, 'exact', deps)).changed, true);
    await activate(db, 'b', deps);
  });
  test('refuses a version whose ANN index is invalid (a really interrupted build); a rebuild repairs it', async () => {
    await register(db, { key: 'broken', encoder: 'hash:words-256' });
    const v = await fillVersion(db, 'broken', { index: false });
    await recordGate(db, 'broken', true);
    await makeInvalidIndex(v);
    assert.equal(await annIndexState(db.kysely, v.id), 'invalid');
    await assert.rejects(
      activate(db, 'broken', deps),
      refused(
        /cannot activate broken: the hnsw index of version broken is invalid \(a failed build\): run embctl backfill broken to rebuild it/,
      ),
    );
    assert.deepEqual(
      (await checkReadiness(db.kysely, v, { gate: true })).problems.map((p) => p.code),
      ['index_invalid'],
    );
    const r = await buildIndex(db, v, { logger: silentLogger() });
    assert.deepEqual([r.built, r.reason], [true, 'rebuilt']);
    assert.equal(await annIndexState(db.kysely, v.id), 'valid');
    assert.deepEqual((await checkReadiness(db.kysely, v, { gate: true })).problems, []);
  });

  test('refuses a version whose last gated evaluation failed, or that has none', async () => {
    await assert.rejects(
      activate(db, 'failed', deps),
      refused(/last gated evaluation of version failed .* failed: .*embctl evaluate --version failed --gate/),
    );
    await assert.rejects(
      activate(db, 'nogate', deps),
      refused(/version nogate has no gated evaluation: run embctl evaluate --version nogate --gate/),
    );
    assert.deepEqual(await activeKeys(), ['b'], 'a refusal changes nothing');
  });
  test('--force needs --reason, and is recorded', async () => {
    await assert.rejects(activate(db, 'failed', { ...deps, force: true }), InputError);
    const r = await activate(db, 'failed', { ...deps, force: true, reason: 'gate flaky, approved by ana' });
    assert.equal(r.forced, true);
    assert.deepEqual(
      r.overridden.map((p) => p.code),
      ['gate_failed'],
    );
    const ev = (await events('failed')).at(-1)!;
    assert.equal(ev.forced, true);
    assert.equal(ev.reason, 'gate flaky, approved by ana');
    assert.equal((ev.details as { previous: string }).previous, 'b');
    assert.deepEqual(await activeKeys(), ['failed']);
  });
  test('unknown versions are input errors', async () => {
    await assert.rejects(activate(db, 'nope', deps), InputError);
  });
});

describe('rollback', () => {
  test('goes back to the previous version from the audit trail, and toggles', async () => {
    // active: failed (previous b)
    const r = await rollback(db, deps);
    assert.deepEqual([r.version, r.previous, r.changed], ['b', 'failed', true]);
    assert.deepEqual(await activeKeys(), ['b']);
    const ev = (await events('b')).at(-1)!;
    assert.equal(ev.event, 'rolled_back');
    assert.equal((ev.details as { previous: string }).previous, 'failed');
    const back = await rollback(db, deps);
    assert.equal(back.version, 'failed', 'a second rollback undoes the first');
  });
  test('--to a version that was active before; refused for one that never was', async () => {
    const r = await rollback(db, { ...deps, to: 'a', reason: 'regression' });
    assert.deepEqual([r.version, r.previous], ['a', 'failed']);
    assert.deepEqual(await activeKeys(), ['a']);
    await assert.rejects(rollback(db, { ...deps, to: 'old' }), refused(/old: it was never active/));
  });
  test('refused to a retired version', async () => {
    await activate(db, 'old', deps); // previous a
    await activate(db, 'b', deps); // previous old
    await retire(db, 'old', deps);
    await assert.rejects(rollback(db, deps), refused(/cannot roll back to old: version old is retired/));
    await assert.rejects(rollback(db, { ...deps, to: 'old', force: true, reason: 'x' }), refused(/retired/));
    await assert.rejects(activate(db, 'old', { ...deps, force: true, reason: 'x' }), refused(/retired/));
    assert.deepEqual(await activeKeys(), ['b']);
  });
});

describe('retire', () => {
  test('refused for the active version', async () => {
    await assert.rejects(
      retire(db, 'b', deps),
      refused(/cannot retire b: it is the active version; activate another version first/),
    );
    await assert.rejects(planRetire(db, 'b'), RefusedError);
    assert.ok(await partitionExists(db.kysely, (await requireVersion(db.kysely, 'b')).id));
  });
  test('drops the partition and the batches, keeps the row and the events', async () => {
    const v = await requireVersion(db.kysely, 'a');
    await db.kysely.insertInto('backfill_batches').values({ embedding_version_id: v.id, plan_group: 1 }).execute();
    assert.equal((await planRetire(db, 'a')).vectors, 60);
    const before = (await db.kysely.selectFrom('version_events').select('id').where('version_key', '=', 'a').execute())
      .length;
    const r = await retire(db, 'a', { ...deps, reason: 'replaced by b' });
    assert.deepEqual(r, { version: 'a', changed: true, vectorsDropped: 60, batchesRemoved: 1 });
    assert.equal(await partitionExists(db.kysely, v.id), false);
    const after = await requireVersion(db.kysely, 'a');
    assert.equal(after.state, 'retired');
    assert.ok(after.retired_at instanceof Date);
    const evs = await db.kysely
      .selectFrom('version_events')
      .selectAll()
      .where('version_key', '=', 'a')
      .orderBy('id')
      .execute();
    assert.equal(evs.length, before + 1, 'history kept');
    assert.equal(evs.at(-1)!.event, 'retired');
    assert.equal(evs.at(-1)!.reason, 'replaced by b');
    assert.equal(
      (await db.kysely.selectFrom('backfill_batches').select('id').where('embedding_version_id', '=', v.id).execute())
        .length,
      0,
    );
    assert.equal((await retire(db, 'a', deps)).changed, false, 'retiring twice is a no-op');
    await assert.rejects(createSearcher(db).search({ query: 'x', version: 'a' }), refused(/version a is retired/));
  });
});

describe('buildIndex refusals', () => {
  test('refuses a retired version, and a rebuild of the active version without force; with force it rebuilds', async () => {
    const logger = silentLogger();
    const retired = await requireVersion(db.kysely, 'a'); // retired above
    assert.equal(retired.state, 'retired');
    await assert.rejects(
      buildIndex(db, retired, { logger }),
      refused(/^version a is retired: it has no partition to index$/),
    );
    const active = await requireVersion(db.kysely, 'b');
    assert.equal(active.active, true);
    await assert.rejects(
      buildIndex(db, active, { rebuild: true, logger }),
      refused(
        /^version b is active: a rebuild drops its index first, so searches would scan until it is built again; pass --force to do it anyway, or activate another version first$/,
      ),
    );
    assert.equal(await annIndexState(db.kysely, active.id), 'valid', 'the refused rebuild left the index alone');
    const kept = await buildIndex(db, active, { logger });
    assert.deepEqual([kept.built, kept.reason], [false, 'index already valid']);
    const rebuilt = await buildIndex(db, active, { rebuild: true, force: true, logger });
    assert.deepEqual([rebuilt.built, rebuilt.reason], [true, 'rebuilt']);
    assert.equal(await annIndexState(db.kysely, active.id), 'valid');
  });
});

describe('the one-active invariant under concurrent flips', () => {
  test('during 100 flips, readers always see exactly one active version, and every search holds exactly the results of the version it reports', async () => {
    await activate(db, 'b', deps);
    const searcher = createSearcher(db);
    const queries = ['planet orbit rocket', 'whale coral reef', 'recipe oven flour', 'guitar melody chord'];
    // Each version's own results, computed before any flip.
    const expected = new Map<string, string>();
    for (const version of ['exact', 'b']) {
      for (const q of queries)
        expected.set(
          `${version}|${q}`,
          JSON.stringify((await searcher.search({ query: q, k: 5, version })).hits.map((h) => h.chunkId)),
        );
    }
    assert.notEqual(
      expected.get(`exact|${queries[0]}`),
      expected.get(`b|${queries[0]}`),
      'the two versions must rank differently, or the check below proves nothing',
    );
    const seen = new Set<number>();
    const served = { exact: 0, b: 0 } as Record<string, number>;
    let flips = 0;
    let done = false;
    // Every loop yields to the event loop: on PGlite a query can resolve in microtasks alone, and a loop that never yields starves the others.
    const tick = () => new Promise((r) => setImmediate(r));
    const flipper = (async () => {
      for (let i = 0; i < 100; i++) {
        const r = await activate(db, i % 2 === 0 ? 'exact' : 'b', deps);
        if (r.changed) flips++;
        await tick();
      }
      done = true;
    })();
    const reader = async () => {
      while (!done) {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from embedding_versions where active`.execute(db.kysely);
        seen.add(Number(rows[0]!.n));
        await tick();
      }
    };
    let searches = 0;
    const searching = async (offset: number) => {
      for (let i = offset; !done || searches < 200; i++) {
        const q = queries[i % queries.length]!;
        const r = await searcher.search({ query: q, k: 5 });
        assert.equal(
          JSON.stringify(r.hits.map((h) => h.chunkId)),
          expected.get(`${r.version}|${q}`),
          `a response claims ${r.version} but holds other results`,
        );
        served[r.version] = (served[r.version] ?? 0) + 1;
        searches++;
        await tick();
      }
    };
    await Promise.all([flipper, reader(), reader(), searching(0), searching(1), searching(2)]);
    await searcher.close();
    assert.deepEqual([...seen], [1], `readers saw ${[...seen].join(', ')} active versions`);
    assert.equal(flips, 100);
    assert.ok(served.exact! > 0 && served.b! > 0, `both versions served during the flips: ${JSON.stringify(served)}`);
    assert.deepEqual(await activeKeys(), ['b']);
  });
});

describe('activation and shadowing', () => {
  test('activating the shadowed candidate ends its shadow, with an event', async () => {
    const { startShadow, currentShadow } = await import('../src/shadow/config.js');
    await register(db, { key: 'shadowed', encoder: 'hash:mixed-384' });
    await fillVersion(db, 'shadowed');
    await recordGate(db, 'shadowed', true);
    await startShadow(db, { key: 'shadowed', sampleRate: 0.5 }, deps);
    assert.equal((await currentShadow(db.kysely))?.versionKey, 'shadowed');
    await activate(db, 'shadowed', { ...deps, reason: 'shadow looked good' });
    assert.equal(await currentShadow(db.kysely), null, 'the new active version is no longer shadowed');
    const ev = await db.kysely
      .selectFrom('version_events')
      .select(['event', 'reason'])
      .where('version_key', '=', 'shadowed')
      .where('event', '=', 'shadow_stopped')
      .execute();
    assert.equal(ev.length, 1);
    assert.match(ev[0]!.reason ?? '', /activated/);
  });
});
