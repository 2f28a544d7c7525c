import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/open.js';
import { runDemo } from '../src/demo/story.js';
import { silentLogger } from '../src/log/logger.js';
import { runCli } from './support/cli.js';
import { freshTarget } from './support/db.js';

// The story runs on this pass's backend (a fresh database on the server pass);
// `embctl demo` itself always uses a fresh embedded database, on both passes.
async function demo(encoders?: { v2?: string }) {
  const target = await freshTarget();
  const home = mkdtempSync(join(tmpdir(), 'embctl-demo-test-'));
  const lines: string[] = [];
  const db = await openDatabase({ databaseUrl: target.url, homeDir: target.homeDir, logger: silentLogger() });
  try {
    const r = await runDemo(db, { home, logger: silentLogger(), encoders, say: (l = '') => lines.push(l) });
    return { r, out: lines.join('\n'), home };
  } finally {
    await db.close();
    await target.destroy();
  }
}

describe('demo', () => {
  test('the story: v1 and v2 pass their gates, v3 fails and is refused, rollback and back, a report', async () => {
    const { r, out, home } = await demo();
    try {
      assert.deepEqual(r.gates, { v1: true, v2: true, v3: false });
      assert.equal(r.activeAtEnd, 'v2');
      assert.match(out, /embctl activate v3 → refused \(exit 1\)/);
      assert.match(out, /embctl rollback → v1 active \(was v2\)/);
      assert.match(out, /embctl rollback → v2 active \(was v1\)/);
      assert.match(out, /overlap@10 mean 0\.\d\d/);
      assert.ok(existsSync(r.reportPath));
      assert.match(readFileSync(r.reportPath, 'utf8'), /data-chart="eval-segments"/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('verdicts come from real evaluation: a weak v2 fails its gate and is not activated', async () => {
    const { r, out, home } = await demo({ v2: 'hash:words-32' });
    try {
      assert.equal(r.gates.v2, false);
      assert.match(out, /embctl activate v2 → refused \(exit 1\)/);
      assert.notEqual(r.activeAtEnd, 'v2');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('embctl demo from the command line', async () => {
    const home = mkdtempSync(join(tmpdir(), 'embctl-demo-cli-'));
    try {
      const res = await runCli(['demo', '--home', home], { env: { DATABASE_URL: '' } });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Upgrade report: .*upgrade-report\.html/);
      assert.match(res.stdout, /npx embctl migrate/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
