import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND, ON_SERVER, freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, spawnCli, waitForOutput, type CliResult } from './support/cli.js';
import { startOpenAIServer, type OpenAIServer } from './support/openai-server.js';
import { writeCorpus } from './support/corpus.js';

// Secrets never appear in logs, errors, --json output or reports, even at
// EMBCTL_LOG_LEVEL=debug: the API key, the database password (server pass:
// the URL carries one; the test server trusts local logins, so any password
// works and none is checked) and the serve token. Every command of the
// lifecycle runs through the CLI; everything it prints and writes is searched.

const API_KEY = 'sk-test-KEYSECRET-0a1b2c3d4e5f';
const WRONG_KEY = 'sk-test-WRONGSECRET-9z8y7x6w';
const DB_PASSWORD = 'DbPassSecret-4711';
const TOKEN = 'serve-token-TOKSECRET-31415';
/** Distinctive pieces: a partial leak (a key cut or masked badly) is still a leak. */
const NEEDLES = [API_KEY, WRONG_KEY, DB_PASSWORD, TOKEN, 'KEYSECRET', 'WRONGSECRET', 'DbPassSecret', 'TOKSECRET'];

let target: TestDbTarget;
let server: OpenAIServer;
let dir: string;
let databaseUrl = '';
const printed: { what: string; text: string }[] = [];

before(async () => {
  target = await freshTarget();
  server = await startOpenAIServer({ apiKey: API_KEY, echoKeyOn401: true, modelDimensions: { 'mock-16': 16 } });
  dir = mkdtempSync(join(tmpdir(), 'embctl-secrets-'));
  if (target.url) {
    const u = new URL(target.url);
    u.password = DB_PASSWORD;
    databaseUrl = u.toString();
  }
});
after(async () => {
  await server?.close();
  await target?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  DATABASE_URL: databaseUrl,
  EMBCTL_HOME: target.homeDir,
  OPENAI_API_KEY: API_KEY,
  OPENAI_BASE_URL: server.url,
  EMBCTL_SERVE_TOKEN: TOKEN,
  EMBCTL_LOG_LEVEL: 'debug',
  ...extra,
});

async function cli(args: string[], extra: NodeJS.ProcessEnv = {}, expectCode = 0): Promise<CliResult> {
  const r = await runCli(args, { env: env(extra) });
  printed.push(
    { what: `embctl ${args.join(' ')}: stdout`, text: r.stdout },
    { what: `embctl ${args.join(' ')}: stderr`, text: r.stderr },
  );
  assert.equal(r.code, expectCode, `embctl ${args.join(' ')}: ${r.stderr.slice(-1500)}`);
  return r;
}

describe(`no secret in any output (${BACKEND})`, () => {
  test('the whole lifecycle at debug level, with a key, a database password and a serve token', async () => {
    const corpus = writeCorpus(60, { seed: 13 });
    const judged = join(dir, 'judged.jsonl');
    writeFileSync(
      judged,
      [
        JSON.stringify({ embctl_judged_set: 1, key: 'document_id', name: 'secrets' }),
        ...[0, 1, 2, 3, 4, 5].map((i) =>
          JSON.stringify({ id: `q${i}`, query: `tent stove lantern ${i}`, relevant: { [`doc-${i}`]: 1 } }),
        ),
      ].join('\n') + '\n',
    );
    const gates = join(dir, 'gates.json');
    writeFileSync(gates, JSON.stringify({ gates: [{ name: 'floor', metric: 'MRR', min: 0 }] }));

    await cli(['migrate', '--json']);
    await cli(['ingest', corpus, '--json']);
    await cli(['versions', 'register', 'v1', '--encoder', 'openai:mock-16', '--json']);
    await cli(['backfill', 'v1', '--json']);
    await cli(['versions', 'list', '--json']);
    await cli(['versions', 'show', 'v1', '--json']);
    await cli(['status', '--json']);
    await cli(['status']);
    await cli(['search', 'tent stove', '--version', 'v1', '--json']);
    await cli([
      'evaluate',
      '--version',
      'v1',
      '--judged',
      judged,
      '--gates',
      gates,
      '--gate',
      '--report',
      join(dir, 'gate.md'),
      '--junit',
      join(dir, 'gate.xml'),
      '--json',
    ]);
    await cli(['activate', 'v1', '--json']);
    await cli(['search', 'tent stove']);
    await cli(['shadow', 'start', 'v1', '--sample', '0.5', '--json'], {}, 1); // refused: v1 is the active version
    await cli(['report', '--out', join(dir, 'report.html')]);

    // Failures carry secrets near them: a provider that echoes the key it got, an unreachable database.
    await cli(['versions', 'register', 'v2', '--encoder', 'openai:mock-16'], { OPENAI_API_KEY: WRONG_KEY }, 2);
    const unreachable = ON_SERVER
      ? `postgresql://postgres:${DB_PASSWORD}@127.0.0.1:1/none`
      : `postgresql://nobody:${DB_PASSWORD}@127.0.0.1:1/none`;
    await cli(['status'], { DATABASE_URL: unreachable }, 1);

    // The service: a search, admin calls with a wrong and a right token, a drain.
    const serve = spawnCli(['serve', '--port', '0'], { env: env() });
    try {
      await waitForOutput(serve, /embctl serving on http:\/\/127\.0\.0\.1:\d+/);
      const port = /embctl serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.out.stdout)![1];
      const base = `http://127.0.0.1:${port}`;
      const post = (path: string, body: unknown, token?: string) =>
        fetch(base + path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const answers: string[] = [];
      for (const r of [
        await post('/v1/search', { query: 'tent stove', k: 3 }),
        await post('/v1/versions/v1/activate', {}, `${TOKEN}x`),
        await post('/v1/versions/v1/activate', { reason: 'secrets test' }, TOKEN),
        await post('/v1/rollback', {}, TOKEN),
        await fetch(`${base}/healthz`),
        await fetch(`${base}/metrics`),
        await fetch(`${base}/v1/versions`),
      ])
        answers.push(`${r.status} ${JSON.stringify([...r.headers])} ${await r.text()}`);
      printed.push({ what: 'HTTP answers', text: answers.join('\n') });
      assert.match(answers[1]!, /^401 /);
      assert.match(answers[2]!, /^200 /);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
      printed.push(
        { what: 'serve: stdout', text: serve.out.stdout },
        { what: 'serve: stderr', text: serve.out.stderr },
      );
    }

    for (const f of ['gate.md', 'gate.xml', 'report.html'])
      printed.push({ what: f, text: readFileSync(join(dir, f), 'utf8') });
    // The debug level really was on: otherwise this test would prove little.
    assert.ok(
      printed.some((p) => /"level":20/.test(p.text)),
      'no debug log line was printed',
    );
    for (const p of printed) {
      for (const needle of NEEDLES) assert.ok(!p.text.includes(needle), `${p.what} holds a secret (${needle})`);
    }
  });
});
