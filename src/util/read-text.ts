import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';

/** Read a UTF-8 file; a missing or unreadable file is an InputError that names it. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (code ?? String(e));
    throw new InputError(`Cannot read ${path}: ${why}`, [], { cause: e });
  }
}
