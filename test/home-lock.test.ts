import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareHome } from '../src/db/home-lock.js';
import { processStartTime } from '../src/util/process-start.js';
import { RefusedError } from '../src/errors.js';
import { runCli, TSX } from './support/cli.js';

// The embedded database folder's lock (PGlite serves one process). The same
// on both test passes: it is a file in the data folder.

const root = mkdtempSync(join(tmpdir(), 'embctl-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const home = () => {
  const dir = join(root, `home-${++n}`);
  mkdirSync(dir);
  return dir;
};

/** An unrelated live process (a stand-in for one that got a dead holder's pid). */
function bystander() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  return { pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

function lockOf(dir: string): string {
  return readFileSync(join(dir, 'embctl.lock'), 'utf8');
}

describe('the embedded folder lock', () => {
  test('records the holder (pid, host, process start time, token) and releases only its own lock', () => {
    const dir = home();
    const h = prepareHome(dir);
    const held = JSON.parse(lockOf(dir)) as { pid: number; host: string; started?: string; token: string };
    assert.equal(held.pid, process.pid);
    assert.equal(held.host, hostname());
    assert.equal(held.started, processStartTime(process.pid));
    assert.match(held.token, /^[0-9a-f]{24}$/);
    // Another process took the folder over (it judged us dead): our release leaves its lock alone.
    writeFileSync(join(dir, 'embctl.lock'), JSON.stringify({ pid: 1, host: hostname(), token: 'theirs' }));
    h.release();
    assert.match(lockOf(dir), /theirs/);
  });

  test(
    'a lock whose pid now belongs to another process (started at another time) is taken over',
    { skip: processStartTime(process.pid) ? false : 'process start times are not readable on this OS' },
    () => {
      const other = bystander();
      try {
        const dir = home();
        writeFileSync(
          join(dir, 'embctl.lock'),
          JSON.stringify({ pid: other.pid, host: hostname(), started: 'linux:1', token: 'old' }),
          { flag: 'wx' },
        );
        const h = prepareHome(dir);
        assert.equal((JSON.parse(lockOf(dir)) as { pid: number }).pid, process.pid);
        h.release();
        assert.equal(existsSync(join(dir, 'embctl.lock')), false);
      } finally {
        other.stop();
      }
    },
  );

  test('a live holder, or a pid-only lock of an older embctl whose pid is in use, is refused with how to recover', () => {
    const other = bystander();
    try {
      for (const content of [
        JSON.stringify({ pid: other.pid, host: hostname(), started: processStartTime(other.pid), token: 'live' }),
        String(other.pid),
      ]) {
        const dir = home();
        writeFileSync(join(dir, 'embctl.lock'), content);
        assert.throws(
          () => prepareHome(dir),
          (e: unknown) => {
            assert.ok(e instanceof RefusedError);
            assert.match(e.message, new RegExp(`in use by embctl process ${other.pid}`));
            assert.ok(
              e.message.includes(`if no embctl process is running, delete ${join(dir, 'embctl.lock')}`),
              e.message,
            );
            return true;
          },
        );
        assert.equal(lockOf(dir), content, 'the lock is left as it was');
      }
    } finally {
      other.stop();
    }
  });

  test('a lock held on another host is refused (it cannot be checked from here)', () => {
    const dir = home();
    writeFileSync(join(dir, 'embctl.lock'), JSON.stringify({ pid: 12345, host: 'elsewhere.example', token: 'x' }));
    assert.throws(() => prepareHome(dir), /in use by embctl process 12345 on elsewhere\.example \(another host/);
  });

  test('an empty lock file is never deleted while it may still be being written; an old one is taken over', () => {
    const dir = home();
    const lock = join(dir, 'embctl.lock');
    writeFileSync(lock, '');
    assert.throws(() => prepareHome(dir), /in use by another process \(its lock file is being written\)/);
    assert.equal(existsSync(lock), true);
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    prepareHome(dir).release();
  });

  test('processes racing for the folder hold it one at a time', async () => {
    const dir = home();
    const log = join(dir, 'holders.log');
    writeFileSync(log, '');
    const lockModule = fileURLToPath(new URL('../src/db/home-lock.ts', import.meta.url));
    const script = `
      import { appendFileSync } from 'node:fs';
      const { prepareHome } = await import(${JSON.stringify(lockModule)});
      let got = 0;
      while (got < 15) {
        let h;
        try { h = prepareHome(${JSON.stringify(dir)}); } catch (e) { if (e.name !== 'RefusedError') throw e; await new Promise((r) => setTimeout(r, 1)); continue; }
        appendFileSync(${JSON.stringify(log)}, '+' + process.pid + '\\n');
        const until = Date.now() + 3; while (Date.now() < until) {}
        appendFileSync(${JSON.stringify(log)}, '-' + process.pid + '\\n');
        h.release();
        got++;
      }`;
    const runs = Array.from(
      { length: 5 },
      () =>
        new Promise<number | null>((resolve) => {
          const c = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
            stdio: ['ignore', 'ignore', 'inherit'],
          });
          c.on('close', (code) => resolve(code));
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0, 0, 0]);
    const events = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(events.length, 5 * 15 * 2);
    for (let i = 0; i < events.length; i += 2) {
      assert.ok(
        events[i]!.startsWith('+') && events[i + 1] === `-${events[i]!.slice(1)}`,
        `overlapping holders at event ${i}: ${events.slice(i, i + 3).join(' ')}`,
      );
    }
  });

  test('embctl says who holds the folder and how to recover, in one line', async () => {
    const other = bystander();
    try {
      const dir = home();
      writeFileSync(join(dir, 'embctl.lock'), String(other.pid));
      const r = await runCli(['status'], { env: { DATABASE_URL: '', EMBCTL_HOME: dir } });
      assert.equal(r.code, 1);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        new RegExp(
          `^embctl: data folder .* is in use by embctl process ${other.pid}: .*; if no embctl process is running, delete .*embctl\\.lock$`,
        ),
      );
    } finally {
      other.stop();
    }
  });
});
