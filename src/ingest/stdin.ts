import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Save stdin to a private temporary file, so that it can be read twice
 * (validation, then writing) with memory bounded. `cleanup` removes it.
 */
export async function spoolStdin(stdin: NodeJS.ReadableStream): Promise<{ path: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'embctl-stdin-'));
  const path = join(dir, 'stdin.jsonl');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await pipeline(stdin, createWriteStream(path, { mode: 0o600 }));
  } catch (e) {
    cleanup();
    throw e;
  }
  return { path, cleanup };
}
