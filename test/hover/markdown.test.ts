// The hover markdown: TeX in ```latex blocks, a Unicode line for each, the legend, the rule link,
// and bounds on the number of formulas and the size.
import assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { explainAt as explainOrUndefined, type Explanation } from '../../server/engine/explain';
import type { LintOptions } from '../../server/engine';

/** explainAt that fails the test on an internal error instead of hiding it. */
function explainAt(text: string, options: LintOptions, offset: number): Explanation | undefined {
  return explainOrUndefined(text, options, offset, (error) => {
    throw error;
  });
}
import { escapeMarkdown, explanationToMarkdown, inlineCode, MAX_HOVER_FORMULAS, toHover } from '../../server/lsp/hover';
import { EXPLAIN_METHOD, HOVER_MATH_FENCE } from '../../server/lsp/protocol';
import { assertKatex } from './helpers';

const FAULTY = 'import numpy as np\n\ndef step(W, dW, lr, reg):\n    W = W - lr * (dW + reg * np.sum(W * W))\n    return W\n';

/** The TeX of each ```latex block, as the client finds them. */
function latexBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^(`{3,})latex\n([\s\S]*?)\n\1$/gm)].map((m) => m[2]);
}

describe('hover: markdown', function () {
  before(async function () {
    await initEngine();
  });

  it('shows the faulty NB101 line: typeset formulas, Unicode lines, legend, rule link', function () {
    const ex = explainAt(FAULTY, { language: 'python' }, FAULTY.indexOf('W = W'));
    assert.ok(ex);
    const md = explanationToMarkdown(ex);
    const blocks = latexBlocks(md);
    assert.deepEqual(blocks, [
      'W \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + \\lambda\\sum W^{2}\\right)',
      'W \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + 2\\lambda W\\right)',
      '\\tilde{L}\\left(W\\right) = L\\left(W\\right) + \\lambda\\lVert W\\rVert_{2}^{2}',
      'W \\leftarrow \\left(1 - 2\\eta\\lambda\\right)W - \\eta\\nabla L\\left(W\\right)',
    ]);
    for (const tex of blocks) assertKatex(tex);
    assert.ok(md.includes('Computes: W ← W − η(∂L/∂W + λΣW²)'), md);
    assert.ok(md.includes('where η = `lr`, ∂L/∂W = `dW`, λ = `reg`'), md);
    assert.ok(md.includes('Correct update: W ← W − η(∂L/∂W + 2λW)'), md);
    assert.ok(md.includes('**[NB101](https://github.com/nabla-lint/nabla/blob/main/docs/rules/NB101.md)** An update or gradient adds the penalty R(W) where its gradient ∇R(W) belongs'), md);
    assert.ok(md.includes('In the loss: L̃(W) = L(W) + λ‖W‖₂²'), md);
    assert.ok(md.includes('In the update: W ← (1 − 2ηλ)W − η∇L(W)'), md);
    assert.ok(md.includes('`torch.optim.SGD(params, lr=η, weight_decay=2λ)`'), md);
    // Each formula's Unicode line follows its block, for screen readers and other editors.
    const correct = md.indexOf('Correct update:');
    assert.ok(md.lastIndexOf('```latex', correct) > md.indexOf('Computes:'));
    assert.ok(md.length < 5000, `${md.length} characters`);
  });

  it('shows what a custom loop differentiates against what it should, where a penalty is left out (NB301)', function () {
    const text = [
      'import tensorflow as tf',
      'from tensorflow import keras',
      '',
      'model = keras.Sequential([keras.layers.Dense(10, kernel_regularizer=keras.regularizers.l2(1e-4))])',
      'opt = keras.optimizers.SGD(0.01)',
      '',
      'def train_step(x, y):',
      '    with tf.GradientTape() as tape:',
      '        loss = keras.losses.mse(y, model(x))',
      '    grads = tape.gradient(loss, model.trainable_weights)',
      '    opt.apply_gradients(zip(grads, model.trainable_weights))',
      '',
    ].join('\n');
    const ex = explainAt(text, { language: 'python' }, text.indexOf('tape.gradient'));
    assert.ok(ex);
    const md = explanationToMarkdown(ex);
    assert.deepEqual(latexBlocks(md), ['\\nabla_\\theta\\, \\ell', '\\nabla_\\theta\\, (\\ell + R)']);
    for (const tex of latexBlocks(md)) assertKatex(tex);
    assert.ok(md.includes('Computes: ∇θ ℓ'), md);
    assert.ok(md.includes('where ℓ = `loss`, R = `sum(model.losses)`'), md);
    assert.ok(md.includes('Correct gradient: ∇θ (ℓ + R)'), md);
    assert.ok(md.includes('**[NB301]'), md);
  });

  it('converts to an LSP hover with the explanation range', function () {
    const ex = explainAt(FAULTY, { language: 'python' }, FAULTY.indexOf('W = W'))!;
    const hover = toHover(ex);
    assert.deepEqual(hover.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 43 } });
    assert.equal((hover.contents as { kind: string }).kind, 'markdown');
  });

  it('caps the number of formulas and keeps every Unicode line', function () {
    const many: Explanation = {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      kind: 'optimizer',
      title: 'many',
      findings: [],
      optimizer: {
        framework: 'torch',
        name: 'torch.optim.X',
        tex: Array.from({ length: 20 }, (_, i) => `x_{${i}}`),
        unicode: Array.from({ length: 20 }, (_, i) => `x${i}`),
        coupling: 'coupled',
        lrScaled: true,
        legend: [],
        notes: [],
      },
    };
    const md = explanationToMarkdown(many);
    assert.equal(latexBlocks(md).length, MAX_HOVER_FORMULAS);
    for (let i = 0; i < 20; i++) assert.ok(md.includes(`\n\nx${i}`), `x${i}`);
  });

  it('shows comment math as blocks, and invalid TeX as code with KaTeX’s complaint', function () {
    const text = '# ok: $\\lambda\\|W\\|^2$ bad: $\\frac{1}{$\nx = 1\n';
    const good = explanationToMarkdown(explainAt(text, { language: 'python' }, text.indexOf('lambda'))!);
    assert.deepEqual(latexBlocks(good), ['\\lambda\\|W\\|^2']);
    const bad = explanationToMarkdown(explainAt(text, { language: 'python' }, text.indexOf('frac'))!);
    assert.deepEqual(latexBlocks(bad), []);
    assert.match(bad, /`\\frac\{1\}\{` \(not valid KaTeX: /);
  });

  it('uses a longer fence when the TeX has backticks, and escapes markdown in text', function () {
    const ex: Explanation = {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      kind: 'comment',
      title: 'Math in a comment',
      findings: [],
      comment: { formulas: [{ tex: 'a```b', display: false, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } }] },
    };
    const md = explanationToMarkdown(ex);
    assert.ok(md.includes('````latex\na```b\n````'), md);
    assert.equal(escapeMarkdown('g_t * [x] <b> |y|'), 'g\\_t \\* \\[x\\] \\<b\\> \\|y\\|');
    assert.equal(inlineCode('a`b'), '``a`b``');
    assert.equal(HOVER_MATH_FENCE, 'latex');
    assert.equal(EXPLAIN_METHOD, 'nabla/explain');
  });
});
