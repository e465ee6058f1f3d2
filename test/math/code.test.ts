import assert from 'node:assert/strict';
import { div, mul, neg, num, scale, sym } from '../../server/math/coef';
import { gradientOf } from '../../server/math/derive';
import { codeCoef, codeGradient } from '../../server/math/print/code';
import type { Coef, Dialect, Gradient, GradientKind } from '../../server/math/terms';

const reg = sym('reg');
const n = sym('n');
const grad = (kind: GradientKind, coef: Coef, param = 'W'): Gradient => ({ kind, coef, param });

describe('math/print/code', () => {
  it('prints coefficients as code', () => {
    const cases: [Coef, string][] = [
      [reg, 'reg'],
      [scale(reg, 2), '2 * reg'],
      [scale(reg, 0.5), '0.5 * reg'],
      [div(reg, n), 'reg / n'],
      [div(reg, mul(num(2), n)), 'reg / (2 * n)'],
      [mul(num(2), mul(num(0.5), reg)), 'reg'],
      [neg(mul(sym('lr'), reg)), '-lr * reg'],
      [num(1e-4), '1e-4'],
      [num(0.02), '0.02'],
      [num(0.01 * 2), '0.02'],
      [div(num(1), n), '1 / n'],
      [div(reg, mul(n, n)), 'reg / n ** 2'],
      [mul(sym('self.reg'), sym('m', -1)), 'self.reg / m'],
      [sym('a+b'), '(a+b)'],
    ];
    for (const [c, want] of cases) assert.equal(codeCoef(c), want, JSON.stringify(c));
  });

  const table: [Dialect, string, [string, string, string]][] = [
    ['numpy', 'W', ['2 * reg * W', 'reg * np.sign(W)', 'reg * W / np.linalg.norm(W)']],
    ['torch', 'W', ['2 * reg * W', 'reg * torch.sign(W)', 'reg * W / W.norm()']],
    ['tf', 'W', ['2 * reg * W', 'reg * tf.sign(W)', 'reg * W / tf.norm(W)']],
    ['jax', 'W', ['2 * reg * W', 'reg * jnp.sign(W)', 'reg * W / jnp.linalg.norm(W)']],
    ['tfjs', 'W', ['W.mul(2 * reg)', 'W.sign().mul(reg)', 'W.div(W.norm()).mul(reg)']],
    ['plain-ts', 'w[i]', ['2 * reg * w[i]', 'reg * Math.sign(w[i])', 'reg * w[i] / Math.hypot(...w)']],
    ['plain-py', 'w[j]', ['2 * reg * w[j]', 'reg * ((w[j] > 0) - (w[j] < 0))', 'reg * w[j] / (sum(v * v for v in w) ** 0.5)']],
  ];
  for (const [dialect, param, [linear, sign, normalized]] of table) {
    it(`prints the three gradient forms for ${dialect}`, () => {
      assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: reg, param }), dialect), linear);
      assert.equal(codeGradient(gradientOf({ kind: 'l1', coef: reg, param }), dialect), sign);
      assert.equal(codeGradient(gradientOf({ kind: 'norm2', coef: reg, param }), dialect), normalized);
    });
  }

  it('prints plain Python on a scalar', () => {
    assert.equal(codeGradient(grad('linear', scale(reg, 2), 'w'), 'plain-py'), '2 * reg * w');
  });

  it('uses the parameter text of the fix site', () => {
    assert.equal(codeGradient(grad('linear', reg, 'p'), 'torch', 'p.data'), 'reg * p.data');
    assert.equal(codeGradient(grad('normalized', reg, 'p'), 'torch', 'p.data'), 'reg * p.data / p.data.norm()');
  });

  it('simplifies the coefficient: ½ convention and tf.nn.l2_loss', () => {
    assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: scale(reg, 0.5), param: 'W' }), 'numpy'), 'reg * W');
    assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: num(0.5), param: 'W' }), 'tf'), 'W');
    assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: scale(sym('c'), 0.5), param: 'W' }), 'tf'), 'c * W');
    assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: num(0.5), param: 'W' }), 'tfjs'), 'W');
  });

  it('prints denominators after the term', () => {
    const nielsen = gradientOf({ kind: 'sumsq', coef: div(sym('lmbda'), mul(num(2), n)), param: 'w' });
    assert.equal(codeGradient(nielsen, 'numpy'), 'lmbda * w / n');
    assert.equal(codeGradient(nielsen, 'tfjs'), 'w.mul(lmbda / n)');
    assert.equal(codeGradient(grad('sign', div(reg, mul(num(2), n))), 'torch'), 'reg * torch.sign(W) / (2 * n)');
    assert.equal(codeGradient(grad('normalized', div(reg, n)), 'numpy'), 'reg * W / (n * np.linalg.norm(W))');
  });

  it('prints tfjs numbers and signs in method style', () => {
    assert.equal(codeGradient(gradientOf({ kind: 'sumsq', coef: num(0.01), param: 'W' }), 'tfjs'), 'W.mul(0.02)');
    assert.equal(codeGradient(grad('linear', num(-1)), 'tfjs'), 'W.neg()');
    assert.equal(codeGradient(grad('sign', neg(mul(sym('lr'), reg))), 'tfjs'), 'W.sign().mul(-lr * reg)');
    assert.equal(codeGradient(grad('linear', scale(reg, 2), 'a.add(b)'), 'tfjs'), 'a.add(b).mul(2 * reg)');
  });

  it('prints negative and unit coefficients', () => {
    assert.equal(codeGradient(grad('linear', num(-1)), 'numpy'), '-W');
    assert.equal(codeGradient(grad('linear', neg(mul(sym('lr'), reg))), 'jax'), '-lr * reg * W');
    assert.equal(codeGradient(grad('sign', num(1)), 'jax'), 'jnp.sign(W)');
    assert.equal(codeGradient(grad('linear', num(0)), 'numpy'), '0');
  });

  it('parenthesizes a parameter that is not one factor', () => {
    assert.equal(codeGradient(grad('linear', scale(reg, 2), 'a + b'), 'numpy'), '2 * reg * (a + b)');
    assert.equal(codeGradient(grad('normalized', reg, 'a + b'), 'torch'), 'reg * (a + b) / (a + b).norm()');
    assert.equal(codeGradient(grad('linear', scale(reg, 2), 'a + b'), 'tfjs'), '(a + b).mul(2 * reg)');
    assert.equal(codeGradient(grad('sign', reg, 'self.W'), 'numpy'), 'reg * np.sign(self.W)');
    assert.equal(codeGradient(grad('linear', scale(reg, 2), 'params["W1"]'), 'jax'), '2 * reg * params["W1"]');
  });

  it('gives no norm fix in plain code unless the parameter is an array element', () => {
    assert.equal(codeGradient(grad('normalized', reg, 'w'), 'plain-ts'), undefined);
    assert.equal(codeGradient(grad('normalized', reg, 'params["W1"]'), 'plain-py'), undefined);
    assert.equal(codeGradient(grad('normalized', reg, 'W[i][j]'), 'plain-ts'), 'reg * W[i][j] / Math.hypot(...W[i])');
  });
});
