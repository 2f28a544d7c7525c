import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { runBackfill } from '../src/backfill/run.js';
import { recordEvaluation, type VersionEvaluation } from '../src/evaluate/index.js';
import { activate, retire, rollback } from '../src/lifecycle/index.js';
import { silentLogger } from '../src/log/logger.js';
import { startShadow, stopShadow } from '../src/shadow/config.js';
import { lifecycleIntervals } from '../src/upgrade-report/svg/timeline.js';
import type { ReportEvent } from '../src/upgrade-report/index.js';
import { EVENT_DETAILS, parseEventDetails } from '../src/versions/event-details.js';
import { requireVersion } from '../src/versions/store.js';
import { freshDb, type TestDb } from './support/db.js';
import { ingestDocs, register, syntheticDocs } from './support/fill-version.js';

let db: TestDb;
const deps = { actor: 'tester' };
const backfillDeps = { logger: silentLogger(), actor: 'tester', env: {} as Record<string, string> };

/** A passing gated evaluation, so that `activate` accepts the version. */
async function passGate(key: string): Promise<void> {
  const v = await requireVersion(db.kysely, key);
  const evaluation = {
    version: { id: v.id, key, encoder: v.encoder_spec },
    judgedSet: { name: 'tickets', sha256: 'c'.repeat(64), keyKind: 'document_id', source: 'tickets.jsonl', queries: 1 },
    ks: [10],
    measures: ['ndcg_cut_10'],
    runDepth: 10,
    overall: { segment: 'all', queries: 1, values: { ndcg_cut_10: 1 } },
    segments: [{ segment: '(none)', queries: 1, values: { ndcg_cut_10: 1 } }],
    perQuery: [{ id: 'q1', segment: '(none)', values: { ndcg_cut_10: 1 } }],
    run: new Map(),
    shortQueries: 0,
    timings: { retrieveMs: 1, scoreMs: 1 },
  } as unknown as VersionEvaluation;
  await recordEvaluation(db.kysely, { candidate: evaluation, gated: true, actor: 'tester' });
}

before(async () => {
  db = await freshDb();
  await ingestDocs(db, syntheticDocs(30));
  for (const key of ['a', 'b']) {
    await register(db, { key, encoder: 'hash:words-256' });
    await runBackfill(db, key, { workers: 1 }, backfillDeps);
    await passGate(key);
  }
  await activate(db, 'a', deps);
  await startShadow(db, { key: 'b', sampleRate: 0.5 }, deps);
  await stopShadow(db, { reason: 'enough' }, deps);
  await activate(db, 'b', deps);
  await rollback(db, deps);
  await rollback(db, { ...deps, to: 'b' });
  await register(db, { key: 'c', encoder: 'hash:words-32' });
  await retire(db, 'c', { ...deps, reason: 'not needed' });
});
after(async () => {
  await db?.destroy();
});

describe('version_events.details: one shape per event kind', () => {
  test('every event the lifecycle writes parses with the shape of its kind', async () => {
    const rows = await db.kysely
      .selectFrom('version_events')
      .select(['id', 'event', 'details'])
      .orderBy('id')
      .execute();
    const kinds = new Set(rows.map((r) => r.event));
    for (const kind of [
      'registered',
      'canary_recorded',
      'backfill_started',
      'backfill_completed',
      'index_built',
      'gate_passed',
      'activated',
      'rolled_back',
      'retired',
      'shadow_started',
      'shadow_stopped',
    ] as const) {
      assert.ok(kinds.has(kind), `the flow wrote a ${kind} event`);
    }
    for (const r of rows) {
      const parsed = EVENT_DETAILS[r.event].safeParse(r.details);
      assert.ok(parsed.success, `event ${r.id} (${r.event}): ${parsed.success ? '' : parsed.error.message}`);
    }
    const rolled = rows
      .filter((r) => r.event === 'rolled_back')
      .map((r) => parseEventDetails('rolled_back', r.details));
    assert.deepEqual(
      rolled.map((d) => [d?.previous, d?.to]),
      [
        ['b', null],
        ['a', 'b'],
      ],
    );
  });

  test('a detail of another shape is not read as this kind', async () => {
    assert.equal(parseEventDetails('activated', { previous: 'a' }), null, 'a row missing fields is foreign');
    assert.equal(parseEventDetails('rolled_back', { previous: 'a', forced: 'no', to: null }), null);
    assert.deepEqual(parseEventDetails('shadow_stopped', {}), {});
  });

  test('rollback reads the previous version from a typed activated event; a foreign one gives nothing to go back to', async () => {
    const b = await requireVersion(db.kysely, 'b');
    await sql`insert into version_events (embedding_version_id, version_key, event, actor, details)
      values (${b.id}, 'b', 'activated', 'someone-else', ${JSON.stringify({ previous: 42 })}::jsonb)`.execute(
      db.kysely,
    );
    await assert.rejects(rollback(db, deps), /nothing to roll back to: b was the first version activated/);
  });

  test('the timeline follows a rollback --to from the typed details', () => {
    const at = (h: number) => new Date(Date.UTC(2025, 0, 1, h)).toISOString();
    let id = 0;
    const ev = (versionKey: string, event: string, h: number, details: Record<string, unknown> = {}): ReportEvent => ({
      id: ++id,
      versionKey,
      event,
      actor: 'a',
      reason: null,
      forced: false,
      details,
      at: at(h),
    });
    const events = [
      ev('x', 'activated', 1, { previous: null, forced: false, live: 1, gateRun: 1 }),
      ev('y', 'activated', 2, { previous: 'x', forced: false, live: 1, gateRun: 2 }),
      ev('z', 'activated', 3, { previous: 'y', forced: false, live: 1, gateRun: 3 }),
      // Named for z (the active one) but with `to`: x becomes active, not y (what popping z would give).
      ev('z', 'rolled_back', 4, { previous: 'z', forced: false, to: 'x' }),
    ];
    const lanes = ['x', 'y', 'z'].map((key) => ({
      key,
      state: 'ready',
      active: key === 'x',
      createdAt: at(0),
      retiredAt: null,
    }));
    const active = lifecycleIntervals(events, lanes)
      .filter((iv) => iv.kind === 'active')
      .map(
        (iv) =>
          `${iv.versionKey}:${new Date(iv.start).getUTCHours()}-${iv.end === null ? 'now' : new Date(iv.end).getUTCHours()}`,
      );
    assert.deepEqual(active, ['x:1-2', 'y:2-3', 'z:3-4', 'x:4-now']);
    // The same event without a readable `to` (another shape) is read as a rollback from z: x does not come back at 4.
    const foreign = lifecycleIntervals([...events.slice(0, 3), ev('z', 'rolled_back', 4, { to: 'x' })], lanes)
      .filter((iv) => iv.kind === 'active')
      .map(
        (iv) =>
          `${iv.versionKey}:${new Date(iv.start).getUTCHours()}-${iv.end === null ? 'now' : new Date(iv.end).getUTCHours()}`,
      );
    assert.ok(!foreign.includes('x:4-now'), foreign.join(' '));
  });
});
