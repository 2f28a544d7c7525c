import { setFlagsFromString } from 'node:v8';

/**
 * Commands that stream a whole corpus through this process. They run with
 * V8's `--optimize-for-size`: by default V8 lets garbage grow the heap to
 * about four times what is live before a full collection when collections
 * are cheap, so their peak RSS rose with the length of the run, not with
 * what they hold (heap after GC stays near 25 MB). Measured on 1M chunks
 * with `hash:mixed-384` (bench/scale.ts): `backfill --dry-run` peak RSS
 * 238 → 173 MB; the backfill 290 → 182 MB, at a price in CPU: 166 s
 * instead of 140 s, 159 instead of 81 CPU seconds, for an encoder whose
 * work is all JavaScript (a remote or native encoder pays a smaller share).
 */
export const STREAMING_COMMANDS: ReadonlySet<string> = new Set(['ingest', 'backfill', 'sync']);

/** Favour memory over heap headroom for the rest of this process. */
export function favourMemory(): void {
  setFlagsFromString('--optimize-for-size');
}
