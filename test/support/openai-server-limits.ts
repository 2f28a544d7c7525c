/**
 * Requests-per-window and tokens-per-window limits of the test server, over a
 * sliding window, and the 429 answer they give (Retry-After, retry-after-ms,
 * x-ratelimit-*). One window per endpoint (embeddings, chat completions).
 */

export interface RateLimits {
  /** Requests per window; 429 above. */
  rpm?: number;
  /** Tokens per window; 429 above. */
  tpm?: number;
  /** Sliding window length in ms. */
  windowMs: number;
}

export interface RateLimitAnswer {
  status: 429;
  headers: Record<string, string>;
  body: { error: { message: string; type: string; param: null; code: string } };
  /** The wait asked for, in ms (retry-after-ms, else Retry-After seconds). */
  retryAfterMs: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Number((s % 60).toFixed(3))}s`;
}

export class RateWindow {
  /** Accepted requests in the window: [time, tokens]. */
  private entries: Array<{ at: number; tokens: number }> = [];

  constructor(private readonly limits: RateLimits) {}

  clear(): void {
    this.entries = [];
  }

  /** Count an accepted request. */
  add(at: number, tokens: number): void {
    this.entries.push({ at, tokens });
  }

  private prune(now: number): void {
    const from = now - this.limits.windowMs;
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.at <= from) i++;
    if (i) this.entries = this.entries.slice(i);
  }

  /** The x-ratelimit-* headers for the limits that are set. */
  headers(now: number, extraTokens = 0): Record<string, string> {
    const { rpm, tpm, windowMs } = this.limits;
    const h: Record<string, string> = {};
    const used = this.entries.reduce((a, w) => a + w.tokens, 0) + extraTokens;
    const oldest = this.entries[0]?.at;
    const reset = oldest === undefined ? 0 : oldest + windowMs - now;
    if (rpm !== undefined) {
      h['x-ratelimit-limit-requests'] = String(rpm);
      h['x-ratelimit-remaining-requests'] = String(Math.max(0, rpm - this.entries.length));
      h['x-ratelimit-reset-requests'] = formatDuration(reset);
    }
    if (tpm !== undefined) {
      h['x-ratelimit-limit-tokens'] = String(tpm);
      h['x-ratelimit-remaining-tokens'] = String(Math.max(0, tpm - used));
      h['x-ratelimit-reset-tokens'] = formatDuration(reset);
    }
    return h;
  }

  /** How long until a request of `tokens` would fit, or null when it fits now. */
  waitNeeded(now: number, tokens: number): { ms: number; kind: 'requests' | 'tokens' } | null {
    const { rpm, tpm, windowMs } = this.limits;
    this.prune(now);
    if (rpm !== undefined && this.entries.length >= rpm) {
      const idx = this.entries.length - rpm;
      return { ms: this.entries[idx]!.at + windowMs - now, kind: 'requests' };
    }
    if (tpm !== undefined) {
      let used = this.entries.reduce((a, w) => a + w.tokens, 0);
      if (used + tokens > tpm) {
        if (tokens > tpm) return { ms: windowMs, kind: 'tokens' };
        for (const w of this.entries) {
          used -= w.tokens;
          if (used + tokens <= tpm) return { ms: w.at + windowMs - now, kind: 'tokens' };
        }
      }
    }
    return null;
  }

  /** The 429 answer for a request that does not fit (`wait` from waitNeeded). */
  reject(
    now: number,
    wait: { ms: number; kind: 'requests' | 'tokens' },
    model: string,
    retryAfterMsHeader: boolean,
  ): RateLimitAnswer {
    const ms = Math.max(1, Math.ceil(wait.ms));
    const headers: Record<string, string> = { ...this.headers(now), 'retry-after': String(Math.ceil(ms / 1000)) };
    if (retryAfterMsHeader) headers['retry-after-ms'] = String(ms);
    const limit = wait.kind === 'requests' ? `${this.limits.rpm} requests` : `${this.limits.tpm} tokens`;
    const message = `Rate limit reached for ${model}: limit ${limit} per ${this.limits.windowMs} ms. Please try again in ${formatDuration(ms)}.`;
    return {
      status: 429,
      headers,
      body: { error: { message, type: wait.kind, param: null, code: 'rate_limit_exceeded' } },
      retryAfterMs: retryAfterMsHeader ? ms : Math.ceil(ms / 1000) * 1000,
    };
  }
}
