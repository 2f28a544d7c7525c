/**
 * `embctl judge --judge openai:<model>` against the local OpenAI-compatible
 * test server, which counts every chat call per (query, passage) pair: a
 * dry run calls nothing and writes nothing; --max-cost stops cleanly and a
 * rerun goes on without judging anything twice; bad answers are retried
 * once, recorded as failed, shown, and judged again with --retry-failed;
 * --from-shadow refuses without stored query texts and pools them with.
 *
 * The tests run in order and build on each other (one database per file).
 */
import { test, before, after } from 'node:test';
import { withOpen } from './support/db.js';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { runCli } from './support/cli.js';
import { judgeDemo, type JudgeDemo } from './support/judge-demo.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { loadJudgedSet, type JudgedSet } from '../src/judged-set/index.js';
import { createSearcher } from '../src/search/index.js';
import { createShadower } from '../src/shadow/index.js';
import { silentLogger } from '../src/log/logger.js';
import type { Db } from '../src/db/open.js';

const KEY = 'sk-judge-cli-SECRET-41c0';
let demo: JudgeDemo;
let server: OpenAIServer;
let set: JudgedSet;

before(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  demo = await judgeDemo({ every: 16 });
  set = await loadJudgedSet(demo.judged);
});
after(async () => {
  await server?.close();
  await demo?.close();
});

const cli = (args: string[]) =>
  runCli(args, { env: { ...demo.env, OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url } });
const judgeArgs = (model: string, ...extra: string[]) => [
  'judge',
  '--version',
  'v2',
  '--judged',
  demo.judged,
  '--judge',
  `openai:${model}`,
  ...extra,
];

/** The embedded database serves one process at a time: open it only between CLI runs. */
const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withOpen(() => demo.open(), fn);

function json(r: { code: number | null; stdout: string; stderr: string }, code = 0) {
  assert.equal(r.code, code, r.stderr);
  return JSON.parse(r.stdout);
}

interface Row {
  query_text: string;
  doc_key: string;
  grade: number | null;
  failure: string | null;
}
const rowsOf = (judgePrefix: string): Promise<Row[]> =>
  withDb((db) =>
    db.kysely
      .selectFrom('relevance_judgments')
      .select(['query_text', 'doc_key', 'grade', 'failure'])
      .where('judge', 'like', `${judgePrefix}%`)
      .orderBy('id')
      .execute(),
  );
