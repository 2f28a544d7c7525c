import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { GlobMatcher } from './glob.js';

/** Default include globs for folders: text, Markdown and JSON-lines files. */
export const DEFAULT_INCLUDE = ['*.{txt,text,md,markdown,mdown,mkd,jsonl,ndjson}'];
/** Default exclude globs for folders: dot-files and dot-folders, node_modules. */
export const DEFAULT_EXCLUDE = ['.*', 'node_modules'];

/**
 * The files under `root` (relative paths with `/`), depth first in code-point
 * order of names so that every run sees the same order. A folder matching an
 * exclude glob is not entered; symbolic links to files are followed, links
 * to folders are not (no cycles).
 */
export async function* walkFolder(
  root: string,
  include: GlobMatcher,
  exclude: GlobMatcher,
  rel = '',
): AsyncGenerator<string> {
  const dir = await opendir(rel ? join(root, rel) : root);
  const entries: { name: string; dir: boolean; file: boolean; link: boolean }[] = [];
  for await (const e of dir)
    entries.push({ name: e.name, dir: e.isDirectory(), file: e.isFile(), link: e.isSymbolicLink() });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    if (e.dir) {
      if (exclude(relPath) || exclude(`${relPath}/`)) continue;
      yield* walkFolder(root, include, exclude, relPath);
      continue;
    }
    if (!e.file && !e.link) continue; // sockets, FIFOs, devices
    if (e.link) {
      const s = await stat(join(root, relPath)).catch(() => undefined);
      if (!s?.isFile()) continue;
    }
    if (include(relPath) && !exclude(relPath)) yield relPath;
  }
}
