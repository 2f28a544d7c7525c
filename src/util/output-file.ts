import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../errors.js';

/**
 * Write a file the user named (a report, JUnit XML, a run file) whole or not
 * at all: written under a temporary name beside it, then renamed over it.
 * A path that cannot be written is the user's input to fix: an InputError
 * naming the path and why, and no temporary file is left behind.
 */
export function writeOutputFile(path: string, text: string, what: string): string {
  const abs = resolve(path);
  const tmp = `${abs}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(tmp, text, 'utf8');
    renameSync(tmp, abs);
    return abs;
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* never written */
    }
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EISDIR' || err.code === 'EBUSY'
        ? 'it is a folder'
        : err.code === 'EACCES' || err.code === 'EPERM'
          ? 'permission denied'
          : (err.code ?? err.message);
    throw new InputError(`cannot write the ${what} to ${path} (${why}): choose a file path you can write`, [], {
      cause: e,
    });
  }
}
