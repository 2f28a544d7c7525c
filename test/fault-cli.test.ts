import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SERVER_ONLY } from './support/db.js';
import { initCluster, type OwnCluster } from './support/own-cluster.js';
import { waitFor } from './support/serve-process.js';
import { runCli, spawnCli } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import { prepareDocument } from '../src/ingest/prepare.js';
import { DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE } from '../src/ingest/chunk.js';

// The CLI when PostgreSQL goes away in the middle of a command: backfill,
// sync, ingest and evaluate each print one line saying to run the same
// command again, exit 1, lose nothing and count nothing twice; the run is
// closed as failed once the database is back, and the rerun completes.
// Each command is held at a known point first (a lock it waits for), so
// the server stops while its work is in flight. PGlite has no server to lose.

let cluster: OwnCluster;
let url: string;
let env: NodeJS.ProcessEnv;
const dir = mkdtempSync(join(tmpdir(), 'embctl-fault-cli-'));
const DOCS = 2500;
const LOST = /^embctl: the database connection was lost \(.+\); run the same command again to resume$/;

async function q<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  return cluster.admin(async (c) => (await c.query<T>(text, values)).rows, 'fault_cli');
}

/** An admin session holding a lock in an open transaction (until the server stops). */
async function holdLock(statement: string, values: unknown[] = []): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, application_name: 'fault-lock' });
  c.on('error', () => {}); // the server is stopped under it
  await c.connect();
  await c.query('begin');
  await c.query(statement, values);
  return c;
}

/** Until an embctl backend waits for a lock (the command is held where we want it); fails at once if the command ends. */
async function commandBlocked(child: ReturnType<typeof spawnCli>): Promise<void> {
  let ended = false;
  void child.exited.then(() => (ended = true));
  await waitFor(
    'the command to wait for the held lock',
    async () => {
      const r = await q<{ n: string }>(
        `select count(*) as n from pg_stat_activity where application_name = 'embctl' and wait_event_type = 'Lock'`,
      );
      return Number(r[0]!.n) > 0 ? true : undefined;
    },
    {
      check: () => {
        if (ended) throw new Error(`the command ended before it was held: ${child.out.stderr}`);
      },
    },
  );
}

/** stderr at log level warn (the default on a terminal): what a person reads, warnings included. */
function messageLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim());
}

