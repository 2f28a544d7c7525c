/**
 * Where a cross-encoder's files are: a folder given by path, or a model id
 * found in the local model cache (the same rules as `local:` encoders).
 * Offline by default: an id that is not on disk is refused with what to do,
 * unless remote loading is allowed, then it is downloaded into the cache.
 */
import { resolve } from 'node:path';
import { defaultModelCacheDir, downloadModel, locateModel, readModelInfo } from '../../encoders/index.js';
import { EncoderError, InputError } from '../../errors.js';
import type { Logger } from '../../log/index.js';

export interface CrossEncoderLocation {
  folder: string;
  /** The folder's base name, or the model id. */
  name: string;
  /** The identity's model: the absolute folder, or the model id. */
  model: string;
}

/** The ONNX variant to load: the folder's own `transformers.js_config.dtype`, else fp32. */
export function dtypeOf(folder: string): string {
  return readModelInfo(folder).configDtype ?? 'fp32';
}

export async function locateCrossEncoder(
  target: string,
  opts: { cwd?: string; allowRemote?: boolean; cacheDir?: string; logger?: Logger },
): Promise<CrossEncoderLocation> {
  const cacheDir = opts.cacheDir ?? defaultModelCacheDir();
  // allowRemote: true only to learn whether the id is on disk; refused below unless the caller allowed it.
  let where;
  try {
    where = locateModel(target, { cacheDir, allowRemote: true, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(`cross-encoder:${target}: ${e.message}`, e.details, { cause: e });
  }
  if (where.kind === 'folder') {
    // A model id found in the cache dir is named by its id; a folder given by path, by its absolute path.
    const byId = where.folder === resolve(cacheDir, ...target.split('/'));
    return { folder: where.folder, name: where.name, model: byId ? target : where.folder };
  }
  if (!opts.allowRemote) {
    throw new InputError(
      `cross-encoder:${target}: no such folder, and the model is not downloaded; judges run offline: ` +
        `download the model (ONNX) into a folder and pass cross-encoder:<that folder>`,
      [
        `looked for the folder ${target} under ${opts.cwd ?? process.cwd()}`,
        `looked for the model id in ${where.folder}`,
      ],
    );
  }
  opts.logger?.info({ model: where.id, folder: where.folder }, 'downloading the cross-encoder');
  try {
    await downloadModel(where.id, cacheDir, () => dtypeOf(where.folder));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new EncoderError(
      `cross-encoder:${where.id}: download failed: ${e instanceof Error ? e.message : String(e)}`,
      [],
      { cause: e },
    );
  }
  return { folder: where.folder, name: where.name, model: where.id };
}
