/**
 * One entry point for `--judged <path>`: a folder is read as a BEIR layout,
 * a file as embctl JSONL. (TREC qrels need a queries file too: readTrecJudgedSet.)
 */
import { stat } from 'node:fs/promises';
import { NotFoundError } from '../errors.js';
import { readBeirJudgedSet, type BeirOptions } from './beir.js';
import { readJudgedSetJsonl } from './jsonl.js';
import type { JudgedSet } from './judged-set.js';
import { readTrecJudgedSet } from './trec.js';

export interface LoadJudgedSetOptions extends BeirOptions {
  /** With a TREC qrels file as `path`: the queries file (TSV or JSONL). */
  queries?: string;
}

export async function loadJudgedSet(path: string, options: LoadJudgedSetOptions = {}): Promise<JudgedSet> {
  if (options.queries) return readTrecJudgedSet(path, options.queries, options);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (e) {
    throw new NotFoundError(`Cannot read judged set ${path}: no such file or folder`, [], { cause: e });
  }
  return isDir ? readBeirJudgedSet(path, options) : readJudgedSetJsonl(path, options);
}
