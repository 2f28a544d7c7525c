/**
 * A bounded work queue with idle hand-off: an item offered while a worker
 * waits goes straight to that worker; otherwise it waits in the queue, up to
 * `capacity` items; beyond that the offer is refused (the caller drops it).
 * It also counts the items workers hold (taken and not yet `done`).
 * No I/O, no timers: the shadower's workers run on it.
 */
export type OfferResult = 'handed' | 'queued' | 'full';

export class HandoffQueue<T> {
  readonly #items: T[] = [];
  readonly #idle: ((item: T | null) => void)[] = [];
  readonly #capacity: number;
  #inFlight = 0;
  #closed = false;

  constructor(capacity: number) {
    this.#capacity = Math.max(0, capacity);
  }

  /** Waiting for a worker. */
  get depth(): number {
    return this.#items.length;
  }

  /** Taken by a worker and not yet `done`. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Workers waiting for an item. */
  get idleWorkers(): number {
    return this.#idle.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Hand the item to an idle worker, else queue it, else refuse it ('full'; also once closed). */
  offer(item: T): OfferResult {
    if (this.#closed) return 'full';
    const worker = this.#idle.shift();
    if (worker) {
      this.#inFlight++; // held by the worker from this moment
      worker(item);
      return 'handed';
    }
    if (this.#items.length >= this.#capacity) return 'full';
    this.#items.push(item);
    return 'queued';
  }

  /**
   * The next item (oldest first), waiting for one when the queue is empty.
   * After `close`, the items still queued are handed out, then null: the
   * worker stops. Every item taken must be given back with `done()`.
   */
  take(): Promise<T | null> {
    if (this.#items.length > 0) {
      this.#inFlight++;
      return Promise.resolve(this.#items.shift()!);
    }
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** A worker finished with an item it took. */
  done(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }

  /** Refuse new items and wake the idle workers with null (queued items are still handed out). */
  close(): void {
    this.#closed = true;
    for (const w of this.#idle.splice(0)) w(null);
  }

  /** Remove and return the items still waiting (e.g. to count them as dropped). */
  clear(): T[] {
    return this.#items.splice(0);
  }
}
