import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { compileGlobs } from './glob.js';
import { detectFileKind, type FileKind } from './detect.js';
import { DEFAULT_EXCLUDE, DEFAULT_INCLUDE, walkFolder } from './walk.js';
import type { IngestFormat } from './types.js';

export const STDIN_NAME = '<stdin>';

/** A command-line input, checked to exist. */
export interface InputArg {
  arg: string;
  type: 'file' | 'folder' | 'stdin';
}

/** One file to read: its name in reports, where to read it, and how. */
export interface Source {
  /** Position in this run (the same in both passes). */
  no: number;
  display: string;
  path: string;
  kind: FileKind;
  /** Document id of a text file: its path relative to the folder given, or its file name. */
  docId?: string;
}

export interface SourceOptions {
  format: IngestFormat;
  include?: string[];
  exclude?: string[];
  /** Where stdin was saved for this run (`-`). */
  stdinPath?: string;
}

/** Check every input up front; all the missing ones are reported together. */
export async function checkInputs(inputs: readonly string[]): Promise<InputArg[]> {
  if (inputs.length === 0) throw new UsageError('nothing to ingest: give files, folders, or - for JSONL on stdin');
  if (inputs.filter((a) => a === '-').length > 1) throw new UsageError('- (stdin) can be given only once');
  const out: InputArg[] = [];
  const problems: string[] = [];
  for (const arg of inputs) {
    if (arg === '-') {
      out.push({ arg, type: 'stdin' });
      continue;
    }
    const s = await stat(arg).catch((e: NodeJS.ErrnoException) => e);
    if (s instanceof Error) problems.push(`${arg}: ${s.code === 'ENOENT' ? 'no such file or folder' : s.message}`);
    else if (s.isDirectory()) out.push({ arg, type: 'folder' });
    else if (s.isFile()) out.push({ arg, type: 'file' });
    else problems.push(`${arg}: not a file or folder`);
  }
  if (problems.length) {
    throw new InputError(
      problems.length === 1 ? problems[0]! : `${problems.length} inputs cannot be read; nothing was ingested`,
      problems.length === 1 ? [] : problems,
    );
  }
  return out;
}

/** Every file of the run, in a stable order; the same sequence on each call. */
export async function* listSources(inputs: readonly InputArg[], opts: SourceOptions): AsyncGenerator<Source> {
  const include = compileGlobs(opts.include?.length ? opts.include : DEFAULT_INCLUDE);
  const exclude = compileGlobs(opts.exclude ?? DEFAULT_EXCLUDE);
  let no = 0;
  for (const input of inputs) {
    if (input.type === 'stdin') {
      if (!opts.stdinPath) throw new Error('stdin was not saved before reading');
      if (opts.format === 'text')
        throw new UsageError('- reads JSONL records from stdin; it cannot be read with --format text');
      yield {
        no: no++,
        display: STDIN_NAME,
        path: opts.stdinPath,
        kind: await detectFileKind(opts.stdinPath, opts.format, true),
      };
    } else if (input.type === 'file') {
      const kind = await detectFileKind(input.arg, opts.format);
      yield { no: no++, display: input.arg, path: input.arg, kind, docId: basename(input.arg) };
    } else {
      for await (const rel of walkFolder(input.arg, include, exclude)) {
        const path = join(input.arg, rel);
        yield { no: no++, display: path, path, kind: await detectFileKind(path, opts.format), docId: rel };
      }
    }
  }
}
