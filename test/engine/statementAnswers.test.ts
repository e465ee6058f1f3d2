// Fixed edit sequences for the per-statement answers (server/engine/facts/statementAnswers.ts): a file-wide walk kept
// as the union of its top-level statements' answers, each kept for the statement and for the copies an edit moves
// (lower/reuse.ts). After every edit, the lint a session makes (`lintDocumentSteps` with the document's ParseCache)
// must equal a fresh lint of the same text. The edits move a function's name between a call and a value use in
// another top-level statement (`escapes`, callerValues.ts: NB201; `namesUsedAsValues`, regularizerKnobs.ts: NB206),
// in the forms a name leaves a call: an alias, a decorator, a class body's field, a nested def, a lambda, a
// `global`/`nonlocal` binding, functools.partial, a name bound in one statement and called in another; a matrix
// product at module level (`productOperandKeys`); tfjs's gradient names (`catalogueGradientNames`) in TS and JS modules;
// and a notebook's cells (one text, an edit in a cell moving every later cell's statements).
import * as assert from 'node:assert/strict';
import { cellLines, concatenateCells, initEngine, lintDocumentSteps, ParseCache, withoutEngineCaches } from '../../server/engine';
import { runSteps } from '../../server/engine/stepwise';
import type { LintOptions } from '../../server/engine';
import { workCounts } from '../../server/engine/workCounts';

/** Statements the session's lints walked for `escapes` after its first version (workCounts.ts). */
let walkedAfterFirst = 0;

/** Lints each text in one session, and each fresh; returns the session's findings' codes per version. */
function session(texts: readonly string[], options: LintOptions): string[][] {
  const parses = new ParseCache(1, 1);
  const codes: string[][] = [];
  walkedAfterFirst = 0;
  texts.forEach((text, i) => {
    const before = workCounts['escapes: statements walked'] ?? 0;
    const lint = runSteps(lintDocumentSteps(text, options, parses));
    if (i > 0) walkedAfterFirst += (workCounts['escapes: statements walked'] ?? 0) - before;
    const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, options)));
    assert.deepEqual(lint.outcome, fresh.outcome, `version ${i}:\n${text}`);
    codes.push(lint.outcome.findings.map((f) => f.code));
  });
  return codes;
}

const count = (codes: string[], code: string): number => codes.filter((c) => c === code).length;

/** A torch training function whose penalty's strength every call the file writes switches off (NB201 silent unless `fit` escapes). */
const FIT: readonly string[] = [
  'def l2_sum(net):',
  '    return sum((w ** 2).sum() for w in net.parameters())',
  '',
  '',
  'def fit(net, batches, reg):',
  '    opt = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=5e-4)',
  '    for xb, yb in batches:',
  '        opt.zero_grad()',
  '        loss = F.cross_entropy(net(xb), yb) + reg * l2_sum(net)',
  '        loss.backward()',
  '        opt.step()',
];

/** A torch script whose every call switches the penalty's strength off (NB201 silent unless `fit` escapes) and a NumPy trainer with an unread `reg` (NB206 unless `sgd_train` escapes). */
function script(head: string, mid: string, tail: string): string {
  return [
    'import functools',
    '',
    'import numpy as np',
    'import torch',
    'import torch.nn.functional as F',
    '',
    head,
    '',
    '',
    ...FIT,
    '',
    '',
    mid,
    '',
    '',
    'def sgd_train(W, X, Y, lr=0.1, steps=100, reg=1e-3):',
    '    for _ in range(steps):',
    '        G = X.T @ (X @ W - Y) / len(X)',
    '        W -= lr * G',
    '    return W',
    '',
    '',
    'def main(net, batches, W, X, Y):',
    '    fit(net, batches, reg=0.0)',
    '    sgd_train(W, X, Y, lr=0.05)',
    '',
    '',
    tail,
    '',
  ].join('\n');
}

