/**
 * Sampled queries dropped and candidate searches failed, per candidate
 * version: running totals for this process (for /metrics), and the counts
 * not yet stored (shadow_drops), handed to a writer by `flush`. A count the
 * writer fails to store is kept for the next flush: nothing is lost or
 * counted twice.
 */
export type DropKind = 'dropped' | 'failed';

export interface DropCounts {
  dropped: number;
  failed: number;
}

/** Stores one candidate's counts (adds them to what is stored). */
export type DropWriter = (candidateVersionId: number, counts: DropCounts) => Promise<void>;

export class DropCounter {
  readonly #totals: DropCounts = { dropped: 0, failed: 0 };
  readonly #unflushed = new Map<number, DropCounts>();

  /** Count one dropped query or failed search of this candidate. */
  note(candidateVersionId: number, kind: DropKind): void {
    this.#totals[kind]++;
    const u = this.#unflushed.get(candidateVersionId) ?? { dropped: 0, failed: 0 };
    u[kind]++;
    this.#unflushed.set(candidateVersionId, u);
  }

  /** Everything counted by this process. */
  get totals(): DropCounts {
    return { ...this.#totals };
  }

  /** Hand every candidate's unstored counts to `write`; on a failure, keep that candidate's counts and rethrow. */
  async flush(write: DropWriter): Promise<void> {
    for (const [id, u] of [...this.#unflushed]) {
      this.#unflushed.delete(id);
      try {
        await write(id, u);
      } catch (e) {
        const back = this.#unflushed.get(id) ?? { dropped: 0, failed: 0 };
        this.#unflushed.set(id, { dropped: back.dropped + u.dropped, failed: back.failed + u.failed });
        throw e;
      }
    }
  }
}
