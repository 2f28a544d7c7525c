// A node:test reporter that writes {pass, fail, skipped} as JSON (counts leaf tests).
export default async function* summaryReporter(source) {
  const counts = { pass: 0, fail: 0, skipped: 0 };
  for await (const event of source) {
    if (event.type === 'test:pass' && event.data.details?.type !== 'suite') {
      if (event.data.skip || event.data.todo) counts.skipped++;
      else counts.pass++;
    } else if (event.type === 'test:fail' && event.data.details?.type !== 'suite') {
      counts.fail++;
    }
  }
  yield JSON.stringify(counts);
}
