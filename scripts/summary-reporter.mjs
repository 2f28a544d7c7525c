// A node:test reporter that writes, as JSON, what a test pass did:
//   { pass, fail, skipped, skips: [{ file, name, reason }], hiddenSkips: [...],
//     failures: [{ file, name, error }] }
// Leaf tests are counted; suites are not. A test skipped with `todo` counts
// as skipped. A skipped `describe` is recorded in `hiddenSkips`: node does not
// run its body, so nobody can count the tests it holds, and the runner fails
// the pass (skip the tests, not the suite).
import { relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

export default async function* summaryReporter(source) {
  const counts = { pass: 0, fail: 0, skipped: 0, skips: [], hiddenSkips: [], failures: [] };
  /** file -> names of the tests open at each nesting level (for full names). */
  const open = new Map();
  const fullName = (data) => {
    const stack = open.get(data.file) ?? [];
    return [...stack.slice(0, data.nesting), data.name].join(' › ');
  };
  for await (const event of source) {
    const data = event.data;
    if (event.type === 'test:start') {
      const stack = open.get(data.file) ?? [];
      stack.length = data.nesting;
      stack[data.nesting] = data.name;
      open.set(data.file, stack);
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const isSuite = data.details?.type === 'suite';
    const file = data.file ? relative(root, data.file) : '(unknown file)';
    const skipReason = data.skip ?? data.todo;
    if (isSuite) {
      if (event.type === 'test:pass' && skipReason !== undefined && skipReason !== false) {
        counts.hiddenSkips.push({ file, name: fullName(data), reason: reasonOf(skipReason) });
      }
      continue;
    }
    if (event.type === 'test:fail') {
      counts.fail++;
      counts.failures.push({ file, name: fullName(data), error: errorText(data.details?.error) });
    } else if (skipReason !== undefined && skipReason !== false) {
      counts.skipped++;
      counts.skips.push({ file, name: fullName(data), reason: reasonOf(skipReason) });
    } else {
      counts.pass++;
    }
  }
  yield JSON.stringify(counts);
}

/** The first lines of a failure's error (node wraps what the test threw as its `cause`). */
function errorText(error) {
  const inner = error?.cause ?? error;
  const text = String(inner?.message ?? inner ?? '(no error)').trim();
  return text.split('\n').slice(0, 12).join('\n').slice(0, 1500);
}

function reasonOf(skip) {
  return typeof skip === 'string' && skip.trim() ? skip.trim() : '';
}
