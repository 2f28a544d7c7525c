/** The terminal rendering: metrics per segment, candidate vs baseline, and the gates. */
import { fp, signed } from './apply-gates.js';
import { label } from './measures.js';
import { reportPassed, type EvaluationOutcome } from './outcome.js';
import { OVERALL } from './types.js';

const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

export function textTable(headers: string[], rows: string[][], rightAlign: boolean[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Segment columns: `all` first, then each segment, with its query count. */
export function segmentColumns(r: EvaluationOutcome): { segment: string; queries: number }[] {
  const c = r.candidate;
  const all = { segment: OVERALL, queries: c.overall.queries };
  // One segment holding every query (e.g. all `(none)`) would repeat the overall column.
  if (c.segments.length === 1 && c.segments[0]!.queries === c.overall.queries) return [all];
  return [all, ...c.segments.map((s) => ({ segment: s.segment, queries: s.queries }))];
}

export function valueOf(
  r: EvaluationOutcome,
  which: 'candidate' | 'baseline',
  segment: string,
  metric: string,
): number | undefined {
  const e = which === 'candidate' ? r.candidate : r.baseline;
  if (!e) return undefined;
  const s = segment === OVERALL ? e.overall : e.segments.find((x) => x.segment === segment);
  return s?.values[metric];
}

export function renderTable(r: EvaluationOutcome): string {
  const c = r.candidate;
  const out: string[] = [];
  const who = c.version ? `version ${c.version.key} (${c.version.encoder})` : 'run';
  out.push(
    `${who} on judged set ${c.judgedSet.name}: ${c.judgedSet.queries} queries, judged by ${c.judgedSet.keyKind}, ${c.runDepth} ${c.judgedSet.keyKind === 'document_id' ? 'documents' : 'chunks'} per query`,
  );
  if (r.baseline)
    out.push(
      `baseline: version ${r.baseline.version?.key} (${r.baseline.version?.encoder}); cells show candidate (delta vs baseline)`,
    );
  out.push('');
  const cols = segmentColumns(r);
  const headers = ['METRIC', ...cols.map((s) => `${s.segment} (${s.queries})`)];
  const rows = c.measures.map((m) => [
    label(m),
    ...cols.map((s) => {
      const v = valueOf(r, 'candidate', s.segment, m);
      const b = valueOf(r, 'baseline', s.segment, m);
      return v === undefined ? '' : b === undefined ? f4(v) : `${f4(v)} (${signed(v - b)})`;
    }),
  ]);
  out.push(
    textTable(
      headers,
      rows,
      headers.map((_, i) => i > 0),
    ),
  );

  if (r.baseline && r.comparisons.length) {
    out.push('', `overall, candidate vs baseline (paired over ${c.overall.queries} queries):`);
    const cmp = r.comparisons.filter((x) => x.segment === OVERALL);
    const pct = Math.round((cmp[0]?.confidence ?? 0.95) * 100);
    out.push(
      textTable(
        ['METRIC', 'CANDIDATE', 'BASELINE', 'DELTA', `${pct}% CI`, 'P'],
        cmp.map((x) => [
          label(x.metric),
          f4(x.candidate),
          f4(x.baseline),
          signed(x.delta),
          `[${signed(x.ciLower)}, ${signed(x.ciUpper)}]`,
          fp(x.pValue),
        ]),
        [false, true, true, true, true, true],
      ),
    );
  }

  if (r.outcomes.length) {
    out.push('', `gates (${r.gatesSource ?? 'gates file'}):`);
    out.push(
      textTable(
        ['RESULT', 'GATE', 'VALUE', 'THRESHOLD', 'DELTA', 'P'],
        r.outcomes.map((o) => [
          o.status.toUpperCase(),
          o.name,
          f4(o.value),
          o.kind === 'min' ? `>= ${o.min}` : `drop <= ${o.maxDrop}`,
          o.comparison ? signed(o.comparison.delta) : '',
          o.comparison ? fp(o.comparison.pValue) : '',
        ]),
        [false, false, true, false, true, true],
      ),
    );
    for (const o of r.outcomes.filter((x) => x.status !== 'passed')) out.push(`  ${o.status}: ${o.message}`);
    out.push('', reportPassed(r));
  }
  if (c.shortQueries)
    out.push(
      `note: ${c.shortQueries} queries returned fewer than ${c.runDepth} results (the version covers too few chunks or documents)`,
    );
  return out.join('\n');
}
