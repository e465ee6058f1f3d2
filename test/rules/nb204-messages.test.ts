// NB204's messages name only what the code shows: biases for a model without normalization layers,
// the normalization layer as written when the model builds one; and the decay of the entry a
// hand-written cost exempts from its penalty.
import * as assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';

function nb204(text: string): { message: string; line: number }[] {
  const { findings } = lintText(text, { language: 'python', select: ['NB204'] });
  return findings.map((f) => ({ message: f.message, line: f.range.start.line }));
}

describe('NB204 messages', () => {
  before(() => initEngine());

  it('names biases only for a model with no normalization layer', () => {
    const found = nb204([
      'import torch',
      'from torch import nn',
      '',
      'net = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))',
      'opt = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=0.1)',
    ].join('\n'));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /every tensor in net\.parameters\(\), biases included;/);
    assert.doesNotMatch(found[0].message, /BatchNorm|LayerNorm|normalization/);
  });

  it('names the normalization layer the model builds', () => {
    const found = nb204([
      'import torch',
      'from torch import nn',
      '',
      'net = nn.Sequential(nn.Linear(784, 100), nn.BatchNorm1d(100), nn.ReLU(), nn.Linear(100, 10))',
      'opt = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=0.1)',
    ].join('\n'));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /biases and normalization scales and shifts \(nn\.BatchNorm1d\) included/);
    assert.doesNotMatch(found[0].message, /LayerNorm/);
  });

  it('asks Keras to exclude only the bias for a model without normalization layers', () => {
    const found = nb204([
      'import keras',
      'from keras import layers',
      '',
      "model = keras.Sequential([layers.Dense(128, activation='relu'), layers.Dense(10)])",
      'opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.05)',
      "model.compile(optimizer=opt, loss='mse')",
    ].join('\n'));
    assert.equal(found.length, 1);
    assert.match(found[0].message, /biases included\. .*var_names=\['bias'\]\)/);
    assert.doesNotMatch(found[0].message, /gamma|BatchNormalization/);
  });

  it('reports a whole-parameter shrink when the cost exempts the intercept', () => {
    const found = nb204([
      'import numpy as np',
      '',
      'class Fit:',
      '    def __init__(self, X, y):',
      '        self.X, self.y = X, y',
      '        self.coef = np.zeros((X.shape[1], 1))',
      '',
      '    def cost(self, lam):',
      '        m = self.X.shape[0]',
      '        r = self.X @ self.coef - self.y',
      '        rest = self.coef[1:, 0]',
      '        return (r.T @ r + lam * (rest.T @ rest)) / (2 * m)',
      '',
      '    def step(self, lr, lam):',
      '        m = self.X.shape[0]',
      '        r = self.X @ self.coef - self.y',
      '        keep = 1 - lr * lam / m',
      '        c = self.coef',
      '        c = c * keep - lr / m * (self.X.T @ r)',
      '        self.coef = c',
    ].join('\n'));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0].line, 18);
    assert.match(found[0].message, /decays all of c, c\[0\] included, but the cost's penalty exempts c\[0\] \(it sums over self\.coef\[1:, 0\] only\)/);
  });

  it('reads the exempt slice from its parts, however it is written (`1:`, `1:None`, `1::`; `:` or `::` before it)', () => {
    const fit = (slice: string): string[] =>
      nb204([
        'import numpy as np',
        '',
        'def cost(X, y, W, lam):',
        '    r = X @ W.T - y',
        `    return float(np.sum(r ** 2) + lam * np.sum(W[${slice}] ** 2)) / 2`,
        '',
        'def fit(X, y, W, lr, lam, steps=50):',
        '    for _ in range(steps):',
        '        r = X @ W.T - y',
        '        W = W * (1 - lr * lam) - lr * (r.T @ X)',
        '        print(cost(X, y, W, lam))',
        '    return W',
      ].join('\n')).map((f) => f.message.match(/exempts (\S+)/)?.[1] ?? f.message);
    assert.deepEqual(fit('1:'), ['W[0]']);
    assert.deepEqual(fit('1:None'), ['W[0]']);
    assert.deepEqual(fit('1::'), ['W[0]']);
    assert.deepEqual(fit(':, 1:'), ['W[:,']);
    assert.deepEqual(fit('::, 1:'), ['W[:,']);
    assert.deepEqual(fit('2:'), []);
  });
});
