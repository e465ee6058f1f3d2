// A slice of `npm run fuzz` (scripts/fuzz.mjs): a few hundred generated inputs and every deep and
// huge shape, in under ~20 s. No exception may escape the engine, each case finishes within its
// bound, and no rule crashes. A rule that throws is reported with where it threw, and the other
// rules still run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allRules, initEngine, lintText } from '../../server/engine';
import { parseBudgetMs } from '../../server/engine/parse';
import type { Rule } from '../../server/rules/rule';
import { bigCases, deepCases, formatReport, loadSources, randomCases, repoRoot, runFuzz, truncationCases, type FuzzCase } from './cases';

describe('fuzz (a slice of npm run fuzz)', function () {
  this.timeout(120_000);
  before(() => initEngine());

  // 222 cases by default: one prefix in seven of the truncation texts (72) and 150 random cases (the
  // first 150 of the 300 run before stop 41, which cost 8 of the suite's 150 s of CPU).
  // NABLA_FUZZ_SLICE=all runs the 372 again, and `npm run fuzz` runs thousands.
  const randomCount = process.env.NABLA_FUZZ_SLICE === 'all' ? 300 : 150;
  it(`survives ${72 + randomCount} mutated, truncated, re-encoded and random inputs`, () => {
    const cases: FuzzCase[] = [...truncationCases().filter((_, i) => i % 7 === 0), ...randomCases(20240611, randomCount, loadSources())];
    const report = runFuzz(cases, { hoverEvery: 5 });
    assert.deepEqual(report.failures, [], formatReport(report));
  });

  it('survives 10,000-deep nesting of every kind', () => {
    const report = runFuzz(deepCases(), { hoverEvery: 4 });
    assert.deepEqual(report.failures, [], formatReport(report));
  });

  it('skips a 5 MB single line with a clear notice, and lints 100,000-line files within the bound', () => {
    const cases = bigCases().filter((c) => /5 MB|100,000 short|100,000 empty/.test(c.name));
    const report = runFuzz(cases, { hoverEvery: 1000 });
    assert.deepEqual(report.failures, [], formatReport(report));
    const outcome = lintText(cases[0].text, { language: 'python' });
    assert.match(outcome.notices[0].message, /^skipped: the file has \d+ characters, over the limit of \d+$/);
  });

  it('gives up on text the parser cannot recover from within its budget, with a clear notice', () => {
    // Random bytes (fuzz seed 7, case 2880) on which tree-sitter-typescript's error recovery built
    // 14 million nodes over six minutes and then aborted the WASM module.
    const text = Buffer.from(fs.readFileSync(path.join(repoRoot, 'test/fuzz/data/typescript-parser-blowup.b64'), 'utf8'), 'base64').toString('utf8');
    const started = Date.now();
    const outcome = lintText(text, { language: 'typescript' });
    assert.ok(Date.now() - started < parseBudgetMs(text.length) + 5000, `took ${Date.now() - started} ms`);
    assert.deepEqual(outcome.findings, []);
    assert.match(outcome.notices[0].message, /^skipped: the typescript parser gave up after \d+\.\d s: the text is too far from typescript to parse$/);
    // The parser still works afterwards.
    assert.ok(lintText('w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));\n', { language: 'typescript' }).findings.length > 0);
  });

  it('reads a division by a literal zero in half-typed code as no coefficient', () => {
    // Found by fuzz seed 20261205: `/ (2 * 0` left while typing `/ (2 * n)`.
    const text = 'export function epoch(w: number[], g: number[], lr: number, l1: number, n: number): number {\n  let loss = (err * err) / (2 * 0);\n  loss += l1 * w.reduce((s, v) => s + Math.abs(v), 0);\n  for (let j = 0; j < w.length; j++) w[j] -= lr * (g[j] + l1 * Math.sign(w[j]));\n  return loss;\n}\n';
    const { notices } = lintText(text, { language: 'typescript' });
    assert.deepEqual(notices, []);
  });

  it('reads a penalty written with a zero coefficient as implying no gradient', () => {
    // Found by fuzz seed 20240611 (an invalid-UTF-8 case that left `0 *` before a penalty): NB103
    // divided the gradient's coefficient by the penalty's zero one.
    const text = 'import numpy as np\n\n\ndef step(W, X, y, lam, lr):\n    err = X @ W - y\n    loss = np.sum(err ** 2) + 0 * lam * np.sum(W ** 2)\n    dW = X.T @ err + lam * W\n    W -= lr * dW\n    return loss\n';
    const { notices } = lintText(text, { language: 'python' });
    assert.deepEqual(notices, []);
  });

  it('reports a rule that throws with where it threw, and still runs the others', () => {
    const broken: Rule = {
      meta: { code: 'NB999', name: 'always-throws', severity: 'warning', summary: 'test', fix: 'none' },
      check() {
        throw new TypeError('boom');
      },
    };
    allRules.push(broken);
    try {
      const { findings, notices } = lintText('import numpy as np\ndef step(W, dW, lr, reg):\n    W -= lr * (dW + reg * np.sum(W * W))\n', { language: 'python' });
      assert.ok(findings.some((f) => f.code === 'NB101'), 'the other rules still ran');
      const crash = notices.find((n) => n.kind === 'internal-error');
      assert.ok(crash, 'the crash is a notice');
      assert.match(crash.message, /^rule NB999 failed: TypeError: boom at .*fuzz\.test\.[jt]s:\d+:\d+; the other rules still ran$/);
    } finally {
      allRules.pop();
    }
  });
});
