/**
 * The revision of a local model: sha256 over every file of its folder, in
 * sorted order of relative path (with `/` separators), each framed as
 * `path NUL size NUL contents`, read as a stream. Dot-files and dot-folders
 * (`.git`, `.cache`, `.DS_Store`) are left out.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface FolderFile {
  /** Relative path with `/` separators. */
  path: string;
  size: number;
}

/** Every regular file under `root` (symlinks followed), sorted by relative path. */
export async function listFolderFiles(root: string): Promise<FolderFile[]> {
  const out: FolderFile[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const entry of await readdir(dir)) {
      if (entry.startsWith('.')) continue;
      const full = join(dir, entry);
      const rel = prefix ? `${prefix}/${entry}` : entry;
      const info = await stat(full);
      if (info.isDirectory()) await walk(full, rel);
      else if (info.isFile()) out.push({ path: rel, size: info.size });
    }
  }
  await walk(root, '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function hashFile(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/** Hex sha256 of the folder's files (see the module comment for the framing). */
export async function hashModelFolder(root: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await listFolderFiles(root)) {
    hash.update(`${file.path}\0${file.size}\0`);
    await hashFile(hash, join(root, ...file.path.split('/')));
  }
  return hash.digest('hex');
}
