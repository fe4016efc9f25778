// Reads vitest's JSON report and prints the one plain line CI reads:
// `N passed, N failed` (skipped and todo tests are counted as failed on
// purpose: a suite that skips is a suite that did not prove anything).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.test-results/vitest.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`test report ${file} is missing or unreadable: ${err.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
let passed = 0;
let failed = 0;
const notPassed = [];
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else {
      failed++;
      notPassed.push(`${t.status}: ${t.fullName} (${suite.name})`);
    }
  }
  // A file that failed to load has no assertions but still failed.
  if ((suite.assertionResults ?? []).length === 0 && suite.status === 'failed') {
    failed++;
    notPassed.push(`failed to run: ${suite.name}: ${(suite.message ?? '').split('\n')[0]}`);
  }
}
if (passed + failed === 0) {
  console.log('no test ran');
  failed = 1;
}
for (const line of notPassed.slice(0, 50)) console.log(line);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
