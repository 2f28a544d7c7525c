import { UsageError } from '../errors.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parse `30m`, `24h`, `7d` (also `45s`, `2w`) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0)) {
    throw new UsageError(`"${text}" is not a duration: use a number and a unit, e.g. 30m, 24h or 7d`);
  }
  return n * UNIT_MS[m[2]!.toLowerCase() as keyof typeof UNIT_MS];
}

/** The instant `text` ago (a duration) — or the date itself if it is an ISO timestamp. */
export function parseSince(text: string, now: Date = new Date()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const d = new Date(text.trim());
    if (Number.isNaN(d.getTime()))
      throw new UsageError(`"${text}" is not a valid date: use e.g. 24h or 2025-01-31T00:00:00Z`);
    return d;
  }
  return new Date(now.getTime() - parseDuration(text));
}
