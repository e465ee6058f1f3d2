// Checks that read the IR, not the text: a word in a comment or a string is no code. NB206's
// computed-name writes and `arguments` reads, NB403's unpacked arguments, and NB209's fix, which
// replaces a factor together with the parentheses written around it however they are spaced.
import * as assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';
import type { Finding } from '../../server/engine/types';
import type { LanguageId } from '../../server/engine/types';

function lint(lines: string[], language: LanguageId, code: string): Finding[] {
  return lintText([...lines, ''].join('\n'), { language, select: [code] }).findings.filter((f) => f.code === code);
}

/** The edited line of a finding's fix. */
function fixed(lines: string[], f: Finding | undefined): string | undefined {
  const edit = f?.fix?.edits[0];
  if (!edit) return undefined;
  const line = lines[edit.range.start.line];
  return line.slice(0, edit.range.start.character) + edit.newText + line.slice(edit.range.end.character);
}

describe('checks read the IR, not the text', () => {
  before(() => initEngine());

  const gated = (constructorLine: string): string[] => [
    'class Ridge {',
    '  constructor(n, opts) {',
    '    this.w = new Array(n).fill(0);',
    '    this.decay = 0;',
    `    ${constructorLine}`,
    '  }',
    '  setDecay(decay) {',
    '    this.decay = decay;',
    '  }',
    '  step(g, lr) {',
    '    for (let i = 0; i < this.w.length; i++) {',
    '      let v = this.w[i] - lr * g[i];',
    '      if (this.shrinkOn) v -= lr * this.decay * this.w[i];',
    '      this.w[i] = v;',
    '    }',
    '  }',
    '}',
    'const r = new Ridge(2, {});',
    'r.setDecay(1e-4);',
    'r.step([0.1, 0.2], 0.1);',
  ];

  it('NB206: a write by a computed name silences the flag gate; the same words in a comment or a string do not', () => {
    assert.equal(lint(gated('this.opts = opts;'), 'javascript', 'NB206').length, 1);
    for (const line of ['Object.assign(this, opts);', 'for (const k in opts) this[k] = opts[k];', 'Object.defineProperty(this, "mode", { value: opts.mode });', 'const all = { ...this, ...opts };', 'Reflect.set(this, "mode", opts.mode);'])
      assert.equal(lint(gated(line), 'javascript', 'NB206').length, 0, line);
    for (const line of ['this.opts = opts; // not Object.assign(this, opts): keep the defaults', 'this.note = "copy with Object.assign(this, opts) or this[k]";'])
      assert.equal(lint(gated(line), 'javascript', 'NB206').length, 1, line);
  });

  const dropped = (body: string[]): string[] => [
    'function shrink(weights, rate) {',
    ...body,
    '  return weights.map((w) => w * (1 - rate));',
    '}',
    'function epoch(weights, lr, l2) {',
    '  return shrink(weights, lr, l2);',
    '}',
    'module.exports = { epoch };',
  ];

  it('NB206: a callee that reads `arguments` takes the extra decay; `arguments` in a comment does not', () => {
    assert.equal(lint(dropped([]), 'javascript', 'NB206').length, 1);
    assert.equal(lint(dropped(['  // the arguments are checked by the caller']), 'javascript', 'NB206').length, 1);
    assert.equal(lint(dropped(['  const extra = arguments.length > 2 ? arguments[2] : 0;', '  weights = weights.map((w) => w * (1 - extra));']), 'javascript', 'NB206').length, 0);
    assert.equal(lint(dropped(['  const log = function () { console.log(arguments); };', '  log(rate);']), 'javascript', 'NB206').length, 0);
  });

  it('NB403: a helper handed unpacked arguments is left alone', () => {
    const shared = (call: string): string[] => [
      'def adam_update(w, grad, opt, t):',
      '    opt.m = opt.beta1 * opt.m + (1 - opt.beta1) * grad',
      '    opt.v = opt.beta2 * opt.v + (1 - opt.beta2) * grad ** 2',
      '    w -= opt.lr * (opt.m / (1 - opt.beta1 ** t)) / ((opt.v / (1 - opt.beta2 ** t)) ** 0.5 + 1e-8)',
      '',
      '',
      'def train(weights, grads, moments, steps):',
      '    for t in range(1, steps + 1):',
      '        for k in range(len(weights)):',
      `            ${call}`,
    ];
    assert.equal(lint(shared('adam_update(weights[k], grads[k], moments, t)'), 'python', 'NB403').length, 1);
    // Which parameter takes which argument is not read through `*` and `**`.
    assert.equal(lint(shared('adam_update(*[weights[k]], grads[k], moments, t)'), 'python', 'NB403').length, 0);
    assert.equal(lint(shared('adam_update(weights[k], grads[k], moments, **options)'), 'python', 'NB403').length, 0);
    // A comment is no argument.
    assert.equal(lint(shared('adam_update(weights[k], grads[k], moments, t)  # not *args'), 'python', 'NB403').length, 1);
  });

  it('NB209: the fix replaces the wrong factor with the parentheses around it, however they are written', () => {
    const layer = (infer: string): string[] => [
      'import numpy as np',
      '',
      '',
      'def dropout_layer(h, p, mode="train"):',
      '    if mode == "train":',
      '        keep = np.random.random(h.shape) < p',
      '        out = h * keep',
      '    else:',
      `        out = ${infer}`,
      '    return out',
    ];
    for (const [infer, expected] of [
      ['h * (1 - p)', 'h * p'],
      ['h * ( 1 - p )', 'h * p'],
      ['h * ((1 - p))', 'h * p'],
      ['(1 - p) * h', 'p * h'],
    ]) {
      const lines = layer(infer);
      const found = lint(lines, 'python', 'NB209');
      assert.equal(found.length, 1, infer);
      assert.equal(fixed(lines, found[0]), `        out = ${expected}`, infer);
    }
  });

  it('NB209: inverted dropout rescaled at test: the fix drops the factor, and writes no `*= 1`', () => {
    const layer = (infer: string): string[] => [
      'import numpy as np',
      '',
      '',
      'def dropout_layer(h, p, train=True):',
      '    if train:',
      '        keep = (np.random.rand(*h.shape) > p) / (1 - p)',
      '        return h * keep',
      '    out = h',
      `    ${infer}`,
      '    return out',
    ];
    const product = layer('out = h * (1 - p)');
    const [a] = lint(product, 'python', 'NB209');
    assert.equal(fixed(product, a), '    out = h');
    assert.equal(a.fix?.title, 'Leave the inference output unscaled');
    const inPlace = layer('out *= (1 - p)');
    const found = lint(inPlace, 'python', 'NB209');
    assert.equal(found.length, 1);
    assert.equal(found[0].fix, undefined);
    assert.doesNotMatch(found[0].message, /\*= 1/);
    assert.match(found[0].message, /Return the input unscaled at inference\.$/);
  });
});
