import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { freshDb, freshTarget, type TestDb, type TestDbTarget } from './support/db.js';
import { runCli, spawnCli, targetEnv } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import { waitFor } from './support/serve-process.js';
import { openDatabase } from '../src/db/open.js';
import { ingest } from '../src/ingest/index.js';
import { registerVersion } from '../src/versions/register.js';
import { markDeadRuns } from '../src/backfill/dead-runs.js';
import { reclaimDeadLocal } from '../src/backfill/leases.js';
import { processTag } from '../src/util/process-identity.js';
import { isProcessAlive } from '../src/util/process-alive.js';
import { loadReportModel } from '../src/upgrade-report/index.js';
import { silentLogger } from '../src/log/logger.js';

// A backfill killed with -9 leaves its backfill_runs row `running`; the
// next command that looks at it closes it as failed with the totals its
// committed batches hold, so the report's backfill cost has what was paid.

const logger = silentLogger();

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('dead backfill runs', () => {
  let db: TestDb;
  before(async () => {
    db = await freshDb();
    await ingest(db, [writeCorpus(20, { seed: 2 })], {}, { logger });
    await registerVersion(db, { key: 'v1', encoder: 'hash:words-32' }, { actor: 'tester', logger, env: {} });
  });
  after(async () => {
    await db?.destroy();
  });

  test('a run whose pid is gone on this host, or whose heartbeat expired, is failed with its committed totals; live runs are left alone', async () => {
    const k = db.kysely;
    const run = (
      worker: string,
      heartbeatAgo: string,
      price: number | null,
      flushed = { embedded: 0, tokens: 0, cost: 0 },
    ) =>
      sql<{
        id: number;
      }>`insert into backfill_runs (embedding_version_id, worker, heartbeat_at, price_per_mtok, embedded, tokens, cost_usd)
        values (1, ${worker}, now() - ${heartbeatAgo}::interval, ${price}, ${flushed.embedded}, ${flushed.tokens}, ${flushed.cost}) returning id`
        .execute(k)
        .then((r) => Number(r.rows[0]!.id));
    const batch = (runId: number, embedded: number, tokens: number) =>
      sql`insert into backfill_batches (embedding_version_id, plan_group, status, embedded, reused, tokens, run_id)
        values (1, 1, 'done', ${embedded}, 1, ${tokens}, ${runId})`.execute(k);

    const killed = await run(`${hostname()}:${deadPid()}:aa`, '1 second', 20);
    await batch(killed, 10, 500);
    await batch(killed, 5, 300);
    // Flushed more tokens than it committed (a batch paid for but not written): the larger stays.
    const flushedMore = await run(`${hostname()}:${deadPid()}:bb`, '1 second', 20, {
      embedded: 3,
      tokens: 900,
      cost: 0.018,
    });
    await batch(flushedMore, 3, 400);
    const silent = await run('elsewhere:4242:cc', '10 minutes', null);
    await batch(silent, 7, 70);
    const alive = await run(`${hostname()}:${process.pid}:dd`, '1 second', 20);
    const remoteAlive = await run('elsewhere:4343:ee', '5 seconds', 20);

    assert.equal(await markDeadRuns(k), 3);
    const rows = new Map(
      (
        await sql<{
          id: number;
          status: string;
          embedded: number;
          reused: number;
          tokens: number;
          cost_usd: number;
          error: string | null;
          finished_at: Date | null;
        }>`
      select id, status, embedded, reused, tokens, cost_usd, error, finished_at from backfill_runs`.execute(k)
      ).rows.map((r) => [Number(r.id), r]),
    );
    const k1 = rows.get(killed)!;
    assert.equal(k1.status, 'failed');
    assert.deepEqual([Number(k1.embedded), Number(k1.reused), Number(k1.tokens)], [15, 2, 800]);
    assert.ok(Math.abs(Number(k1.cost_usd) - (800 * 20) / 1e6) < 1e-12, `cost ${k1.cost_usd}`);
    assert.match(k1.error!, /process \d+ on .* is gone/);
    assert.ok(k1.finished_at, 'finished at its last heartbeat');
    const k2 = rows.get(flushedMore)!;
    assert.deepEqual([k2.status, Number(k2.embedded), Number(k2.tokens)], ['failed', 3, 900]);
    assert.ok(Math.abs(Number(k2.cost_usd) - 0.018) < 1e-12);
    const s = rows.get(silent)!;
    assert.deepEqual([s.status, Number(s.embedded), Number(s.tokens), Number(s.cost_usd)], ['failed', 7, 70, 0]);
    assert.match(s.error!, /no heartbeat/);
    assert.equal(rows.get(alive)!.status, 'running');
    assert.equal(rows.get(remoteAlive)!.status, 'running');
    assert.equal(await markDeadRuns(k), 0, 'idempotent');
  });

  test(
    'a pid now used by another process (its start time differs) counts as gone, for runs and for leases',
    { skip: processTag(process.pid) ? false : 'process start times are not readable on this OS' },
    async () => {
      const k = db.kysely;
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
      try {
        const pid = other.pid!;
        const reused = `${hostname()}:${pid}:deadbeef-aaaaaa`;
        const same = `${hostname()}:${pid}:${processTag(pid)}-bbbbbb`;
        const ids = [];
        for (const worker of [reused, same]) {
          ids.push(
            Number(
              (
                await sql<{
                  id: number;
                }>`insert into backfill_runs (embedding_version_id, worker) values (1, ${worker}) returning id`.execute(
                  k,
                )
              ).rows[0]!.id,
            ),
          );
          await sql`insert into backfill_batches (embedding_version_id, plan_group, status, locked_by, locked_until) values (1, 2, 'pending', ${`${worker}/1`}, now() + interval '1 hour')`.execute(
            k,
          );
        }
        assert.equal(await markDeadRuns(k), 1);
        const status = async (id: number) =>
          (await sql<{ status: string }>`select status from backfill_runs where id = ${id}`.execute(k)).rows[0]!.status;
        assert.equal(await status(ids[0]!), 'failed');
        assert.equal(await status(ids[1]!), 'running', 'the pid still belongs to the process that wrote it');
        assert.equal(await reclaimDeadLocal(k, 1, hostname(), isProcessAlive), 1);
        const leases = (
          await sql<{
            locked_by: string;
            expired: boolean;
          }>`select locked_by, locked_until < now() as expired from backfill_batches where plan_group = 2`.execute(k)
        ).rows;
        assert.deepEqual(
          new Map(leases.map((l) => [l.locked_by, l.expired])),
          new Map([
            [`${reused}/1`, true],
            [`${same}/1`, false],
          ]),
        );
      } finally {
        other.kill('SIGKILL');
      }
    },
  );
});

