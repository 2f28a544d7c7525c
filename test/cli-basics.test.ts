import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshTarget, ON_SERVER } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { Command } from 'commander';
import { CliContext } from '../src/cli/context.js';
import { registerCommands } from '../src/cli/commands/index.js';
import { STREAMING_COMMANDS } from '../src/cli/memory-mode.js';

describe('CLI skeleton', () => {
  test('the commands that run with optimize-for-size are commands of the CLI', () => {
    const program = new Command('embctl');
    registerCommands(program, new CliContext(program, {}));
    const names = new Set(program.commands.map((c) => c.name()));
    for (const name of STREAMING_COMMANDS) assert.ok(names.has(name), `${name} is not a command of embctl`);
  });

  test('migrate then status --json on a fresh target', async () => {
    const target = await freshTarget();
    try {
      const env = targetEnv(target);
      const before = await runCli(['status', '--json'], { env });
      assert.equal(before.code, 0, before.stderr);
      assert.equal(JSON.parse(before.stdout).schema.version, 0);
      const m = await runCli(['migrate'], { env });
      assert.equal(m.code, 0, m.stderr);
      assert.match(m.stdout, /applied 0001_init/);
      const s = await runCli(['status', '--json'], { env });
      assert.equal(s.code, 0, s.stderr);
      const status = JSON.parse(s.stdout);
      assert.equal(status.backend, ON_SERVER ? 'postgres' : 'pglite');
      assert.equal(status.schema.pending, 0);
      assert.match(status.pgvector, /^0\.[89]|^[1-9]/);
      const human = await runCli(['status'], { env });
      assert.match(human.stdout, ON_SERVER ? /backend\s+PostgreSQL server/ : /backend\s+embedded PGlite/);
    } finally {
      await target.destroy();
    }
  });

  test('an unreachable server is one clear line and exit 1', async () => {
    const r = await runCli(['status'], { env: { DATABASE_URL: 'postgresql://embctl:s3cretpw@127.0.0.1:1/app' } });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(
      r.stderr,
      /cannot reach PostgreSQL at postgresql:\/\/embctl:\*\*\*@127\.0\.0\.1:1\/app \(connection refused\)/,
    );
    assert.doesNotMatch(r.stderr, /s3cretpw/);
  });

  test('a data folder that cannot be created is exit 2 with the fix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embctl-cli-'));
    writeFileSync(join(dir, 'file'), 'x');
    const r = await runCli(['status'], { env: { DATABASE_URL: '', EMBCTL_HOME: join(dir, 'file', 'sub') } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not writable .*set EMBCTL_HOME or --home/);
  });

  test('bad configuration lists every problem, exit 2', async () => {
    const r = await runCli(['status'], { env: { DATABASE_URL: 'mysql://x', EMBCTL_POOL_SIZE: 'many' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DATABASE_URL: must be a postgres/);
    assert.match(r.stderr, /EMBCTL_POOL_SIZE:/);
  });

  test('.env is read, and the environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embctl-cli-'));
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=\nEMBCTL_HOME=from-dotenv\n');
    const r = await runCli(['status', '--json'], { cwd: dir, env: { DATABASE_URL: '', EMBCTL_HOME: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).location, join(dir, 'from-dotenv'));
  });

  test('usage errors exit 2; --help exits 0 with examples', async () => {
    assert.equal((await runCli(['no-such-command'])).code, 2);
    assert.equal((await runCli(['status', '--no-such-flag'])).code, 2);
    const h = await runCli(['migrate', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Examples:/);
  });
});