/** Stop the server under a held command, check its one line and exit code, start the server again. */
async function loseDatabase(
  args: string[],
  hold: () => Promise<pg.Client>,
  mode: 'fast' | 'immediate' = 'fast',
): Promise<void> {
  const lock = await hold();
  const child = spawnCli(args, { env });
  try {
    await commandBlocked(child);
  } catch (e) {
    child.child.kill('SIGKILL');
    await lock.end().catch(() => {});
    throw e;
  }
  await cluster.stop(mode);
  await lock.end().catch(() => {});
  const exit = await child.exited;
  await cluster.start();
  assert.equal(exit.code, 1, `exit code of embctl ${args.join(' ')}: ${child.out.stderr}`);
  assert.doesNotMatch(child.out.stderr, /Unhandled|\n\s+at |unexpected error/, 'no crash, no stack trace');
  const lines = messageLines(child.out.stderr);
  assert.equal(lines.length, 1, `one line, not: ${JSON.stringify(lines)}`);
  assert.match(lines[0]!, LOST);
}

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, { env, timeoutMs: 600_000 });
  assert.equal(r.code, 0, `embctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  if (SERVER_ONLY) return;
  cluster = await initCluster();
  url = await cluster.createDatabase('fault_cli');
  env = { DATABASE_URL: url, EMBCTL_HOME: join(dir, 'home'), EMBCTL_LOG_LEVEL: 'warn', EMBCTL_ACTOR: 'tester' };
  await cli(['migrate']);
});

after(async () => {
  await cluster?.destroy();
});

describe('CLI commands when PostgreSQL stops under them', () => {
  test(
    'ingest: one line, exit 1; batches before the loss are written, the rerun completes them, nothing twice',
    { skip: SERVER_ONLY },
    async () => {
      const corpus = writeCorpus(DOCS, { seed: 3 });
      // Document 1500's first chunk, inserted by an open transaction: ingest's
      // second batch of 1000 documents waits on its unique key.
      const lines = (await import('node:fs'))
        .readFileSync(corpus, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; text: string; metadata: Record<string, unknown> });
      const doc = lines[1500]!;
      const chunk = prepareDocument(
        { id: doc.id, text: doc.text, metadata: doc.metadata },
        { size: DEFAULT_CHUNK_SIZE, overlap: DEFAULT_CHUNK_OVERLAP },
      ).chunks[0]!;
      await loseDatabase(['ingest', corpus], () =>
        holdLock(
          `insert into document_chunks (semantic_key, document_id, chunk_no, content, content_sha256) values ($1, $2, 0, $3, $4)`,
          [chunk.key, doc.id, chunk.content, chunk.sha256],
        ),
      );
      const [written] = await q<{ docs: string; chunks: string }>(
        'select count(distinct document_id) as docs, count(*) as chunks from document_chunks',
      );
      assert.equal(Number(written!.docs), 1000, 'the batch before the held one was committed, the held one was not');
      const out = await cli(['--json', 'ingest', corpus]);
      const report = JSON.parse(out) as { documents: number; chunks: { new: number; unchanged: number } };
      assert.equal(report.documents, DOCS);
      const [after] = await q<{ docs: string; chunks: string; dup: string }>(
        'select count(distinct document_id) as docs, count(*) as chunks, count(*) - count(distinct semantic_key) as dup from document_chunks',
      );
      assert.equal(Number(after!.docs), DOCS);
      assert.equal(Number(after!.dup), 0);
      assert.equal(report.chunks.unchanged, Number(written!.chunks), 'the rerun found the committed chunks unchanged');
      assert.equal(report.chunks.new + report.chunks.unchanged, Number(after!.chunks));
    },
  );

  test(
    'backfill: one line, exit 1; the run is closed as failed with what it committed; the rerun completes, every chunk once',
    { skip: SERVER_ONLY },
    async () => {
      await cli(['versions', 'register', 'v1', '--encoder', 'hash:words-256']);
      // Slow enough (2 requests/s) that the load cannot finish before the lock below is taken.
      const child = spawnCli(['backfill', 'v1', '--batch-size', '20', '--workers', '2', '--rpm', '120'], { env });
      await waitFor('three batches written', async () => {
        const r = await q<{ n: string }>(`select count(*) as n from backfill_batches where status = 'done'`).catch(
          () => [{ n: '0' }],
        );
        return Number(r[0]!.n) >= 3 ? true : undefined;
      });
      // Hold the next write: the partition locked, the worker's COPY waits.
      const lock = await holdLock('lock table chunk_embeddings_v1 in access exclusive mode');
      await commandBlocked(child);
      await cluster.stop('fast');
      await lock.end().catch(() => {});
      const exit = await child.exited;
      await cluster.start();
      assert.equal(exit.code, 1, child.out.stderr);
      assert.doesNotMatch(child.out.stderr, /Unhandled|\n\s+at |unexpected error/, 'no crash, no stack trace');
      const said = messageLines(child.out.stderr);
      assert.equal(said.length, 1, `one line, not: ${JSON.stringify(said)}`);
      assert.match(said[0]!, LOST);

      // The next command that looks at the run closes it: failed, with what it committed.
      await cli(['status']);
      const [run1] = await q<{ id: string; status: string; embedded: string; tokens: string; error: string }>(
        'select * from backfill_runs order by id limit 1',
      );
      assert.equal(run1!.status, 'failed');
      assert.match(run1!.error, /gone|stopped/);
      const [committed] = await q<{ embedded: string; tokens: string }>(
        'select coalesce(sum(embedded), 0) as embedded, coalesce(sum(tokens), 0) as tokens from backfill_batches where run_id = $1',
        [run1!.id],
      );
      assert.ok(Number(committed!.embedded) >= 60, `the first run committed its batches (${committed!.embedded})`);
      assert.equal(Number(run1!.embedded), Number(committed!.embedded), 'embedded = what it committed');
      assert.ok(Number(run1!.tokens) >= Number(committed!.tokens), 'tokens paid are never below what was committed');

      await cli(['backfill', 'v1']);
      const [check] = await q<{
        live: string;
        vectors: string;
        distinct_chunks: string;
        texts: string;
        embedded: string;
        run_embedded: string;
      }>(`
      select (select count(*) from document_chunks where retired_at is null) as live,
             (select count(*) from chunk_embeddings_v1) as vectors,
             (select count(distinct chunk_id) from chunk_embeddings_v1) as distinct_chunks,
             (select count(distinct content_sha256) from document_chunks where retired_at is null) as texts,
             (select sum(embedded) from backfill_batches where embedding_version_id = 1) as embedded,
             (select sum(embedded) from backfill_runs where embedding_version_id = 1) as run_embedded`);
      assert.equal(Number(check!.vectors), Number(check!.live), 'every live chunk has a vector');
      assert.equal(Number(check!.distinct_chunks), Number(check!.vectors), 'each once');
      assert.equal(Number(check!.embedded), Number(check!.texts), 'each distinct text embedded once, across both runs');
      assert.equal(Number(check!.run_embedded), Number(check!.texts), 'and counted once by the runs');
      const runs = await q<{ status: string }>('select status from backfill_runs order by id');
      assert.deepEqual(
        runs.map((r) => r.status),
        ['failed', 'completed'],
      );
    },
  );

  test(
    'sync (-m immediate): one line, exit 1; the rerun embeds the new chunks once',
    { skip: SERVER_ONLY },
    async () => {
      await cli(['ingest', writeCorpus(200, { seed: 9, prefix: 'new' })]);
      await loseDatabase(
        ['sync'],
        () => holdLock('lock table chunk_embeddings_v1 in access exclusive mode'),
        'immediate',
      );
      await cli(['sync']);
      const [check] = await q<{ live: string; vectors: string }>(`
      select (select count(*) from document_chunks where retired_at is null) as live, (select count(*) from chunk_embeddings_v1) as vectors`);
      assert.equal(Number(check!.vectors), Number(check!.live));
      const [open] = await q<{ n: string }>(`select count(*) as n from backfill_runs where status = 'running'`);
      assert.equal(Number(open!.n), 0, 'no run is left running');
    },
  );

  test('evaluate: one line, exit 1; nothing recorded; the rerun records one run', { skip: SERVER_ONLY }, async () => {
    const judged = join(dir, 'judged.jsonl');
    writeFileSync(
      judged,
      [
        JSON.stringify({ id: 'q1', query: 'tent stove lantern', relevant: { 'doc-1': 1, 'doc-2': 1 } }),
        JSON.stringify({ id: 'q2', query: 'warranty refund invoice', relevant: { 'doc-3': 1 } }),
      ].join('\n') + '\n',
    );
    writeFileSync(join(dir, 'none.json'), JSON.stringify({ gates: [{ metric: 'nDCG@10', min: 0 }] }));
    await loseDatabase(['evaluate', '--version', 'v1', '--judged', judged, '--gates', join(dir, 'none.json')], () =>
      holdLock('lock table chunk_embeddings_v1 in access exclusive mode'),
    );
    const [before] = await q<{ n: string }>('select count(*) as n from evaluation_runs');
    assert.equal(Number(before!.n), 0);
    await cli(['evaluate', '--version', 'v1', '--judged', judged, '--gates', join(dir, 'none.json')]);
    const [afterRun] = await q<{ n: string }>('select count(*) as n from evaluation_runs');
    assert.equal(Number(afterRun!.n), 1);
  });
});
