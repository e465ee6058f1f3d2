#!/usr/bin/env node
// `npm run fuzz`: 10,000+ generated inputs through the engine (test/fuzz/cases.ts, compiled to
// out/ by the build): no exception may escape, every case must finish within its bound, no rule may
// crash. Options: --cases N (random cases, default 10000), --seed N, --json FILE (the full report).
// Exits 1 when anything failed.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

const { initEngine } = require(path.join(root, 'out/server/engine/index.js'));
const fuzz = require(path.join(root, 'out/test/fuzz/cases.js'));

await initEngine();
const count = Number(arg('--cases', '10000'));
const seed = Number(arg('--seed', '1'));
const sources = fuzz.loadSources();
function* all() {
  yield* fuzz.truncationCases();
  yield* fuzz.deepCases();
  yield* fuzz.bigCases();
  yield* fuzz.randomCases(seed, count, sources);
}
let last = Date.now();
const report = fuzz.runFuzz(all(), {
  onCase: (i) => {
    if (Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(`  ${i} cases…\n`);
    }
  },
});
process.stdout.write(fuzz.formatReport(report));
const json = arg('--json');
if (json) writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
process.exitCode = report.failures.length > 0 ? 1 : 0;
