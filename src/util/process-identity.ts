import { createHash, randomBytes } from 'node:crypto';
import { processStartTime } from './process-start.js';

/**
 * A process is named by host and pid, but a pid is reused once its process
 * is gone. A tag of the process start time tells the process that wrote a
 * record from an unrelated one that got the same pid later.
 */

/** 8 hex characters derived from the start time of `pid`, or undefined when it cannot be read. */
export function processTag(pid: number): string | undefined {
  const started = processStartTime(pid);
  return started === undefined ? undefined : createHash('sha256').update(started).digest('hex').slice(0, 8);
}

/** This process's worker nonce: `<tag>-<random>` (tag `x` where start times cannot be read). */
export function workerNonce(): string {
  return `${processTag(process.pid) ?? 'x'}-${randomBytes(3).toString('hex')}`;
}

/** `host:pid:nonce[/n]` as written by a backfill; the tag when the nonce has one. */
export function parseWorkerId(id: string): { host: string; pid: number; tag?: string } {
  const [host = '', pid = '', nonce = ''] = id.split(':');
  const tag = /^([0-9a-f]{8})-/.exec(nonce)?.[1];
  return { host, pid: Number(pid), ...(tag ? { tag } : {}) };
}

/**
 * Whether a pid that `isAlive` reports running now belongs to another
 * process than the one that wrote `tag` (its start time differs).
 */
export function pidReused(pid: number, tag: string | undefined): boolean {
  if (!tag) return false;
  const now = processTag(pid);
  return now !== undefined && now !== tag;
}