/** Top-level code that reads `fit` and `sgd_train` as values (each variant on its own) or only calls them. */
const VALUE_USES: readonly string[] = [
  'run = fit',
  'solve = sgd_train',
  '@fit\ndef wrapped(net):\n    return net',
  'class Runner:\n    step = fit\n    solve = sgd_train',
  'def outer():\n    def inner():\n        return fit\n    return inner',
  'hooks = [lambda: fit, lambda: sgd_train]',
  'runner = None\n\n\ndef setup():\n    global runner\n    runner = fit',
  'def later():\n    chosen = None\n\n    def pick():\n        nonlocal chosen\n        chosen = sgd_train\n    return pick',
  'sweep = functools.partial(fit, reg=1e-4)',
  'class Trainer:\n    def go(self, runner):\n        return runner.fit',
  'table = {"fit": fit, "sgd": sgd_train}',
  'WX = W0 @ X0.T',
];
const CALLS_ONLY: readonly string[] = [
  '',
  'fit(None, [], reg=0.0)',
  'sgd_train(np.zeros(3), np.eye(3), np.ones(3))',
  'class Runner:\n    def step(self, net, batches):\n        return fit(net, batches, reg=0.0)',
  'hooks = [lambda: fit(None, [], reg=0.0)]',
  'def outer():\n    def inner():\n        return sgd_train(None, None, None)\n    return inner',
  'runner = None\n\n\ndef setup():\n    global runner\n    runner = fit(None, [], reg=0.0)',
  'class Trainer:\n    def go(self, runner):\n        return runner.fit(None, [], reg=0.0)',
];

