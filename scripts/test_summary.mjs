// Prints the plain closing line "N passed, N failed" from vitest's JSON report.
// Exits non-zero when the report is missing, any test failed, or no test ran.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.ci/results.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`test summary: cannot read ${file}: ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
// A file that fails outside its tests (it does not load, or a beforeAll throws) has no failed
// assertion; count it as one failure and say why.
const broken = (report.testResults ?? []).filter((r) => r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed'));
for (const r of broken) console.log(`failed outside its tests: ${r.name}: ${String(r.message ?? '').split('\n')[0]}`);
const suiteErrors = broken.length;
const totalFailed = failed + suiteErrors;
// Name every skipped test, so a skip is never silent.
for (const r of report.testResults ?? []) {
  for (const a of r.assertionResults ?? []) {
    if (a.status === 'pending' || a.status === 'skipped' || a.status === 'todo') console.log(`skipped: ${a.fullName ?? a.title}`);
  }
}
console.log(`${passed} passed, ${totalFailed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(totalFailed > 0 || passed === 0 ? 1 : 0);
