// A node:test reporter that prints one closing line: `N passed, N failed, N skipped`.
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    // Count leaf tests only: suites report with details.type === 'suite'.
    if (event.data.details?.type === 'suite') continue;
    // A todo test may fail without failing the run (node's own exit code agrees): count it as skipped.
    if (event.data.skip || event.data.todo) skipped++;
    else if (event.type === 'test:fail') failed++;
    else passed++;
  }
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
