import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND, ON_SERVER, freshTarget, type TestDbTarget } from './support/db.js';
import { runCli, targetEnv } from './support/cli.js';
import { writeCorpus } from './support/corpus.js';
import { EMBEDDED_CEILING_HINT, EMBEDDED_CHUNK_CEILING, embeddedCeilingWarning } from '../src/status/index.js';
import { embeddedCeiling } from '../src/cli/ceiling-hint.js';

// The hint past the embedded database's measured ceiling
// (bench/pglite-ceiling.ts): one warning line on stderr from ingest,
// backfill and status when PGlite holds more live chunks than the ceiling;
// never on a server. EMBCTL_EMBEDDED_CEILING (a test seam) lowers the
// ceiling so that 12 chunks are "too many".

const hintLines = (stderr: string) => stderr.split('\n').filter((l) => l.includes(EMBEDDED_CEILING_HINT));

describe('embedded ceiling hint', () => {
  test('past the ceiling on PGlite only, never on a server', () => {
    const hint = embeddedCeilingWarning('pglite', 11, 10);
    assert.ok(hint?.startsWith(EMBEDDED_CEILING_HINT), String(hint));
    assert.match(hint!, /11 live chunks; its measured ceiling is 10/);
    assert.equal(embeddedCeilingWarning('pglite', 10, 10), null);
    assert.equal(embeddedCeilingWarning('postgres', 1e9, 10), null);
    assert.equal(embeddedCeilingWarning('pglite', EMBEDDED_CHUNK_CEILING), null);
    assert.ok(embeddedCeilingWarning('pglite', EMBEDDED_CHUNK_CEILING + 1));
  });

  test('the ceiling is the measured constant unless the test seam sets another', () => {
    assert.equal(embeddedCeiling({}), EMBEDDED_CHUNK_CEILING);
    assert.equal(embeddedCeiling({ EMBCTL_EMBEDDED_CEILING: '5' }), 5);
    assert.equal(embeddedCeiling({ EMBCTL_EMBEDDED_CEILING: 'lots' }), EMBEDDED_CHUNK_CEILING);
    assert.equal(embeddedCeiling({ EMBCTL_EMBEDDED_CEILING: '' }), EMBEDDED_CHUNK_CEILING);
  });

  let target: TestDbTarget;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    target = await freshTarget();
    env = targetEnv(target);
    const m = await runCli(['migrate'], { env });
    assert.equal(m.code, 0, m.stderr);
  });
  after(async () => {
    await target?.destroy();
  });

  test(`ingest, backfill and status with a ceiling of 5 and 12 chunks (${BACKEND}): the hint ${ON_SERVER ? 'never appears' : 'appears once each'}`, async () => {
    const low = { ...env, EMBCTL_EMBEDDED_CEILING: '5' };
    const corpus = writeCorpus(12, { seed: 3, prefix: 'ceil' });
    const ingest = await runCli(['ingest', corpus, '--json'], { env: low });
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.equal(
      (JSON.parse(ingest.stdout) as { chunks: { new: number } }).chunks.new,
      12,
      'stdout stays one JSON document',
    );
    const reg = await runCli(['versions', 'register', 'v1', '--encoder', 'hash:words-32', '--index', 'none'], {
      env: low,
    });
    assert.equal(reg.code, 0, reg.stderr);
    const dry = await runCli(['backfill', 'v1', '--dry-run'], { env: low });
    assert.equal(dry.code, 0, dry.stderr);
    const backfill = await runCli(['backfill', 'v1', '--json'], { env: low });
    assert.equal(backfill.code, 0, backfill.stderr);
    const status = await runCli(['status'], { env: low });
    assert.equal(status.code, 0, status.stderr);
    for (const [name, r] of Object.entries({ ingest, dry, backfill, status })) {
      const lines = hintLines(r.stderr);
      if (ON_SERVER) {
        assert.deepEqual(lines, [], `${name}: no hint on a server`);
      } else {
        assert.deepEqual(
          lines,
          [`embctl: warning: ${EMBEDDED_CEILING_HINT} (12 live chunks; its measured ceiling is 5)`],
          `${name}: one hint line on stderr`,
        );
        assert.ok(!r.stdout.includes(EMBEDDED_CEILING_HINT), `${name}: never on stdout`);
      }
    }
  });

  test(`at or under the ceiling (${BACKEND}): no hint`, async () => {
    const r = await runCli(['status'], { env: { ...env, EMBCTL_EMBEDDED_CEILING: '12' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /12 live/);
    assert.deepEqual(hintLines(r.stderr), []);
    const measured = await runCli(['status'], { env });
    assert.equal(measured.code, 0, measured.stderr);
    assert.deepEqual(hintLines(measured.stderr), [], 'the measured ceiling is far above 12 chunks');
  });
});
