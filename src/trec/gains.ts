/**
 * Gain per relevance grade for the gain-based measures (ndcg, ndcg_rel,
 * Rndcg, G, rbp): a port of trec_eval's gain_init.c. By default a grade's
 * gain is the grade itself; `level=gain` parameters override single grades
 * (`ndcg.1=3.5,2=9`). Levels are sorted by increasing gain with trec_eval's
 * comparator, which truncates the difference of two gains to an integer
 * (gains less than 1 apart compare equal and keep their order here).
 */
import type { ParamPair } from './measure-types.js';
import type { ResRels } from './res-rels.js';

export interface RelGain {
  level: number;
  gain: number;
  /** Judged documents at this level. */
  count: number;
}

/** A pair name that is a relevance level: an optional sign and digits. */
export function isLevelName(name: string): boolean {
  return /^[+-]?\d+$/.test(name);
}

/** The gain levels, by increasing gain. */
export function setupGains(pairs: readonly ParamPair[], rr: ResRels): RelGain[] {
  const gains: RelGain[] = [];
  for (const p of pairs) {
    if (isLevelName(p.name)) gains.push({ level: Number.parseInt(p.name, 10), gain: p.value, count: 0 });
  }
  for (let level = 0; level < rr.numRelLevels; level++) {
    const given = gains.find((g) => g.level === level);
    if (given) given.count = rr.relLevels[level] ?? 0;
    else gains.push({ level, gain: level, count: rr.relLevels[level] ?? 0 });
  }
  return gains.sort((a, b) => Math.trunc(a.gain - b.gain));
}

/** The gain of a retrieved document's relevance value (0 for unjudged or unknown levels). */
export function getGain(rel: number, gains: readonly RelGain[]): number {
  for (const g of gains) if (g.level === rel) return g.gain;
  return 0;
}

/**
 * The ideal ranking's gains, one rank at a time: the highest-gain level
 * first, each level as many times as it has judged documents, until the
 * gain is no longer positive. Mirrors trec_eval's cur_level / num_at_level walk.
 */
export class IdealGains {
  private level: number;
  private atLevel = 0;
  gain: number;

  constructor(private readonly gains: readonly RelGain[]) {
    this.level = gains.length - 1;
    this.gain = this.level >= 0 ? gains[this.level]!.gain : 0;
  }

  /** Move to the next rank of the ideal ranking; `gain` is then that rank's gain. */
  next(): void {
    this.atLevel++;
    while (this.level >= 0 && this.atLevel > this.gains[this.level]!.count) {
      this.atLevel = 1;
      this.level--;
      this.gain = this.level >= 0 ? this.gains[this.level]!.gain : 0;
    }
  }
}
