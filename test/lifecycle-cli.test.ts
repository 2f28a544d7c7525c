import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { fillVersion, ingestDocs, recordGate, register, syntheticDocs } from './support/fill-version.js';
import { openDatabase } from '../src/db/open.js';
import { migrate } from '../src/migrate/runner.js';
import { silentLogger } from '../src/log/logger.js';

let target: TestDbTarget;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...extra } });

before(async () => {
  target = await freshTarget();
  env = { ...targetEnv(target), EMBCTL_ACTOR: 'cli-tester' };
  const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger() });
  try {
    await migrate(db, { logger: silentLogger() });
    await ingestDocs(db, syntheticDocs(40));
    await register(db, { key: 'a', encoder: 'hash:words-256' });
    await register(db, { key: 'b', encoder: 'hash:mixed-384' });
    await fillVersion(db, 'a');
    await fillVersion(db, 'b');
    await recordGate(db, 'a', true);
    await recordGate(db, 'b', false);
  } finally {
    await db.close();
  }
});
after(async () => {
  await target?.destroy();
});

describe('search / activate / rollback / retire on the command line', () => {
  test('the commands are wired: --help lists them', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['search', 'activate', 'rollback', 'retire'])
      assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
  });

  test('search with no active version exits 1 with the fix', async () => {
    const r = await cli(['search', 'planet orbit']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no version is active: activate one with embctl activate <key>/);
  });

  test('activate: --force without --reason exits 2; a failed gate exits 1; a good version exits 0', async () => {
    const noReason = await cli(['activate', 'b', '--force']);
    assert.equal(noReason.code, 2, noReason.stderr);
    assert.match(noReason.stderr, /--force needs --reason/);
    const gate = await cli(['activate', 'b']);
    assert.equal(gate.code, 1, gate.stderr);
    assert.match(
      gate.stderr,
      /^embctl: cannot activate b: the last gated evaluation of version b .* failed: .*--force --reason/m,
    );
    const ok = await cli(['activate', 'a', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      version: 'a',
      previous: null,
      changed: true,
      forced: false,
      overridden: [],
    });
  });

  test('search serves the active version; EMBCTL_PIN_VERSION pins and logs it; --min-score without calibration exits 2', async () => {
    const r = await cli(['search', 'planet orbit', '-k', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.version, 'a');
    assert.equal(out.source, 'active');
    assert.equal(out.hits.length, 3);
    const pinned = await cli(['search', 'planet orbit', '--json'], { EMBCTL_PIN_VERSION: 'b' });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.equal(JSON.parse(pinned.stdout).version, 'b');
    assert.match(pinned.stderr, /pinned to version b by EMBCTL_PIN_VERSION/);
    const min = await cli(['search', 'planet', '--min-score', '0.8']);
    assert.equal(min.code, 2, min.stderr);
    assert.match(min.stderr, /needs a calibration for version a/);
  });

  test('retire: without --yes off a terminal is bad usage (2), refused for the active version (1), done with --yes (0)', async () => {
    const noYes = await cli(['retire', 'b']);
    assert.equal(noYes.code, 2, noYes.stderr);
    assert.match(noYes.stderr, /pass --yes to confirm/);
    const activeOne = await cli(['retire', 'a', '--yes']);
    assert.equal(activeOne.code, 1, activeOne.stderr);
    assert.match(activeOne.stderr, /it is the active version/);
    const ok = await cli(['retire', 'b', '--yes', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).vectorsDropped, 40);
  });

  test('rollback with nothing to go back to exits 1', async () => {
    const r = await cli(['rollback']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /a was the first version activated/);
  });
});
