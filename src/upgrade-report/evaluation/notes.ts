/** The legend lines that say how each confidence interval of the evaluation section was obtained. */
import type { DerivedIntervals } from './intervals.js';
import { OVERALL_LABEL } from './table.js';

/** Intervals that `embctl evaluate` recorded: the segments and their confidence levels. */
export interface RecordedIntervals {
  segments: Set<string>;
  levels: Set<number>;
}

const pct = (c: number) => `${Math.round(c * 100)}%`;

/**
 * One line for the recorded intervals, one for those computed here (naming
 * the segments only when some were recorded), one for the intervals of means.
 * `segments`: every segment the section shows.
 */
export function intervalNotes(
  recorded: RecordedIntervals,
  derived: DerivedIntervals,
  segments: readonly string[],
): string[] {
  const notes: string[] = [];
  if (recorded.segments.size) {
    const where = [...recorded.segments].map((s) => (s === OVERALL_LABEL ? 'overall' : s)).join(', ');
    const level = recorded.levels.size === 1 ? `${pct([...recorded.levels][0]!)} ` : '';
    notes.push(
      `Difference intervals for ${where}: ${level}paired bootstrap confidence intervals and paired randomization p-values recorded by embctl evaluate.`,
    );
  }
  const derivedOnly = [...derived.pairedSegments].filter((s) => !recorded.segments.has(s));
  if (derived.pairedResamples !== null && derivedOnly.length) {
    const named = segments.filter((s) => s !== OVERALL_LABEL && !recorded.segments.has(s));
    const where = !recorded.segments.size
      ? 'every segment'
      : derivedOnly.length === named.length && !derivedOnly.includes(OVERALL_LABEL)
        ? 'each segment'
        : `${derivedOnly.length === 1 ? 'segment' : 'segments'} ${derivedOnly.sort().join(', ')}`;
    notes.push(
      `Difference intervals for ${where}: 95% paired bootstrap percentile interval computed by this report from the stored per-query scores (${derived.pairedResamples.toLocaleString('en-US')} resamples, seeded).`,
    );
  }
  if (derived.meanIntervals) {
    notes.push(
      'Whiskers on bars: 95% confidence interval of each mean (normal approximation, mean ± 1.96·s/√n over per-query scores).',
    );
  }
  return notes;
}