describe('a backfill killed with -9', () => {
  let target: TestDbTarget;
  before(async () => {
    target = await freshTarget();
    const env = targetEnv(target);
    for (const args of [
      ['migrate'],
      ['ingest', writeCorpus(800, { seed: 21 })],
      ['versions', 'register', 'v1', '--encoder', 'hash:words-256'],
    ]) {
      const r = await runCli(args, { env, timeoutMs: 600_000 });
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await target?.destroy();
  });

  test('is closed as failed by the next command, and the report counts what it committed, cost included', async () => {
    // Slow (2 batches/s) so it is killed mid-way; progress is logged (not a terminal) every 5 s.
    const child = spawnCli(
      ['backfill', 'v1', '--workers', '1', '--batch-size', '10', '--rpm', '120', '--price-per-mtok', '20'],
      { env: { ...targetEnv(target), EMBCTL_LOG_LEVEL: 'info' } },
    );
    let exited = false;
    void child.exited.then(() => (exited = true));
    await waitFor(
      'progress past 30 chunks',
      async () => {
        const done = child.out.stderr
          .split('\n')
          .filter((l) => l.includes('"progress"'))
          .map((l) => Number((JSON.parse(l) as { doneChunks?: number }).doneChunks ?? 0));
        return Math.max(0, ...done) >= 30 ? true : undefined;
      },
      {
        check: () => {
          if (exited) throw new Error(`the backfill ended: ${child.out.stderr}`);
        },
      },
    );
    child.child.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');

    const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger });
    try {
      const model = await loadReportModel(db, { candidate: 'v1' });
      const b = model.backfill.find((x) => x.versionKey === 'v1')!;
      const committed = (
        await sql<{ embedded: number; tokens: number }>`
        select coalesce(sum(embedded), 0)::int as embedded, coalesce(sum(tokens), 0)::int as tokens from backfill_batches where status = 'done'`.execute(
          db.kysely,
        )
      ).rows[0]!;
      assert.ok(committed.embedded >= 30, `committed ${committed.embedded}`);
      assert.equal(b.running, false, 'no run is left running');
      assert.equal(b.lastStatus, 'failed');
      assert.equal(b.embedded, committed.embedded, 'embedded = what was committed');
      assert.ok(b.tokens >= committed.tokens, `tokens ${b.tokens} >= committed ${committed.tokens}`);
      assert.ok(
        b.costUsd >= (committed.tokens * 20) / 1e6 - 1e-12 && b.costUsd > 0,
        `cost ${b.costUsd} covers the committed tokens`,
      );
    } finally {
      await db.close();
    }
  });
});
