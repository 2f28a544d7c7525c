/** The Markdown report for CI artifacts and pull requests. */
import { fp, signed } from './apply-gates.js';
import { label } from './measures.js';
import { segmentColumns, valueOf } from './render-table.js';
import { decisionRule, reportPassed, type EvaluationOutcome } from './outcome.js';
import { OVERALL } from './types.js';

const f4 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(4) : '—');

/** A table cell: pipes, backslashes and line breaks escaped. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(headers: string[], rows: string[][], right: boolean[]): string[] {
  return [
    `| ${headers.map(mdCell).join(' | ')} |`,
    `|${headers.map((_, i) => (right[i] ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ];
}

export function renderMarkdown(r: EvaluationOutcome): string {
  const c = r.candidate;
  const b = r.baseline;
  const L: string[] = [];
  const title = c.version ? `\`${c.version.key}\`` : 'run';
  L.push(`# embctl evaluation: ${title} on ${mdCell(c.judgedSet.name)}`, '');
  if (r.passed !== null) L.push(`**${r.passed ? '✅' : '❌'} ${reportPassed(r)}**`, '');
  L.push(`- Candidate: ${c.version ? `\`${c.version.key}\` (\`${c.version.encoder}\`)` : 'a run file'}`);
  if (b?.version) L.push(`- Baseline: \`${b.version.key}\` (\`${b.version.encoder}\`)`);
  L.push(
    `- Judged set: ${mdCell(c.judgedSet.name)} — ${c.judgedSet.queries} queries, judged by \`${c.judgedSet.keyKind}\`, sha256 \`${c.judgedSet.sha256.slice(0, 16)}…\``,
  );
  L.push(
    `- Depth: ${c.runDepth} ${c.judgedSet.keyKind === 'document_id' ? 'documents (a document ranks at its best chunk)' : 'chunks'} per query; cutoffs K = ${c.ks.join(', ')}`,
  );
  if (r.runId) L.push(`- Recorded as evaluation run ${r.runId}${r.gated ? ' (gated)' : ''}`);
  if (r.createdAt) L.push(`- Date: ${r.createdAt.toISOString()}`);
  L.push('');

  if (r.outcomes.length) {
    L.push('## Gates', '');
    L.push(
      ...table(
        ['Result', 'Gate', 'Segment', 'Metric', 'Value', 'Threshold', 'Δ vs baseline', 'CI', 'p'],
        r.outcomes.map((o) => [
          o.status === 'passed' ? '✅ pass' : o.status === 'failed' ? '❌ FAIL' : '⏭ skipped',
          o.name,
          o.segment,
          label(o.metric),
          f4(o.value),
          o.kind === 'min' ? `≥ ${o.min}` : `drop ≤ ${o.maxDrop} (α ${o.alpha})`,
          o.comparison ? signed(o.comparison.delta) : '',
          o.comparison ? `[${signed(o.comparison.ciLower)}, ${signed(o.comparison.ciUpper)}]` : '',
          o.comparison ? fp(o.comparison.pValue) : '',
        ]),
        [false, false, false, false, true, false, true, true, true],
      ),
    );
    L.push('');
    for (const o of r.outcomes) if (o.status !== 'passed') L.push(`- **${o.status}** ${mdCell(o.name)}: ${o.message}`);
    L.push('', `Decision rule: ${decisionRule(r.alpha)}`, '');
  }

  L.push('## Metrics by segment', '');
  if (b) L.push(`Each cell: candidate (Δ vs baseline \`${b.version?.key}\`).`, '');
  const cols = segmentColumns(r);
  L.push(
    ...table(
      ['Metric', ...cols.map((s) => `${s.segment} (${s.queries})`)],
      c.measures.map((m) => [
        label(m),
        ...cols.map((s) => {
          const v = valueOf(r, 'candidate', s.segment, m);
          const bv = valueOf(r, 'baseline', s.segment, m);
          return v === undefined ? '' : bv === undefined ? f4(v) : `${f4(v)} (${signed(v - bv)})`;
        }),
      ]),
      cols
        .map(() => true)
        .concat([true])
        .map((_, i) => i > 0),
    ),
  );
  L.push('');

  if (b && r.comparisons.length) {
    const pct = Math.round(r.comparisons[0]!.confidence * 100);
    L.push('## Candidate vs baseline', '');
    L.push(
      `Paired over queries: mean Δ (candidate − baseline), bootstrap ${pct}% CI of Δ, two-sided randomization-test p-value.`,
      '',
    );
    for (const s of cols) {
      const rows = r.comparisons.filter((x) => x.segment === s.segment);
      if (!rows.length) continue;
      L.push(`### ${s.segment === OVERALL ? 'All queries' : `Segment ${mdCell(s.segment)}`} (${s.queries})`, '');
      L.push(
        ...table(
          ['Metric', 'Candidate', 'Baseline', 'Δ', `${pct}% CI`, 'p'],
          rows.map((x) => [
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
      L.push('');
    }
  }
  L.push(...coverageSection(r));
  if (c.shortQueries) L.push(`> ${c.shortQueries} queries returned fewer than ${c.runDepth} results.`, '');
  L.push(
    'Metrics follow trec_eval (`-c`: queries without results count as 0). Judged@K is the share of the top K whose document is listed in the judged set.',
    '',
  );
  return L.join('\n');
}

/** Judged@K from the set alone and with pooled judgments, per version and segment, and each label source's share. */
function coverageSection(r: EvaluationOutcome): string[] {
  const l = r.labels;
  if (!l) return [];
  const versions = [
    [r.candidate.version?.key ?? 'candidate', l.coverage.candidate] as const,
    ...(l.coverage.baseline ? [[r.baseline?.version?.key ?? 'baseline', l.coverage.baseline] as const] : []),
  ];
  const k = l.coverage.candidate.k;
  const out = ['## Judged coverage', ''];
  out.push(
    `Judged@${k}: the share of each top ${k} that has a label, from the judged set alone and with the pooled judgments (${
      l.judges === null
        ? 'every stored judge'
        : l.judges.length
          ? l.judges.map((j) => `\`${mdCell(j)}\``).join(', ')
          : 'none'
    })${l.judgedOnly ? '; scored on judged results only (-J)' : ''}.`,
    '',
  );
  const segments = l.coverage.candidate.segments.map((s) => s.segment);
  const rows = versions.flatMap(([key, c]) => [
    [`\`${mdCell(key)}\``, 'all', c.before.toFixed(3), c.after.toFixed(3)],
    ...segments.map((seg) => {
      const s = c.segments.find((x) => x.segment === seg);
      return [`\`${mdCell(key)}\``, mdCell(seg), s ? s.before.toFixed(3) : '', s ? s.after.toFixed(3) : ''];
    }),
  ]);
  out.push(...table(['version', 'segment', 'judged set', 'with judgments'], rows, [false, false, true, true]), '');
  const sources = [...new Set(versions.flatMap(([, c]) => Object.keys(c.sources)))].sort();
  out.push(
    ...table(
      ['label source', ...versions.map(([key]) => `\`${mdCell(key)}\` top ${k}`), 'kappa'],
      sources.map((s) => [
        mdCell(s),
        ...versions.map(([, c]) => `${((c.sources[s] ?? 0) * 100).toFixed(1)}%`),
        s in l.kappas ? (l.kappas[s] === null ? 'not calibrated' : l.kappas[s]!.toFixed(3)) : '',
      ]),
      [false, ...versions.map(() => true), true],
    ),
    '',
  );
  return out;
}
