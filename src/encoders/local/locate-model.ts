/**
 * Turn the `model` option into a folder on disk: an existing folder wins;
 * otherwise a model id is looked up as `<cacheDir>/<id>/`. Nothing here
 * touches the network.
 */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../errors.js';

export type ModelLocation =
  /** A folder given by path, or a model id found in the cache dir. */
  | { kind: 'folder'; folder: string; name: string }
  /** A model id not on disk, to be downloaded into `folder` (only when remote loading is allowed). */
  | { kind: 'remote'; id: string; folder: string; name: string };

/** Hugging Face model id: `name` or `owner/name` (same rule as transformers.js). */
const MODEL_ID = /^(?:[\w\-.]+\/)?[\w\-.]{1,96}$/;

export function isModelId(text: string): boolean {
  return (
    MODEL_ID.test(text) &&
    !text.startsWith('.') &&
    !text.includes('..') &&
    !text.includes('--') &&
    !text.endsWith('.git')
  );
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function kindOf(p: string): 'dir' | 'file' | 'none' {
  try {
    return statSync(p).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

export function locateModel(
  model: string,
  opts: { cacheDir: string; allowRemote: boolean; cwd?: string },
): ModelLocation {
  const asPath = resolve(opts.cwd ?? process.cwd(), expandHome(model));
  const found = kindOf(asPath);
  if (found === 'dir') return { kind: 'folder', folder: asPath, name: basename(asPath) };
  if (found === 'file') {
    throw new InputError(`model "${model}" is a file, not a model folder: ${asPath}`);
  }
  if (!isModelId(model) || isAbsolute(model) || model.startsWith('~')) {
    throw new InputError(`model folder "${model}" not found: ${asPath}`);
  }
  const cached = resolve(opts.cacheDir, ...model.split('/'));
  if (kindOf(cached) === 'dir') return { kind: 'folder', folder: cached, name: model };
  if (opts.allowRemote) return { kind: 'remote', id: model, folder: cached, name: model };
  throw new InputError(
    `model "${model}" not found locally; pass a folder, or allow remote loading with allowRemote: true ` +
      `(it is then downloaded into ${opts.cacheDir})`,
    [`looked for the folder ${asPath}`, `looked for the model id in ${cached}`],
  );
}