const countAll = () =>
  withDb(async (db) =>
    Number(
      (
        await db.kysely
          .selectFrom('relevance_judgments')
          .select(sql<string>`count(*)`.as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );

let poolSize: number;

test('--dry-run prints pairs, queries, tokens and cost; calls nothing and writes nothing', async () => {
  server.reset();
  const out = json(await cli(judgeArgs('gpt-4o-mini', '--dry-run', '--json')));
  assert.equal(out.dry_run, true);
  assert.equal(out.run, null);
  poolSize = out.pool.toJudge;
  assert.ok(poolSize > 30, `pool ${poolSize}`);
  assert.equal(out.estimate.pairs, poolSize);
  assert.ok(out.estimate.inputTokens > poolSize * 50, `tokens ${out.estimate.inputTokens}`);
  assert.ok(out.estimate.usd > 0, 'gpt-4o-mini has a price');
  assert.equal(out.pool.queriesToJudge, set.queries.length);
  const text = await cli(judgeArgs('gpt-4o-mini', '--dry-run'));
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `dry run: ${poolSize} pairs, ${set.queries.length} queries, ~[\\d,]+ input tokens, estimated \\$\\d+\\.\\d{4}; nothing written`,
    ),
  );
  assert.equal(server.chat.stats.requests, 0);
  assert.equal(await countAll(), 0);
  assert.ok(!text.stdout.includes(KEY) && !text.stderr.includes(KEY));
});

test('--max-cost stops cleanly mid-run, keeps what was judged, says so; a rerun goes on without judging twice; a third calls nothing', async () => {
  server.reset();
  const estimate = json(await cli(judgeArgs('gpt-4o-mini', '--dry-run', '--json'))).estimate.usd as number;
  const budget = (estimate / 2).toFixed(6);
  const stopped = await cli(judgeArgs('gpt-4o-mini', '--max-cost', budget));
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(
    stopped.stdout,
    /stopped at --max-cost: what was judged is kept; run again \(with a larger limit\) to go on/,
  );
  const m = /judged (\d+) pairs in .*: (\d+) graded, 0 failed, (\d+) left · [\d,]+ tokens · \$(\d+\.\d+)/.exec(
    stopped.stdout,
  );
  assert.ok(m, stopped.stdout);
  const [graded, left, spent] = [Number(m[2]), Number(m[3]), Number(m[4])];
  assert.ok(graded > 0 && left > 0, `${graded} graded, ${left} left`);
  assert.equal(graded + left, poolSize);
  assert.ok(spent <= Number(budget) + 1e-4, `spent ${spent} of ${budget}`);
  assert.equal(server.chat.stats.ok, graded, 'one call per graded pair');
  assert.equal((await rowsOf('openai:gpt-4o-mini@')).length, graded, 'what was judged is stored');

  const rest = json(await cli(judgeArgs('gpt-4o-mini', '--json')));
  assert.equal(rest.pool.judged, graded);
  assert.equal(rest.pool.toJudge, left);
  assert.equal(rest.run.graded, left);
  assert.equal(rest.run.stoppedBy, null);
  assert.equal(server.chat.stats.ok, poolSize, 'the two runs called the server once per pair');
  assert.equal(server.chat.stats.requests, poolSize);
  assert.deepEqual(server.chat.pairsBilledTwice(), []);
  const rows = await rowsOf('openai:gpt-4o-mini@');
  assert.equal(rows.length, poolSize);
  assert.ok(rows.every((r) => r.failure === null && r.grade !== null && r.grade >= 0 && r.grade <= 3));

  const again = json(await cli(judgeArgs('gpt-4o-mini', '--json')));
  assert.equal(again.pool.judged, poolSize);
  assert.equal(again.run.graded + again.run.failed, 0);
  assert.equal(server.chat.stats.requests, poolSize, 'a second full run calls nothing');
});

test('answers that are not JSON or grade out of range are retried once, recorded as failed, shown; --retry-failed judges them again', async () => {
  server.reset();
  const [bad1, bad2] = [set.queries[0]!.text, set.queries[1]!.text];
  server.chat.setFaults(
    {
      fault: { kind: 'non-json', content: 'Relevant, I would say 2.' },
      times: Infinity,
      match: (r) => r.query === bad1,
    },
    { fault: { kind: 'grade-out-of-range', grade: 7 }, times: Infinity, match: (r) => r.query === bad2 },
  );
  const r = await cli(judgeArgs('gpt-4o', '--concurrency', '2'));
  assert.equal(r.code, 0, r.stderr);
  const rows = await rowsOf('openai:gpt-4o@');
  const failed = rows.filter((x) => x.failure !== null);
  assert.ok(failed.length >= 2);
  assert.deepEqual(new Set(failed.map((x) => x.query_text)), new Set([bad1, bad2]));
  assert.ok(rows.filter((x) => x.query_text === bad1 || x.query_text === bad2).every((x) => x.failure !== null));
  for (const f of failed) {
    assert.equal(f.grade, null);
    assert.match(
      f.failure!,
      f.query_text === bad1
        ? /the answer is not JSON .*Relevant, I would say 2\..*\(asked 2 times\)/
        : /grade is not an integer 0\.\.3: .*7.*\(asked 2 times\)/,
    );
  }
  for (const rec of server.chat.stats.log.filter((x) => x.query === bad1 || x.query === bad2))
    assert.equal(server.chat.pairCalls(rec.query!, rec.passage!), 2, 'asked twice, not more');
  assert.equal(server.chat.stats.requests, rows.length + failed.length);
  assert.match(r.stdout, new RegExp(`: ${rows.length - failed.length} graded, ${failed.length} failed`));
  // Each distinct reason shown once, with how many pairs it failed.
  const shown = (re: RegExp) => Number(re.exec(r.stdout)?.[1]);
  const n1 = failed.filter((x) => x.query_text === bad1).length;
  const n2 = failed.filter((x) => x.query_text === bad2).length;
  assert.equal(shown(/^ {2}not graded: the answer is not JSON .*\(asked 2 times\)(?: \((\d+) pairs\))?$/m) || 1, n1);
  assert.equal(
    shown(/^ {2}not graded: the answer's grade is not an integer .*\(asked 2 times\)(?: \((\d+) pairs\))?$/m) || 1,
    n2,
  );
  assert.equal(r.stdout.match(/not graded:/g)?.length, 2);

  server.chat.setFaults();
  const calls = server.chat.stats.requests;
  const skip = json(await cli(judgeArgs('gpt-4o', '--json')));
  assert.equal(skip.pool.failed, failed.length);
  assert.equal(skip.pool.toJudge, 0, 'failed pairs wait for --retry-failed');
  assert.equal(server.chat.stats.requests, calls);

  const retry = json(await cli(judgeArgs('gpt-4o', '--retry-failed', '--json')));
  assert.equal(retry.run.graded, failed.length);
  assert.equal(retry.run.failed, 0);
  assert.equal(server.chat.stats.requests, calls + failed.length);
  const after = await rowsOf('openai:gpt-4o@');
  assert.equal(after.length, rows.length);
  assert.ok(after.every((x) => x.failure === null && x.grade !== null));
});

const SHADOWED = ['waterproof hiking boots for wet trails', 'refund for a damaged order', 'replacement tent poles'];

async function shadowSearches(queries: readonly string[]): Promise<void> {
  await withDb(async (db) => {
    const searcher = createSearcher(db, { logger: silentLogger() });
    const shadower = createShadower(db, {
      logger: silentLogger(),
      search: async (versionKey, query, k) => {
        const r = await searcher.search({ query, version: versionKey, k });
        return { ids: r.hits.map((h) => h.chunkId), ms: r.ms };
      },
    });
    try {
      await shadower.refresh();
      for (const q of queries) {
        const r = await searcher.search({ query: q, k: 10 });
        shadower.afterPrimary({
          query: q,
          primaryVersion: r.version,
          primaryIds: r.hits.map((h) => h.chunkId),
          primaryMs: r.ms,
          k: 10,
        });
      }
    } finally {
      await shadower.close({ timeoutMs: 60_000 });
      await searcher.close();
    }
  });
}

test('--from-shadow refuses without stored query texts (exit 1, names --store-text); with them it pools the shadowed queries', async () => {
  server.reset();
  const shadowArgs = ['judge', '--version', 'v2', '--from-shadow', '--judge', 'openai:gpt-4o-mini'];
  const none = await cli(shadowArgs);
  assert.equal(none.code, 1, none.stderr);
  assert.match(
    none.stderr,
    /no shadowed queries of v2 since .*: shadow it first \(embctl shadow start v2 --sample <rate> --store-text\)/,
  );

  const start = await cli(['shadow', 'start', 'v2', '--sample', '1']);
  assert.equal(start.code, 0, start.stderr);
  await shadowSearches(SHADOWED.slice(0, 2));
  const hashed = await cli(shadowArgs);
  assert.equal(hashed.code, 1, hashed.stderr);
  assert.equal(hashed.stderr.trim().split('\n').length, 1, hashed.stderr);
  assert.match(
    hashed.stderr,
    /the 2 shadowed queries of v2 .* have no stored text .*embctl shadow start v2 --sample <rate> --store-text/,
  );
  assert.equal(server.chat.stats.requests, 0);

  const withText = await cli(['shadow', 'start', 'v2', '--sample', '1', '--store-text']);
  assert.equal(withText.code, 0, withText.stderr);
  await shadowSearches([...SHADOWED, SHADOWED[0]!]);
  const out = json(await cli([...shadowArgs, '--json']));
  assert.match(out.source, /^shadow log since /);
  assert.equal(out.pool.queries, SHADOWED.length, 'distinct texts');
  assert.equal(out.pool.labelled, 0);
  assert.ok(out.pool.toJudge >= 10 * SHADOWED.length && out.pool.toJudge <= 20 * SHADOWED.length);
  assert.equal(out.run.graded, out.pool.toJudge);
  const rows = (await rowsOf('openai:gpt-4o-mini@')).filter((r) => SHADOWED.includes(r.query_text));
  assert.equal(rows.length, out.pool.toJudge);
  assert.deepEqual(new Set(rows.map((r) => r.query_text)), new Set(SHADOWED));
  assert.equal(server.chat.stats.requests, out.pool.toJudge);
  assert.deepEqual(server.chat.pairsBilledTwice(), []);
});
