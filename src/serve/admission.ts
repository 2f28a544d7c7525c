import { HttpError } from './http-util.js';

/**
 * Admission control for the routes that need the database pool: at most
 * `limit` requests run at once, at most `queue` more wait for a slot (first
 * come, first served), and none waits longer than `waitMs`. A request that
 * finds the queue full, or whose wait runs out, is refused with a 503 and
 * `Retry-After` instead of piling up behind the pool: the service holds a
 * bounded amount of work whatever the load.
 */
export interface AdmissionOptions {
  /** Requests running at once (≥ 1). */
  limit: number;
  /** Requests waiting for a slot (≥ 0; 0 refuses whatever finds all slots taken). */
  queue: number;
  /** Longest wait in the queue, in milliseconds (≥ 1). */
  waitMs: number;
  /** Retry-After of a refusal, in seconds (default 1). */
  retryAfterSeconds?: number;
}

export type RejectReason = 'queue_full' | 'wait_timeout';

export interface AdmissionStats {
  limit: number;
  queueLimit: number;
  running: number;
  queued: number;
  /** The most requests that ever waited at once (never above `queueLimit`). */
  maxQueued: number;
  rejected: Record<RejectReason, number>;
}

/** Give back the slot (safe twice). */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  timer: NodeJS.Timeout;
}

/** The defaults that do not depend on the pool: see `admissionOptions`. */
export const ADMISSION_DEFAULTS = {
  reservedConnections: 2,
  queuePerSlot: 4,
  waitMs: 5_000,
  retryAfterSeconds: 1,
} as const;

/**
 * The admission settings for a pool of `poolSize` connections, with what the
 * operator set. Defaults: `limit` leaves two connections to what must not
 * wait behind searches (the LISTEN watcher, /healthz, the admin routes,
 * shadow logging), at least 1; `queue` is four per slot (of the limit in
 * force); `waitMs` 5 s; `retryAfterSeconds` 1.
 */
export function admissionOptions(poolSize: number, set: Partial<AdmissionOptions> = {}): AdmissionOptions {
  const limit = set.limit ?? Math.max(1, poolSize - ADMISSION_DEFAULTS.reservedConnections);
  return {
    limit,
    queue: set.queue ?? limit * ADMISSION_DEFAULTS.queuePerSlot,
    waitMs: set.waitMs ?? ADMISSION_DEFAULTS.waitMs,
    retryAfterSeconds: set.retryAfterSeconds ?? ADMISSION_DEFAULTS.retryAfterSeconds,
  };
}

export class Admission {
  readonly #opts: Required<AdmissionOptions>;
  readonly #waiting: Waiter[] = [];
  #running = 0;
  #maxQueued = 0;
  readonly #rejected: Record<RejectReason, number> = { queue_full: 0, wait_timeout: 0 };

  constructor(opts: AdmissionOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new RangeError('admission limit must be ≥ 1');
    if (!Number.isInteger(opts.queue) || opts.queue < 0) throw new RangeError('admission queue must be ≥ 0');
    if (!(opts.waitMs >= 1)) throw new RangeError('admission wait must be ≥ 1 ms');
    this.#opts = { retryAfterSeconds: 1, ...opts };
  }

  /** A slot now, or after a wait in the queue; a 503 HttpError when the queue is full or the wait runs out. */
  acquire(): Promise<Release> {
    if (this.#running < this.#opts.limit) {
      this.#running++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#waiting.length >= this.#opts.queue) return Promise.reject(this.#refuse('queue_full'));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(() => {
          const i = this.#waiting.indexOf(waiter);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(this.#refuse('wait_timeout'));
        }, this.#opts.waitMs).unref(),
      };
      this.#waiting.push(waiter);
      this.#maxQueued = Math.max(this.#maxQueued, this.#waiting.length);
    });
  }

  stats(): AdmissionStats {
    return {
      limit: this.#opts.limit,
      queueLimit: this.#opts.queue,
      running: this.#running,
      queued: this.#waiting.length,
      maxQueued: this.#maxQueued,
      rejected: { ...this.#rejected },
    };
  }

  #releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiting.shift();
      if (next) {
        // The slot passes straight to the next in line: `running` stays the same.
        clearTimeout(next.timer);
        next.grant(this.#releaser());
      } else {
        this.#running--;
      }
    };
  }

  #refuse(reason: RejectReason): HttpError {
    this.#rejected[reason]++;
    const after = this.#opts.retryAfterSeconds;
    const why =
      reason === 'queue_full'
        ? `${this.#opts.limit} requests are running and ${this.#opts.queue} waiting`
        : `no slot came free within ${this.#opts.waitMs} ms`;
    return new HttpError(503, 'overloaded', `the service is overloaded (${why}): try again in ${after} s`, [], {
      'retry-after': String(after),
    });
  }
}
