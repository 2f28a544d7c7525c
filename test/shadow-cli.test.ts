import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, targetEnv, type CliResult } from './support/cli.js';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';

const shadowCli = (args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> => runCli(args, { env });

let target: TestDbTarget;
let env: NodeJS.ProcessEnv;

before(async () => {
  target = await freshTarget();
  env = { ...targetEnv(target), EMBCTL_ACTOR: 'cli-tester' };
  const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger() });
  try {
    await migrate(db, { logger: silentLogger() });
    const ids: Record<string, number> = {};
    for (const [key, active] of [
      ['prim', true],
      ['cand', false],
    ] as const) {
      const r = await db.kysely
        .insertInto('embedding_versions')
        .values({
          version_key: key,
          encoder_spec: 'hash:test',
          encoder_name: 'hash:test',
          encoder_revision: '1',
          encoder_settings: '{}',
          encoder_identity: 'a'.repeat(64),
          dimensions: 3,
          distance_metric: 'cosine',
          index_kind: 'none',
          index_params: '{}',
          index_storage: 'vector',
          state: 'ready',
          active,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      ids[key] = r.id;
    }
    const now = Date.now();
    const rows = [
      { seg: 'a', overlap: 1, rbo: 1, q: 'alpha', text: 'alpha query' },
      { seg: 'a', overlap: 0.5, rbo: 0.4, q: 'beta', text: null },
      { seg: 'b', overlap: 0.3, rbo: 0.2, q: 'gamma', text: 'gamma query' },
    ];
    await db.kysely
      .insertInto('shadow_queries')
      .values(
        rows.map((r, i) => ({
          created_at: new Date(now - (i + 1) * 60_000),
          query_sha256: createHash('sha256').update(r.q).digest(),
          query_text: r.text,
          segment: r.seg,
          primary_version_id: ids.prim!,
          candidate_version_id: ids.cand!,
          k: 10,
          primary_ids: [1, 2, 3],
          candidate_ids: [3, 2, 1],
          overlap_at_k: r.overlap,
          jaccard: r.overlap,
          rbo: r.rbo,
          primary_ms: 10,
          candidate_ms: 10 + i * 10,
        })),
      )
      .execute();
    // One row two days old: outside --since 24h, inside --since 7d.
    await db.kysely
      .insertInto('shadow_queries')
      .values({
        created_at: new Date(now - 2 * 86_400_000),
        query_sha256: createHash('sha256').update('old').digest(),
        query_text: null,
        segment: 'a',
        primary_version_id: ids.prim!,
        candidate_version_id: ids.cand!,
        k: 10,
        primary_ids: [1],
        candidate_ids: [9],
        overlap_at_k: 0,
        jaccard: 0,
        rbo: 0,
        primary_ms: 1,
        candidate_ms: 1,
      })
      .execute();
  } finally {
    await db.close();
  }
});
after(async () => {
  await target?.destroy();
});

describe('embctl shadow (CLI)', () => {
  test('start, status, report --json, stop', async () => {
    const start = await shadowCli(['shadow', 'start', 'cand', '--sample', '0.25', '--k', '10', '--json'], env);
    assert.equal(start.code, 0, start.stderr);
    const started = JSON.parse(start.stdout);
    assert.equal(started.target.versionKey, 'cand');
    assert.equal(started.target.sampleRate, 0.25);

    const status = await shadowCli(['shadow', 'status', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).shadow.versionKey, 'cand');

    const rep = await shadowCli(['shadow', 'report', '--json'], env);
    assert.equal(rep.code, 0, rep.stderr);
    const r = JSON.parse(rep.stdout);
    assert.equal(r.candidate.key, 'cand');
    assert.equal(r.config.sampleRate, 0.25);
    assert.equal(r.overall.count, 3);
    assert.ok(Math.abs(r.overall.overlap.mean - 0.6) < 1e-9);
    assert.deepEqual(
      r.segments.map((s: { segment: string; count: number }) => [s.segment, s.count]),
      [
        ['a', 2],
        ['b', 1],
      ],
    );
    assert.equal(r.lowestOverlap[0].text, 'gamma query');
    assert.equal(r.lowestOverlap[1].text, null);
    assert.equal(r.lowestOverlap[1].sha256, createHash('sha256').update('beta').digest('hex'));
    assert.equal(r.distributions.overlap.length, 3);
    assert.equal(r.dropped, 0);

    const week = JSON.parse(
      (await shadowCli(['shadow', 'report', '--since', '7d', '--version', 'cand', '--json'], env)).stdout,
    );
    assert.equal(week.overall.count, 4);
    const human = await shadowCli(['shadow', 'report', '--since', '30m'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /overall\s+3/);
    assert.match(human.stdout, /gamma query/);
    assert.match(human.stdout, /dropped: 0 /);

    const stop = await shadowCli(['shadow', 'stop', '--json'], env);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(JSON.parse(stop.stdout).stopped.versionKey, 'cand');
  });

  test('refusals exit 1, bad input exits 2', async () => {
    const active = await shadowCli(['shadow', 'start', 'prim', '--sample', '0.1'], env);
    assert.equal(active.code, 1);
    assert.match(active.stderr, /prim is the active version/);
    const zero = await shadowCli(['shadow', 'start', 'cand', '--sample', '0'], env);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /above 0 and at most 1/);
    const since = await shadowCli(['shadow', 'report', '--since', '5x'], env);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /not a duration/);
    const unknown = await shadowCli(['shadow', 'report', '--version', 'nope'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no version "nope"/);
  });
});
