// mocha's settings for `npm test`: every test file under out/test except the distribution tests
// (`npm run test:dist`) and the end-to-end ones (`npm run test:e2e`), in two worker processes.
// The slowest files go first (longest first is the classic schedule for two machines): queued in
// alphabetical order, a slow file picked up last would leave one worker idle while it runs.
const fs = require('node:fs');
const path = require('node:path');

const SLOWEST_FIRST = [
  'fixtureLints.test.js',
  'fuzz/fuzz.test.js',
  'engine/differential.test.js',
  'engine/earlyCutoff.test.js',
  'engine/editImpact.test.js',
  'cli/cache.test.js',
  'engine/sharedProgram.test.js',
  'engine/incremental.test.js',
  'fuzz/parallel.test.js',
  'cli/threads.test.js',
  'lsp/cliServer.test.js',
  'hover/explain.test.js',
  'cli/binary.test.js',
];
const DISTRIBUTION = ['cli/package.test.js', 'cli/preCommit.test.js'];
// test/fixtureLints.test.ts imports the files that lint every fixture, so that one worker runs them
// and they share one lint per fixture (test/lintMemo.ts): they are not listed on their own.
const GROUP = 'fixtureLints.test.js';

function testFiles(dir, prefix = '') {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...testFiles(path.join(dir, entry.name), rel + '/'));
    else if (rel.endsWith('.test.js')) out.push(rel);
  }
  return out;
}

const root = path.join(__dirname, 'out', 'test');
const all = fs.existsSync(root) ? testFiles(root) : [];
const grouped = all.includes(GROUP)
  ? [...fs.readFileSync(path.join(root, GROUP), 'utf8').matchAll(/require\("\.\/([^"]+\.test)"\)/g)].map((m) => `${m[1]}.js`)
  : [];
const rest = all.filter((f) => !SLOWEST_FIRST.includes(f) && !DISTRIBUTION.includes(f) && !grouped.includes(f));
const spec = [...SLOWEST_FIRST.filter((f) => all.includes(f) && !grouped.includes(f)), ...rest].map((f) => `out/test/${f}`);

// scripts/testSetup.cjs runs first in each worker: V8's optimization budget, and a code cache for the
// bundles the spawned processes load.
const setup = path.join(__dirname, 'scripts', 'testSetup.cjs');

module.exports = { spec, require: [setup], timeout: 20000, reporter: 'spec', parallel: true, jobs: 2 };
