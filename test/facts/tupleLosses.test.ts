// The loss by data flow (tupleLosses.ts): which assignments losses.ts reads as a penalized objective
// whatever the variable is called. A number added to a sum of squares (an epsilon under a norm, a
// log-density's constant) is no data term, so that sum is no loss.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { Project } from '../../server/engine/project';
import { lossFacts } from '../../server/engine/facts/losses';
import { weightsBesideLoss } from '../../server/engine/facts/tupleLosses';

function load(source: string) {
  const p = new Project({ root: '/p', host: { readFile: (f: string) => (f === '/p/m.py' ? source : undefined) } });
  const parsed = p.load('/p/m.py');
  assert.ok(parsed);
  return parsed;
}

function lossSites(source: string): string[] {
  const p = new Project({ root: '/p', host: { readFile: (f: string) => (f === '/p/m.py' ? source : undefined) } });
  const program = p.program();
  const parsed = p.load('/p/m.py');
  assert.ok(parsed);
  program.add(parsed);
  const facts = program.facts(parsed);
  return lossFacts(facts).sites.map((s) => program.source(s.span));
}

const step = (body: string[]): string =>
  ['import numpy as np', '', 'def step(W, X, y, lr, lam):', '    r = X @ W - y', '    dW = X.T @ r / len(y)', '    W -= lr * dW', ...body.map((l) => `    ${l}`), '    return W', ''].join('\n');

describe('tupleLosses: a penalized objective by data flow', () => {
  before(() => initEngine());

  it('a data term plus a reduced penalty is the loss, in one statement or accumulated', () => {
    assert.deepEqual(lossSites(step(['E = 0.5 * np.mean(r ** 2) + 0.5 * lam * np.sum(W ** 2)'])), ['E = 0.5 * np.mean(r ** 2) + 0.5 * lam * np.sum(W ** 2)']);
    assert.deepEqual(lossSites(step(['E = 0.5 * np.mean(r ** 2)', 'E += 0.5 * lam * np.sum(W ** 2)'])), ['E += 0.5 * lam * np.sum(W ** 2)']);
  });

  it('a number plus a sum of squares or a norm is no loss (max-norm, unit-norm projection)', () => {
    assert.deepEqual(lossSites(step(['sq = 1e-12 + np.sum(W ** 2)', 'W *= np.minimum(1.0, 3.0 / np.sqrt(sq))'])), []);
    assert.deepEqual(lossSites(step(['nrm = np.linalg.norm(W) + 1e-8', 'W = W / nrm'])), []);
    assert.deepEqual(lossSites(step(['sq = 1e-12', 'sq += np.sum(W ** 2)', 'print(sq)'])), []);
  });
});

describe('tupleLosses: the weight of an unstepped cost function', () => {
  before(() => initEngine());

  const cost = (penalty: string): string =>
    ['def cost(theta, X, y, lam):', '    r = X @ theta - y', `    E = 0.5 * (r ** 2).mean() + 0.5 * lam * ${penalty}`, '    delta = np.zeros_like(theta)', '    delta += X.T @ r / len(y)', '    delta += lam * theta', '    return E, delta', ''].join('\n');

  it("the argument whose zeros the returned gradient starts from, when the loss adds its sum of squares (the catalogue's sums, squares, dots, norms)", () => {
    for (const penalty of ['np.sum(theta * theta)', '(theta ** 2).sum()', 'np.nansum(np.square(theta))', 'tf.reduce_sum(tf.square(theta))', 'np.inner(theta, theta)', 'np.linalg.norm(theta) ** 2']) {
      assert.deepEqual(weightsBesideLoss(load(cost(penalty)).module.body).map((w) => w.key), ['theta'], penalty);
    }
  });

  it('no weight when the loss adds no square of that argument', () => {
    assert.deepEqual(weightsBesideLoss(load(cost('np.sum(X * X)')).module.body).map((w) => w.key), []);
  });
});
