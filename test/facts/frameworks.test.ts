// Framework facts: import aliases, argument lookup, value resolution, optax chain order,
// regularizer defaults, loss penalties and how code is linked to its optimizer.
import * as assert from 'node:assert/strict';
import { initEngine, type LanguageId } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { frameworkFacts, type FrameworkFacts } from '../../server/engine/facts/frameworks';

function facts(text: string, language: LanguageId = 'python'): { fw: FrameworkFacts; text: string } {
  return { fw: frameworkFacts(analyzeDocument(text, language).facts), text };
}

describe('framework facts', () => {
  before(() => initEngine());

  it('resolves import aliases to canonical paths', () => {
    const { fw } = facts(
      [
        'import torch.optim as optim',
        'from torch.optim import RMSprop',
        'import torch',
        'from tensorflow import keras',
        'import tensorflow as tf',
        'a = optim.Adam(m.parameters())',
        'b = RMSprop(m.parameters())',
        'c = torch.optim.AdamW(m.parameters())',
        'd = keras.optimizers.SGD()',
        'e = tf.keras.optimizers.legacy.Adam()',
        'f = tf.optimizers.Adam()',
      ].join('\n'),
    );
    assert.deepEqual(
      fw.optimizers.map((o) => [o.path, o.bareName, o.legacy]),
      [
        ['torch.optim.Adam', false, false],
        ['torch.optim.RMSprop', true, false],
        ['torch.optim.AdamW', false, false],
        ['keras.optimizers.SGD', false, false],
        ['keras.optimizers.legacy.Adam', false, true],
        ['keras.optimizers.Adam', false, false],
      ],
    );
  });

  it('does not take a local variable named like a module for the module', () => {
    const { fw } = facts('def f(optim):\n    return optim.Adam(params, weight_decay=1e-4)\n');
    assert.equal(fw.optimizers.length, 0);
  });

  it('finds weight decay in keywords, positions, param groups and defaults', () => {
    const { fw } = facts(
      [
        'import torch',
        'wd = 5e-4',
        'a = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=wd)',
        'b = torch.optim.Adam(model.parameters(), 1e-3, (0.9, 0.999), 1e-8, 1e-5)',
        "c = torch.optim.Adam([{'params': d, 'weight_decay': 1e-2}, {'params': n, 'weight_decay': 0.0}])",
        'e = torch.optim.AdamW(model.parameters())',
        'f = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0)',
        'g = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=args.wd)',
      ].join('\n'),
    );
    const summary = fw.optimizers.map((o) => ({ decay: o.decay.map((d) => [d.source, d.value]), off: o.decayOff, groups: o.groups, whole: o.wholeModel }));
    assert.deepEqual(summary, [
      { decay: [['argument', 5e-4]], off: false, groups: false, whole: 'model' },
      { decay: [['argument', 1e-5]], off: false, groups: false, whole: 'model' },
      { decay: [['group', 1e-2]], off: false, groups: true, whole: undefined },
      { decay: [['default', 1e-2]], off: false, groups: false, whole: 'model' },
      { decay: [], off: true, groups: false, whole: 'model' },
      { decay: [['argument', undefined]], off: false, groups: false, whole: 'model' },
    ]);
  });

  it('resolves values through defaults, dict literals and argparse', () => {
    const { fw } = facts(
      [
        'import argparse, torch',
        'p = argparse.ArgumentParser()',
        "p.add_argument('--weight-decay', type=float, default=3e-4)",
        "p.add_argument('--wd2', dest='other', default=0.0)",
        'args = p.parse_args()',
        "cfg = {'wd': 2e-4}",
        'def make(model, decay=1e-3):',
        '    return [torch.optim.SGD(model.parameters(), weight_decay=decay),',
        "            torch.optim.SGD(model.parameters(), weight_decay=cfg['wd']),",
        '            torch.optim.SGD(model.parameters(), weight_decay=args.weight_decay),',
        '            torch.optim.SGD(model.parameters(), weight_decay=args.other * 2)]',
      ].join('\n'),
    );
    assert.deepEqual(
      fw.optimizers.map((o) => o.arg('weight_decay')?.value),
      [1e-3, 2e-4, 3e-4, 0],
    );
  });

  it('flattens optax chains and classifies each element', () => {
    const { fw } = facts(
      [
        'import optax',
        'decay = optax.add_decayed_weights(1e-4)',
        'tx = optax.chain(optax.clip(1.0), decay, optax.chain(optax.scale_by_adam()), optax.scale_by_learning_rate(1e-3),',
        '                 optax.masked(optax.add_decayed_weights(1e-4), mask), optax.scale(-1.0), optax.sgd(0.1))',
      ].join('\n'),
    );
    assert.deepEqual(
      fw.chains[0].elements.map((e) => [e.kind, e.name, e.masked]),
      [
        ['other', 'clip', false],
        ['decay', 'add_decayed_weights', false],
        ['adaptive', 'scale_by_adam', false],
        ['flip', 'scale_by_learning_rate', false],
        ['decay', 'add_decayed_weights', true],
        ['flip', 'scale', false],
        ['optimizer', 'sgd', false],
      ],
    );
  });

  it('applies Keras 3 and tfjs regularizer defaults', () => {
    const py = facts(
      [
        'from keras import regularizers, layers',
        "layers.Dense(4, kernel_regularizer=regularizers.l1_l2(), bias_regularizer='l1l2', activity_regularizer=regularizers.l2())",
        'r = regularizers.L1L2(l1=0, l2=1e-4)',
      ].join('\n'),
    ).fw;
    assert.deepEqual(
      py.regularizers.map((r) => [r.fn, r.l1.value, r.l2.value, r.versionDependent, r.attachments.map((a) => [a.kwarg, a.weight])]),
      [
        ['l1_l2', 0, 0, true, [['kernel_regularizer', true]]],
        ['l1l2', 0, 0, false, [['bias_regularizer', true]]],
        ['l2', 0, 0.01, false, [['activity_regularizer', false]]],
        ['L1L2', 0, 1e-4, false, []],
      ],
    );
    const ts = facts("import * as tf from '@tensorflow/tfjs';\ntf.layers.dense({units: 4, kernelRegularizer: tf.regularizers.l1l2({l1: 0})});\n", 'typescript').fw;
    assert.deepEqual(ts.regularizers.map((r) => [r.framework, r.fn, r.l1.value, r.l1.literalZero, r.l2.value]), [['tfjs', 'l1l2', 0, true, 0.01]]);
  });

  it('finds L2 penalties in losses, not in logs', () => {
    const { fw, text } = facts(
      [
        'import torch',
        'def train(model, x, y, lam=1e-4):',
        '    l2 = sum(p.pow(2).sum() for p in model.parameters())',
        '    loss = ce(model(x), y) + lam * l2',
        '    loss.backward()',
        '    print(sum(p.pow(2).sum() for p in model.parameters()))',
      ].join('\n'),
    );
    assert.deepEqual(fw.lossPenalties.map((p) => [text.slice(p.span.start, p.span.end), p.root, p.ctx.owner.name]), [['lam * l2', 'model', 'train']]);
  });

  it('links a penalty to the optimizer its code steps, not to another one nearby', () => {
    const { fw } = facts(
      [
        'import torch',
        'opt = torch.optim.SGD(model.parameters(), weight_decay=5e-4)',
        'def step(x, y, lam=1e-4):',
        '    loss = ce(model(x), y) + lam * sum(p.pow(2).sum() for p in model.parameters())',
        '    loss.backward()',
        '    opt.step()',
        'def other(model, x, y, lam=1e-4):',
        '    mine = torch.optim.SGD(model.parameters())',
        '    loss = ce(model(x), y) + lam * sum(p.pow(2).sum() for p in model.parameters())',
        '    loss.backward()',
        '    mine.step()',
        'other(model, x, y)',
      ].join('\n'),
    );
    const [opt] = fw.optimizers;
    assert.deepEqual(
      fw.lossPenalties.map((p) => fw.linked(p.ctx.owner, opt.call, opt.ctx.owner)),
      [true, false],
    );
  });

  it('recognizes a hand-written Adam that decays the gradient before the second moment', () => {
    const { fw } = facts(
      [
        'def adam(w, g, m, v, t, lr=1e-3, b1=0.9, b2=0.999, wd=1e-4):',
        '    g = g + wd * w',
        '    m = b1 * m + (1 - b1) * g',
        '    v = b2 * v + (1 - b2) * g * g',
        '    return w - lr * m / (v ** 0.5 + 1e-8), m, v',
        'def sgd(w, g, buf, lr=0.1, wd=1e-4):',
        '    g = g + wd * w',
        '    buf = 0.9 * buf + g',
        '    return w - lr * buf, buf',
      ].join('\n'),
    );
    assert.deepEqual(
      fw.handDecays.map((h) => [h.kind, h.ctx.owner.name, h.adaptive !== undefined, h.adaptive?.firstMoment !== undefined]),
      [
        ['coupled', 'adam', true, true],
        ['coupled', 'sgd', false, false],
      ],
    );
  });
});
