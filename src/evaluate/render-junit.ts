/** JUnit XML for CI: one test case per gate, a failure (with its message) per failed gate. */
import { label } from './measures.js';
import { decisionRule, type EvaluationOutcome } from './outcome.js';

/** Escape text for XML content and attribute values; drop characters XML 1.0 forbids. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

export function renderJUnit(r: EvaluationOutcome): string {
  const c = r.candidate;
  const suite = `embctl evaluate ${c.version?.key ?? 'run'} on ${c.judgedSet.name}`;
  const classname = `embctl.evaluate.${(c.judgedSet.name || 'judged').replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
  const failures = r.outcomes.filter((o) => o.status === 'failed').length;
  const skipped = r.outcomes.filter((o) => o.status === 'skipped').length;
  const seconds = (
    (c.timings.retrieveMs +
      c.timings.scoreMs +
      (r.baseline ? r.baseline.timings.retrieveMs + r.baseline.timings.scoreMs : 0)) /
    1000
  ).toFixed(3);
  const cases: string[] = [];
  for (const o of r.outcomes) {
    const head = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(o.name)}" time="0">`;
    if (o.status === 'failed') {
      cases.push(
        head,
        `      <failure message="${xmlEscape(o.message)}" type="GateFailed">${xmlEscape(`${o.message}\n\n${decisionRule(r.alpha)}`)}</failure>`,
        '    </testcase>',
      );
    } else if (o.status === 'skipped') {
      cases.push(head, `      <skipped message="${xmlEscape(o.message)}"/>`, '    </testcase>');
    } else {
      cases.push(head, `      <system-out>${xmlEscape(o.message)}</system-out>`, '    </testcase>');
    }
  }
  if (r.outcomes.length === 0) {
    cases.push(`    <testcase classname="${xmlEscape(classname)}" name="evaluation (no gates)" time="${seconds}"/>`);
  }
  const props = [
    ['version', c.version?.key ?? ''],
    ['encoder', c.version?.encoder ?? ''],
    ['baseline', r.baseline?.version?.key ?? ''],
    ['judged_set', c.judgedSet.name],
    ['judged_set_sha256', c.judgedSet.sha256],
    ['queries', String(c.judgedSet.queries)],
    ...c.measures.map((m) => [`all.${label(m)}`, (c.overall.values[m] ?? 0).toFixed(4)]),
  ];
  const tests = Math.max(1, r.outcomes.length);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="embctl evaluate" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}"${r.createdAt ? ` timestamp="${r.createdAt.toISOString()}"` : ''}>`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k!)}" value="${xmlEscape(v!)}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
