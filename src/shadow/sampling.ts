/** Which queries a shadow samples (pure). */

/** Whether a query is sampled: rate 1 takes all, rate 0 none (random() is in [0, 1)). */
export function sampled(rate: number, random: () => number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return random() < rate;
}
