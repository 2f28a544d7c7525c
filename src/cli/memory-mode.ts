import { setFlagsFromString } from 'node:v8';

/**
 * Commands that stream a whole corpus through this process. They run with
 * V8's `--optimize-for-size`: by default V8 lets garbage grow the heap to
 * about four times what is live before a full collection when collections
 * are cheap, so their peak RSS rose with the length of the run, not with
 * what they hold (heap after GC stays near 25 MB). Measured on 1M chunks:
 * `backfill --dry-run` peak RSS 230 → 135 MB; a 100k `backfill` 230–285 →
 * 160 MB, in no more time (bench/scale.ts, bench/memory.ts).
 */
export const STREAMING_COMMANDS: ReadonlySet<string> = new Set(['ingest', 'backfill', 'sync']);

let applied = false;

/** Favour memory over heap headroom for the rest of this process (once). */
export function favourMemory(): void {
  if (applied) return;
  setFlagsFromString('--optimize-for-size');
  applied = true;
}
