/**
 * Term frequencies of one text's features, keyed by their 32-bit hash: an
 * open-addressing table reused across texts (reset is O(features), not
 * O(capacity)), so counting allocates nothing per feature.
 */
export class FeatureTable {
  private keys: Int32Array;
  private counts: Int32Array;
  private weights: Float64Array;
  private stamps: Uint32Array;
  private stamp = 1;
  private mask: number;
  /** Slots in use, in insertion order. */
  private used: Int32Array;
  size = 0;

  constructor(capacityLog2 = 12) {
    const capacity = 1 << capacityLog2;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.weights = new Float64Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.used = new Int32Array(capacity >> 1);
  }

  reset(): void {
    this.size = 0;
    this.stamp++;
    if (this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
  }

  /** Count `times` occurrences of feature `hash`; `weight` is kept from its first occurrence. */
  add(hash: number, weight: number, times = 1): void {
    if (this.size >= this.used.length) this.grow();
    const key = hash | 0;
    let slot = (key ^ (key >>> 15)) & this.mask;
    for (;;) {
      if (this.stamps[slot] !== this.stamp) {
        this.stamps[slot] = this.stamp;
        this.keys[slot] = key;
        this.counts[slot] = times;
        this.weights[slot] = weight;
        this.used[this.size++] = slot;
        return;
      }
      if (this.keys[slot] === key) {
        this.counts[slot]! += times;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Visit every feature in first-seen order (deterministic). */
  forEach(visit: (hash: number, weight: number, count: number) => void): void {
    for (let i = 0; i < this.size; i++) {
      const slot = this.used[i]!;
      visit(this.keys[slot]!, this.weights[slot]!, this.counts[slot]!);
    }
  }

  private grow(): void {
    const old = { keys: this.keys, counts: this.counts, weights: this.weights, used: this.used, size: this.size };
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.weights = new Float64Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.stamp = 1;
    this.used = new Int32Array(capacity >> 1);
    this.size = 0;
    for (let i = 0; i < old.size; i++) {
      const slot = old.used[i]!;
      const key = old.keys[slot]!;
      let s = (key ^ (key >>> 15)) & this.mask;
      while (this.stamps[s] === this.stamp) s = (s + 1) & this.mask;
      this.stamps[s] = this.stamp;
      this.keys[s] = key;
      this.counts[s] = old.counts[slot]!;
      this.weights[s] = old.weights[slot]!;
      this.used[this.size++] = s;
    }
  }
}
