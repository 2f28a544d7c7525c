import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { InputError, RefusedError } from '../errors.js';
import { isProcessAlive } from '../util/process-alive.js';

/**
 * The embedded database folder: created on first use, checked writable, and
 * held by one process at a time (PGlite is single-process; two writers would
 * corrupt it). A lock left by a dead process is taken over.
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
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try { unlinkSync(lockPath); } catch { /* already gone */ }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readSafe(lockPath));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isProcessAlive(holder)) {
        throw new RefusedError(
          `data folder ${homeDir} is in use by embctl process ${holder}: the embedded database serves one process at a time; wait for it, or use a PostgreSQL server (DATABASE_URL) for concurrent work`,
        );
      }
      try { unlinkSync(lockPath); } catch { /* raced */ }
    }
  }
  throw new RefusedError(`could not lock data folder ${homeDir}: another process keeps taking it`);
}

function readSafe(path: string): string {
  try { return readFileSync(path, 'utf8').trim(); } catch { return ''; }
}
