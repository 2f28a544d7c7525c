import { sleep } from '../util/index.js';

/**
 * Client-side quota: token buckets for requests and tokens per minute, and
 * an AIMD concurrency limit that halves on a 429 and grows slowly while the
 * provider answers cleanly. Together they hold a run close to the
 * provider's limit without 429 storms. The clock is injectable for tests.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep,
};

/** A bucket that starts empty and refills at `perMinute`, holding at most `burstMs` of it. */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  #level = 0;
  #at: number;
  readonly #clock: Clock;

  constructor(perMinute: number, clock: Clock, burstMs = 250) {
    this.#ratePerMs = perMinute / 60_000;
    this.#capacity = Math.max(1, this.#ratePerMs * burstMs);
    this.#clock = clock;
    this.#at = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#level = Math.min(this.#capacity, this.#level + (now - this.#at) * this.#ratePerMs);
    this.#at = now;
  }

  /** Milliseconds until `amount` can be taken (0: now). An amount above capacity waits for a full bucket. */
  waitFor(amount: number): number {
    this.#refill();
    const need = Math.min(amount, this.#capacity);
    return this.#level >= need ? 0 : (need - this.#level) / this.#ratePerMs;
  }

  take(amount: number): void {
    this.#refill();
    this.#level -= amount; // may go negative for an oversized amount: later takers wait
  }

  /** Forget any saved-up burst (after a 429: the provider's window is full). */
  drain(): void {
    this.#refill();
    this.#level = Math.min(this.#level, 0);
  }
}

export interface QuotaOptions {
  rpm?: number;
  tpm?: number;
  /** Most encoder requests in flight. */
  maxConcurrency: number;
  /** Fraction of the stated limits to aim at (default 0.98). */
  headroom?: number;
  clock?: Clock;
}

export interface QuotaStats {
  concurrency: number;
  inFlight: number;
  rateLimited: number;
}

/** Admission for encoder requests: rate buckets, pause on Retry-After, adaptive concurrency. */
export class Quota {
  readonly #clock: Clock;
  readonly #requests: TokenBucket | undefined;
  readonly #tokens: TokenBucket | undefined;
  readonly #max: number;
  #limit: number;
  #inFlight = 0;
  #pausedUntil = 0;
  #lastDecrease = -Infinity;
  #rateLimited = 0;
  #waiters: Array<() => void> = [];
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: QuotaOptions) {
    this.#clock = opts.clock ?? realClock;
    const h = opts.headroom ?? 0.98;
    this.#requests = opts.rpm ? new TokenBucket(opts.rpm * h, this.#clock) : undefined;
    this.#tokens = opts.tpm ? new TokenBucket(opts.tpm * h, this.#clock) : undefined;
    this.#max = Math.max(1, opts.maxConcurrency);
    this.#limit = Math.min(this.#max, 4);
  }

  get stats(): QuotaStats {
    return { concurrency: Math.floor(this.#limit), inFlight: this.#inFlight, rateLimited: this.#rateLimited };
  }

  /**
   * Wait for a concurrency slot, then for the rate buckets (in FIFO order, so
   * large requests are not starved), and take them. Returns a release function.
   */
  async acquire(tokens: number, signal?: AbortSignal): Promise<() => void> {
    while (this.#inFlight >= Math.floor(this.#limit)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    signal?.throwIfAborted();
    this.#inFlight++;
    try {
      const turn = this.#queue.then(() => this.#waitRate(tokens, signal));
      this.#queue = turn.catch(() => {});
      await turn;
    } catch (e) {
      this.#release();
      throw e;
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#release();
      }
    };
  }

  async #waitRate(tokens: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const pause = this.#pausedUntil - this.#clock.now();
      const wait = Math.max(pause, this.#requests?.waitFor(1) ?? 0, this.#tokens?.waitFor(tokens) ?? 0);
      if (wait <= 0) break;
      await this.#clock.sleep(wait, signal);
    }
    this.#requests?.take(1);
    this.#tokens?.take(tokens);
  }

  #release(): void {
    this.#inFlight--;
    this.#wake();
  }

  /** Let every waiter re-check for a free slot (each re-checks before taking one). */
  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The provider said 429: halve concurrency (once per cooldown) and pause all requests. */
  onRateLimited(retryAfterMs: number | null): void {
    this.#rateLimited++;
    const now = this.#clock.now();
    if (retryAfterMs && retryAfterMs > 0) this.#pausedUntil = Math.max(this.#pausedUntil, now + retryAfterMs);
    // No burst may build up during the pause: it would land with the retries.
    this.#requests?.drain();
    this.#tokens?.drain();
    if (now - this.#lastDecrease > Math.max(1000, retryAfterMs ?? 0)) {
      this.#limit = Math.max(1, this.#limit / 2);
      this.#lastDecrease = now;
    }
  }

  /** A clean answer: grow by about one slot per window of `limit` successes. */
  onSuccess(): void {
    if (this.#limit < this.#max) {
      this.#limit = Math.min(this.#max, this.#limit + 1 / this.#limit);
      this.#wake();
    }
  }
}
