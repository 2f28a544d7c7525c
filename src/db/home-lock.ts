import {
  accessSync,
  constants,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError, RefusedError } from '../errors.js';
import { isProcessAlive } from '../util/index.js';
import { processStartTime } from '../util/index.js';

/** What a lock file records about its holder. */
interface Holder {
  pid: number;
  host?: string;
  /** The holder's process start time (util/process-start): tells a reused pid from the holder. */
  started?: string;
  /** Random, per acquisition: a process releases only the lock it made. */
  token?: string;
}

/** An empty or unreadable lock file younger than this may still be being written by an older embctl. */
const FRESH_MS = 5000;

/**
 * The embedded database folder: created on first use, checked writable, and
 * held by one process at a time (PGlite is single-process; two writers would
 * corrupt it). The lock file is written in full under a temporary name and
 * then hard-linked into place, so it exists only with its content: another
 * process never reads it empty. It records the holder's pid, host, process
 * start time and a random token. A lock whose process is gone, or whose pid
 * now belongs to a process that started at another time (a reused pid), is
 * taken over; otherwise the error says who holds it and how to recover.
 */
export function prepareHome(homeDir: string): { release(): void } {
  try {
    mkdirSync(homeDir, { recursive: true });
    accessSync(homeDir, constants.W_OK);
  } catch (e) {
    throw new InputError(
      `data folder ${homeDir} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'}): set EMBCTL_HOME or --home to a writable folder, or set DATABASE_URL to use a PostgreSQL server`,
    );
  }
  const lockPath = join(homeDir, 'embctl.lock');
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    started: processStartTime(process.pid),
    token: randomBytes(12).toString('hex'),
  };
  const content = JSON.stringify(me);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createAtomically(lockPath, content)) {
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          // Only our own lock: after a takeover by a process that judged us dead, the file is theirs.
          if (read(lockPath)?.text === content) {
            try {
              unlinkSync(lockPath);
            } catch {
              /* already gone */
            }
          }
        },
      };
    }
    const seen = read(lockPath);
    if (!seen) continue; // released meanwhile: try again
    const verdict = judge(seen.text, seen.ageMs);
    if (verdict.alive) {
      throw new RefusedError(
        `data folder ${homeDir} is in use by ${verdict.who}: the embedded database serves one process at a time; wait for it, or use a PostgreSQL server (DATABASE_URL) for concurrent work; if no embctl process is running, delete ${lockPath}`,
      );
    }
    removeIfUnchanged(lockPath, seen.text);
  }
  throw new RefusedError(
    `could not lock data folder ${homeDir}: other processes keep taking it; try again, or delete ${lockPath} if no embctl process is running`,
  );
}

/** Write `content` to `path` only if `path` does not exist, in one step. */
function createAtomically(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone */
    }
  }
}

/** Whether the lock's holder may be alive, and how to name it. */
function judge(text: string, ageMs: number): { alive: boolean; who: string } {
  const h = parseHolder(text);
  if (!h) {
    // Empty or garbled: an older embctl may be writing it right now; old, it was left by a crash.
    return { alive: ageMs < FRESH_MS, who: 'another process (its lock file is being written)' };
  }
  const who = `embctl process ${h.pid}${h.host ? ` on ${h.host}` : ''}`;
  if (h.host && h.host !== hostname())
    return { alive: true, who: `${who} (another host: it cannot be checked from here)` };
  // Our own pid: an earlier open in this process (as before), or a dead process whose pid we got.
  if (h.pid === process.pid) return { alive: false, who };
  if (!isProcessAlive(h.pid)) return { alive: false, who };
  // The pid is taken. By the holder, or by an unrelated process that got the pid after the holder died?
  if (h.started) {
    const now = processStartTime(h.pid);
    if (now !== undefined && now !== h.started) return { alive: false, who };
  }
  return { alive: true, who };
}

function parseHolder(text: string): Holder | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) }; // written by an older embctl: a pid only
  try {
    const v = JSON.parse(t) as Partial<Holder>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0) {
      return {
        pid: v.pid!,
        host: typeof v.host === 'string' ? v.host : undefined,
        started: typeof v.started === 'string' ? v.started : undefined,
        token: typeof v.token === 'string' ? v.token : undefined,
      };
    }
  } catch {
    /* garbled */
  }
  return undefined;
}

/**
 * Remove a stale lock, but only the one judged: it is first moved aside
 * (atomic), and put back if what was moved is not what was read (another
 * process took the folder over in between).
 */
function removeIfUnchanged(lockPath: string, judged: string): void {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // gone already
  }
  const moved = read(aside)?.text;
  if (moved !== judged) {
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a third process holds it now; it wins */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* gone */
  }
}

function read(path: string): { text: string; ageMs: number } | undefined {
  try {
    const ageMs = Date.now() - statSync(path).mtimeMs;
    return { text: readFileSync(path, 'utf8'), ageMs };
  } catch {
    return undefined;
  }
}
