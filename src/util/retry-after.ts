/**
 * Reading how long a server asked us to wait: `retry-after-ms` (milliseconds,
 * non-standard but sent by OpenAI and Azure), `Retry-After` (delta-seconds or
 * an HTTP-date, RFC 9110 §10.2.3), and OpenAI's `x-ratelimit-reset-*`
 * durations (`1s`, `6m0s`, `250ms`) as a fallback hint.
 */

/** Anything headers can be read from: a fetch `Headers`, a plain record, node's IncomingHttpHeaders. */
export type HeaderSource =
  { get(name: string): string | null | undefined } | Record<string, string | string[] | number | undefined | null>;

function header(headers: HeaderSource | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(n: string): string | null | undefined }).get(name);
    return v == null ? undefined : String(v);
  }
  const rec = headers as Record<string, unknown>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  if (key === undefined) return undefined;
  const v = rec[key];
  if (v == null) return undefined;
  return Array.isArray(v) ? (v[0] === undefined ? undefined : String(v[0])) : String(v);
}

/** `Retry-After` value → milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfterValue(value: string | undefined | null, now: number = Date.now()): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // HTTP-date (IMF-fixdate and the obsolete forms Date.parse understands).
  if (!/[a-z]/i.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** OpenAI reset durations such as `1s`, `6m0s`, `1h2m3.5s`, `250ms` → milliseconds. */
export function parseResetDuration(value: string | undefined | null): number | null {
  if (value == null) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'h' ? n * 3_600_000 : unit === 'm' ? n * 60_000 : unit === 's' ? n * 1000 : n;
    matched = re.lastIndex;
  }
  if (matched !== v.length) return null;
  return Math.round(total);
}

/**
 * How long the server asked us to wait, in milliseconds, or null when it did
 * not say. `retry-after-ms` wins (it is the precise one), then `Retry-After`.
 * With `useRateLimitReset`, the reset time of an exhausted `x-ratelimit-*`
 * budget is used when neither is present.
 */
export function parseRetryAfter(
  headers: HeaderSource | null | undefined,
  options: { now?: number; useRateLimitReset?: boolean } = {},
): number | null {
  const now = options.now ?? Date.now();
  const msHeader = header(headers, 'retry-after-ms');
  if (msHeader !== undefined && /^\d+(\.\d+)?$/.test(msHeader.trim())) {
    return Math.round(Number(msHeader.trim()));
  }
  const ra = parseRetryAfterValue(header(headers, 'retry-after'), now);
  if (ra !== null) return ra;
  if (!options.useRateLimitReset) return null;
  let best: number | null = null;
  for (const kind of ['requests', 'tokens']) {
    const remaining = header(headers, `x-ratelimit-remaining-${kind}`);
    if (remaining === undefined || Number(remaining) > 0) continue;
    const reset = parseResetDuration(header(headers, `x-ratelimit-reset-${kind}`));
    if (reset !== null) best = Math.max(best ?? 0, reset);
  }
  return best;
}
