/**
 * The one progress callback shape: long operations (ingest, backfill, sync,
 * evaluate) call `onProgress` with one object that names its `phase`; each
 * operation extends it with its own counters.
 */
export interface Progress {
  phase: string;
}

export type OnProgress<P extends Progress> = (progress: P) => void;