describe('statement answers: a session equals a fresh lint after edits that move names between calls and values', function () {
  this.timeout(300_000);
  before(() => initEngine());

  it('a function name moves from a call to a value use in another top-level statement, and back, in every slot', () => {
    const texts: string[] = [script('', '', '')];
    // Each form in turn in the middle or last slot; then a line typed and deleted in the head moves it (and every
    // statement after the head) as a copy, twice; then it becomes a call, moved again; then it goes.
    let at = { head: '', mid: '', tail: '' };
    const push = (): void => void texts.push(script(at.head, at.mid, at.tail));
    VALUE_USES.forEach((use, i) => {
      const slot = i % 2 === 0 ? 'tail' : 'mid';
      at = { ...at, [slot]: use };
      push();
      at = { ...at, head: 'seed = 0' };
      push();
      at = { ...at, head: '' };
      push();
      at = { ...at, [slot]: CALLS_ONLY[i % CALLS_ONLY.length] };
      push();
      at = { ...at, head: 'import os' };
      push();
      at = { ...at, head: '', [slot]: '' };
      push();
    });
    const codes = session(texts, { language: 'python' });
    // The sequence means something: the base stays silent on NB201 and reports NB206; `run = fit` opens NB201,
    // also when a line typed before it moves it; `solve = sgd_train` closes NB206, moved too.
    assert.equal(count(codes[0], 'NB201'), 0, codes[0].join());
    assert.equal(count(codes[0], 'NB206'), 1, codes[0].join());
    assert.equal(count(codes[1], 'NB201'), 1, codes[1].join());
    assert.equal(count(codes[2], 'NB201'), 1, codes[2].join());
    assert.equal(count(codes[4], 'NB201'), 0, codes[4].join());
    assert.equal(count(codes[8], 'NB206'), 0, codes[8].join());
    assert.equal(count(codes[9], 'NB206'), 0, codes[9].join());
    // And it reaches the kept answers: after the first version, a session walks the statements an edit changed (one
    // or a few a version), not the file's dozen-odd (moved copies take their original's answer).
    assert.ok(walkedAfterFirst > 0 && walkedAfterFirst < 4 * (texts.length - 1), `${walkedAfterFirst} statements walked in ${texts.length - 1} versions`);
  });

  it('a name bound in one statement and called in another, the binding edited between a call and a value', () => {
    const versions: [string, string, string][] = [
      ['alias = fit', '', 'alias(None, [], reg=1e-3)'],
      ['alias = fit(None, [], reg=0.0)', '', 'alias(None, [], reg=1e-3)'],
      ['alias = fit', '', 'alias(None, [], reg=1e-3)'],
      ['', 'alias = fit', 'alias(None, [], reg=0.0)'],
      ['', 'alias = fit()', 'alias(None, [], reg=0.0)'],
      ['# fit', 'alias = fit()', 'alias(None, [], reg=0.0)'],
      ['# fit', 'alias = (fit)', 'alias(None, [], reg=0.0)'],
      ['seed = 1', 'alias = (fit)', 'alias(None, [], reg=0.0)'],
      ['', 'alias = (fit)', 'alias(None, [], reg=0.0)'],
      ['', 'alias = (fit)', ''],
      ['', '', ''],
      ['fit = sgd_train', '', ''],
      ['', '', 'fit = sgd_train'],
      ['', '', ''],
    ];
    session(
      versions.map(([h, m, t]) => script(h, m, t)),
      { language: 'python' },
    );
  });

  it('one statement edited in place between `x = fit(…)` and `x = fit`, every later statement moved by a line before it', () => {
    const texts: string[] = [];
    for (const pad of ['', 'note = 1', '# a comment moves nothing', '']) for (const use of ['x = fit(None, [], reg=0.0)', 'x = fit', 'x = fit(None, [], reg=0.0)', 'x = [fit]', 'x = fit.__name__']) texts.push(script(pad, use, ''));
    session(texts, { language: 'python' });
  });

  it("a notebook's cells: a value use typed into one cell, a cell added before it", () => {
    const cells = (first: string, second: string, third: string): string[] => [
      `import torch\nimport torch.nn.functional as F\n${first}`,
      FIT.join('\n'),
      second,
      `fit(model, data, reg=0.0)\n${third}`,
    ];
    const versions = [
      cells('', 'model, data = None, []', ''),
      cells('', 'model, data = None, []\nrun = fit', ''),
      cells('%matplotlib inline', 'model, data = None, []\nrun = fit', ''),
      cells('%matplotlib inline', 'model, data = None, []', 'run = fit'),
      cells('', 'model, data = None, []', 'run = fit'),
      cells('', 'model, data = None, []', ''),
      cells('print(1)', 'model, data = None, []\n@fit\ndef hook(net):\n    return net', ''),
      cells('', 'model, data = None, []\n@fit\ndef hook(net):\n    return net', ''),
    ];
    const parses = new ParseCache(1, 1);
    versions.forEach((sources, i) => {
      const notebook = concatenateCells(sources.map((text, index) => ({ index, text })));
      const options = { language: 'python' as const, cells: cellLines(notebook) };
      const lint = runSteps(lintDocumentSteps(notebook.text, options, parses));
      const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(notebook.text, options)));
      assert.deepEqual(lint.outcome, fresh.outcome, `version ${i}`);
    });
  });

  for (const language of ['typescript', 'javascript'] as const) {
    it(`${language} modules: export default, arrow functions, object methods, tfjs's gradient names`, () => {
      const ts = language === 'typescript';
      const module = (head: string, tail: string): string =>
        [
          "import * as tf from '@tensorflow/tfjs';",
          head,
          '',
          `export function fit(w${ts ? ': tf.Variable' : ''}, xs${ts ? ': tf.Tensor' : ''}, ys${ts ? ': tf.Tensor' : ''}, lr = 0.01) {`,
          '  const loss = () => tf.losses.meanSquaredError(ys, xs.matMul(w));',
          '  const { grads: delta } = tf.variableGrads(loss);',
          '  w.assign(w.sub(delta[w.name].mul(lr)));',
          '}',
          '',
          'const step = (w, g, lr) => w.sub(g.mul(lr));',
          '',
          'const trainer = {',
          '  run(w, xs, ys) {',
          '    fit(w, xs, ys, 0.05);',
          '  },',
          '};',
          tail,
          '',
        ].join('\n');
      const versions = [
        module('', ''),
        module('', 'export default fit;'),
        module('const alias = fit;', 'export default fit;'),
        module('const alias = fit;', 'export default trainer;'),
        module('', 'export default { fit, step };'),
        module('const { grads } = tf.variableGrads(() => tf.scalar(0));', ''),
        module('const { grads: g2 } = tf.valueAndGrads(() => tf.scalar(0))();', 'const product = tf.matMul(g2, g2);'),
        module('', 'trainer.run(null, null, null);'),
        module('', 'const r = trainer.run;'),
        module('', ''),
      ];
      session(versions, { language });
    });
  }
});
