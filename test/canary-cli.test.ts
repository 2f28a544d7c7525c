/**
 * The encoder canary on the command line and in `embctl serve` (issue 15 §2),
 * on both backends: `versions verify` (exit codes, --json, --record), activate
 * refusing a moved canary and --force --reason, `evaluate --gate` failing on
 * it before scoring, serve's periodic check (/metrics value, error log, an
 * event on the change only, activate over HTTP refused), and the bad inputs.
 * The local OpenAI test server switches its model output mid-test.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshTarget, type TestDbTarget, withTargetDb } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { startServe } from './support/serve-process.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { fillVersion, ingestDocs, recordGate, syntheticDocs } from './support/fill-version.js';
import type { Db } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';
import { registerVersion, type RegisterInput } from '../src/versions/register.js';
import { parseEventDetails } from '../src/versions/event-details.js';

const MODEL = 'text-embedding-3-small';
const TOKEN = 'serve-token-canary-test-0123456789';
let target: TestDbTarget;
let server: OpenAIServer;
let env: NodeJS.ProcessEnv;
let dir: string;
const cli = (args: string[]) => runCli(args, { env });

const withDb = <T>(fn: (db: Db) => Promise<T>): Promise<T> => withTargetDb(target, fn);

async function eventsOf(key: string) {
  return withDb((db) =>
    db.kysely.selectFrom('version_events').selectAll().where('version_key', '=', key).orderBy('id').execute(),
  );
}

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'embctl-canary-cli-'));
  env = { ...targetEnv(target), EMBCTL_ACTOR: 'canary-tester', OPENAI_BASE_URL: server.url, EMBCTL_SERVE_TOKEN: TOKEN };
  await withDb(async (db) => {
    await migrate(db, { logger: silentLogger() });
    await ingestDocs(db, syntheticDocs(30));
    const reg = (input: RegisterInput) =>
      registerVersion(db, input, { actor: 'tester', logger: silentLogger(), openaiBaseUrl: server.url, env: {} });
    await reg({ key: 'a', encoder: `openai:${MODEL}`, dimensions: 32 });
    await reg({ key: 'b', encoder: `openai:${MODEL}`, dimensions: 48 });
    await reg({ key: 'h', encoder: 'hash:words-256' });
    await reg({ key: 'old', encoder: 'hash:mixed-384', canary: false });
    for (const key of ['a', 'b', 'h', 'old']) {
      await fillVersion(db, key);
      await recordGate(db, key, true);
    }
  });
});
after(async () => {
  server?.setDrift(null);
  await server?.close();
  await target?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('encoder canary on the command line', () => {
  test('versions verify: hash holds exactly (exit 0, --json figures); openai holds until the model moves (exit 1, one line)', async () => {
    const h = await cli(['versions', 'verify', 'h', '--json']);
    assert.equal(h.code, 0, h.stderr);
    const hj = JSON.parse(h.stdout);
    assert.equal(hj.status, 'passed');
    assert.equal(hj.maxAbsDiff, 0);
    assert.equal(hj.moved, 0);

    const ok = await cli(['versions', 'verify', 'a']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^canary of a holds: 40 texts, min cosine 1, max abs diff 0 \(tolerance cosine ≥ 0\.999\)$/m,
    );

    server.setDrift({ kind: 'rotate', radians: 0.6 });
    try {
      const bad = await cli(['versions', 'verify', 'a']);
      assert.equal(bad.code, 1, bad.stderr);
      const lines = bad.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('embctl:'));
      assert.equal(lines.length, 1, bad.stderr);
      assert.match(
        lines[0]!,
        /^embctl: canary FAILED for version a \(openai:text-embedding-3-small\): 40 of 40 canary texts moved, min cosine 0\.825\d* \(tolerance cosine ≥ 0\.999\): .*register and backfill a new version/,
      );
      assert.match(bad.stdout, /^ {2}text \d+: cosine 0\.825\d+ {2}\S/m);
      const json = await cli(['versions', 'verify', 'a', '--json']);
      assert.equal(json.code, 1);
      const j = JSON.parse(json.stdout);
      assert.equal(j.status, 'failed');
      assert.equal(j.moved, 40);
      assert.ok(Math.abs(j.minCosine - Math.cos(0.6)) < 1e-4);
    } finally {
      server.setDrift(null);
    }
    const ev = await eventsOf('a');
    const checks = ev.filter((e) => e.event === 'canary_checked' || e.event === 'canary_failed');
    assert.deepEqual(
      checks.map((e) => e.event),
      ['canary_checked', 'canary_failed', 'canary_failed'],
    );
    assert.equal(checks[1]!.actor, 'canary-tester');
    const d = parseEventDetails('canary_failed', checks[1]!.details);
    assert.equal(d?.moved, 40);
    assert.equal(d?.by, 'verify');
  });

  test('activate refuses a version whose last canary check failed; --force --reason overrides and is recorded', async () => {
    const refused = await cli(['activate', 'a']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^embctl: cannot activate a: the last encoder canary check of version a \(.*\) failed: .*; or override with --force --reason "\.\.\."$/m,
    );
    const forced = await cli(['activate', 'a', '--force', '--reason', 'provider says same model']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /a is now active — FORCED/);
    assert.match(forced.stdout, /overridden: the last encoder canary check of version a/);
    const act = (await eventsOf('a')).at(-1)!;
    assert.equal(act.event, 'activated');
    assert.equal(act.forced, true);
    assert.equal(act.reason, 'provider says same model');
    // Once the canary holds again, a check records it and activation is free again.
    const again = await cli(['versions', 'verify', 'a']);
    assert.equal(again.code, 0, again.stderr);
  });

  test('evaluate --gate checks the canary first: a moved model fails the gate before scoring, and records no run', async () => {
    const judged = join(dir, 'judged.jsonl');
    writeFileSync(
      judged,
      [
        JSON.stringify({ embctl_judged_set: 1, key: 'document_id', name: 'canary' }),
        ...[0, 1, 2].map((i) =>
          JSON.stringify({ id: `q${i}`, query: `database note ${i}`, relevant: { [`doc-${i * 5}`]: 1 } }),
        ),
      ].join('\n') + '\n',
    );
    const gates = join(dir, 'gates.json');
    writeFileSync(gates, JSON.stringify({ gates: [{ name: 'floor', metric: 'MRR', min: 0 }] }));
    const args = ['evaluate', '--version', 'b', '--judged', judged, '--gates', gates, '--gate'];
    const runs = () => withDb((db) => db.kysely.selectFrom('evaluation_runs').select('id').execute());
    const before = (await runs()).length;

    server.setDrift({ kind: 'noise', sigma: 0.05 });
    try {
      const bad = await cli(args);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(
        bad.stderr,
        /^embctl: gate failed for b: canary FAILED for version b .* canary texts moved, min cosine/m,
      );
      assert.equal((await runs()).length, before, 'no evaluation run recorded');
      const last = (await eventsOf('b')).at(-1)!;
      assert.equal(last.event, 'canary_failed');
      assert.equal(parseEventDetails('canary_failed', last.details)?.by, 'gate');
    } finally {
      server.setDrift(null);
    }
    const good = await cli(args);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^canary of b holds: 40 texts/m);
    assert.equal((await runs()).length, before + 1);
  });

  test('a version without a canary: verify says so (exit 1) and how to record one; --record, then it holds', async () => {
    const none = await cli(['versions', 'verify', 'old']);
    assert.equal(none.code, 1, none.stderr);
    assert.match(
      none.stderr,
      /^embctl: version old has no canary .*: record one with embctl versions verify old --record/m,
    );
    const show = await cli(['versions', 'show', 'old']);
    assert.match(show.stdout, /^ {2}canary {5}none: embctl versions verify old --record$/m);
    const rec = await cli(['versions', 'verify', 'old', '--record']);
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stdout, /^recorded a canary for old: 40 texts, model hash:mixed-384@/m);
    const twice = await cli(['versions', 'verify', 'old', '--record']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already has a canary/);
    const ok = await cli(['versions', 'verify', 'old']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('bad input: unknown version, misplaced flags, and an encoder that cannot embed the canary at register or verify', async () => {
    const unknown = await cli(['versions', 'verify', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no version "nope"/);
    const misplaced = await cli(['versions', 'verify', 'a', '--force']);
    assert.equal(misplaced.code, 2);
    assert.match(misplaced.stderr, /apply to --record only/);

    server.setFaults({
      fault: { kind: 'status', status: 400, message: 'input rejected' },
      times: Infinity,
      match: (r) => r.texts.length > 1,
    });
    try {
      const reg = await cli(['versions', 'register', 'c', '--encoder', `openai:${MODEL}`, '--dimensions', '32']);
      assert.equal(reg.code, 2, reg.stderr);
      assert.equal(reg.stderr.trim().split('\n').length, 1, reg.stderr);
      assert.match(
        reg.stderr,
        /^embctl: cannot register c: the encoder could not embed the 40 canary texts \(.*\); nothing was written: .*--no-canary/,
      );
      const ver = await cli(['versions', 'verify', 'a']);
      assert.equal(ver.code, 2, ver.stderr);
      assert.match(
        ver.stderr,
        /^embctl: cannot verify the canary of a: the encoder could not embed the 40 canary texts/,
      );
    } finally {
      server.setFaults();
    }
    const list = await cli(['versions', 'list', '--json']);
    assert.ok(!JSON.parse(list.stdout).some((v: { key: string }) => v.key === 'c'), 'c was not registered');
    const noCanary = await cli([
      'versions',
      'register',
      'c',
      '--encoder',
      `openai:${MODEL}`,
      '--dimensions',
      '32',
      '--no-canary',
    ]);
    assert.equal(noCanary.code, 0, noCanary.stderr);
    assert.match(noCanary.stdout, /no encoder canary recorded \(--no-canary\): embctl versions verify c --record/);
  });

  test('serve checks the active version and the shadowed candidate, shows the min cosine on /metrics, logs the change loudly, records it once, and keeps serving', async () => {
    const shadow = await cli(['shadow', 'start', 'b', '--sample', '0.5']);
    assert.equal(shadow.code, 0, shadow.stderr);
    const failedBefore = (await eventsOf('a')).filter((e) => e.event === 'canary_failed').length;
    const serve = await startServe({ ...env, EMBCTL_LOG_LEVEL: 'info' }, ['--canary-minutes', '0.005']);
    // A network error while the process lives (a keep-alive socket closed as it was reused, on a loaded
    // machine) is asked again, twice; a dead process fails the wait at once (`until`).
    const metrics = async (tries = 3): Promise<string> => {
      try {
        return await (await fetch(`${serve.base}/metrics`)).text();
      } catch (e) {
        if (tries > 1 && !serve.exit()) return metrics(tries - 1);
        throw new Error(
          `GET /metrics failed (${(e as Error).message}; cause ${String((e as Error).cause)}); serve exit ${JSON.stringify(serve.exit())}: ${serve.stderr().slice(-3000)}`,
          { cause: e },
        );
      }
    };
    const metric = async (version: string): Promise<number | undefined> => {
      const text = await metrics();
      const m = new RegExp(`^embctl_encoder_canary_min_cosine\\{version="${version}"\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    const until = async (what: string, ok: () => Promise<boolean> | boolean) => {
      while (!(await ok())) {
        if (serve.exit()) throw new Error(`serve exited while waiting for ${what}: ${serve.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const failedLogs = () =>
      serve
        .stderr()
        .split('\n')
        .filter((l) => /"level":50/.test(l) && /canary FAILED for version a /.test(l)).length;
    try {
      await until('both canaries checked', async () => (await metric('a')) === 1 && (await metric('b')) === 1);

      server.setDrift({ kind: 'rotate', radians: 0.6 });
      await until('the moved canaries on /metrics', async () => {
        const [a, b] = [await metric('a'), await metric('b')];
        return a !== undefined && a < 0.9 && b !== undefined && b < 0.9;
      });
      assert.ok(Math.abs((await metric('a'))! - Math.cos(0.6)) < 1e-4);
      // Several rounds fail: each is logged at error level, one event is recorded.
      await until('two failed rounds logged', () => failedLogs() >= 2);
      const text = await metrics();
      assert.match(text, /^embctl_encoder_canary_failed\{version="a"\} 1$/m);
      assert.match(text, /^embctl_encoder_canary_moved_texts\{version="a"\} 40$/m);
      // Still serving.
      const search = await fetch(`${serve.base}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'database note', k: 3 }),
      });
      assert.equal(search.status, 200);
      // The shadowed candidate's failure was recorded: activation refuses it.
      await until('b recorded as failed', async () => {
        const r = await fetch(`${serve.base}/v1/versions/b/activate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: '{}',
        });
        const body = (await r.json()) as { error?: { message?: string } };
        if (r.status === 200) throw new Error('b was activated despite its moved canary');
        return r.status === 409 && /canary check of version b/.test(body.error?.message ?? '');
      });

      server.setDrift(null);
      await until('the canaries hold again', async () => (await metric('a')) === 1 && (await metric('b')) === 1);
    } finally {
      server.setDrift(null);
      await serve.stop();
    }
    const ev = (await eventsOf('a')).filter((e) => e.event === 'canary_failed' || e.event === 'canary_checked');
    const byServe = ev.filter((e) => parseEventDetails('canary_failed', e.details)?.by === 'serve');
    assert.deepEqual(
      byServe.map((e) => e.event),
      ['canary_failed', 'canary_checked'],
      'serve records the change and the recovery, not every round',
    );
    assert.equal(ev.filter((e) => e.event === 'canary_failed').length, failedBefore + 1);
  });
});
