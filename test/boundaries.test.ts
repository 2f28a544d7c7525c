import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// The module boundaries ARCHITECTURE.md states, checked by
// scripts/check-boundaries.mjs: imports across folders of src/ go through the
// folder's index.ts, and lower layers never import higher ones.

const root = new URL('..', import.meta.url).pathname;
const script = join(root, 'scripts/check-boundaries.mjs');

function runCheck(repo: string) {
  return spawnSync(process.execPath, [join(repo, 'scripts/check-boundaries.mjs')], { encoding: 'utf8' });
}

test('src/ keeps its module boundaries', () => {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the check fails on a deep import and on an upward import, naming both', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embctl-boundaries-'));
  try {
    mkdirSync(join(dir, 'scripts'));
    cpSync(script, join(dir, 'scripts/check-boundaries.mjs'));
    cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
    assert.equal(runCheck(dir).status, 0, 'the copy is clean');
    // versions (layer 4) reaching into a file of search (layer 7): both rules broken.
    writeFileSync(join(dir, 'src/versions/bad.ts'), "export { DEFAULT_K } from '../search/searcher.js';\n");
    const r = runCheck(dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /src\/versions\/bad\.ts: imports \.\.\/search\/searcher\.js: a deep import; import '\.\.\/search\/index\.js' instead/,
    );
    assert.match(r.stderr, /versions \(layer 4\) may not import search \(layer 7\)/);
    writeFileSync(join(dir, 'src/versions/bad.ts'), "export { partitionTable } from '../partitions/index.js';\n");
    assert.equal(runCheck(dir).status, 0, 'a downward import through the surface is fine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
