import assert from 'node:assert/strict';
import { div, mul, neg, num, scale, sym } from '../../server/math/coef';
import { gradientOf } from '../../server/math/derive';
import { unicodeCoef, unicodeGradient, unicodePenalty } from '../../server/math/print/unicode';
import type { Coef, Penalty, PenaltyKind } from '../../server/math/terms';

const reg = sym('reg');
const n = sym('n');
const pen = (kind: PenaltyKind, coef: Coef, param = 'W'): Penalty => ({ kind, coef, param });

describe('math/print/unicode', () => {
  it('prints coefficients', () => {
    const cases: [Coef, string][] = [
      [reg, 'reg'],
      [scale(reg, 2), '2·reg'],
      [scale(reg, 0.5), '0.5·reg'],
      [div(reg, mul(num(2), n)), 'reg/(2·n)'],
      [div(sym('lmbda'), n), 'lmbda/n'],
      [num(1e-4), '1e-4'],
      [num(0.0001), '1e-4'],
      [num(0.01), '0.01'],
      [num(2.5e-4), '2.5e-4'],
      [num(1000), '1000'],
      [neg(mul(sym('lr'), reg)), '−lr·reg'],
      [scale(reg, -2), '−2·reg'],
      [num(1), '1'],
      [num(-1), '−1'],
      [num(0), '0'],
      [div(num(1), n), '1/n'],
      [scale(reg, 0.1 * 3), '0.3·reg'],
      [scale(reg, 1 / 3), 'reg/3'],
      [div(scale(reg, 1e-4), n), '1e-4·reg/n'],
      [div(scale(reg, 1.5), n), '1.5·reg/n'],
      [mul(reg, mul(n, n)), 'n²·reg'],
      [div(reg, mul(n, mul(n, n))), 'reg/n³'],
      [sym('n', 4), 'n^4'],
      [sym('n', 0.5), 'n^0.5'],
      [sym('self.reg'), 'self.reg'],
      [div(sym('self.reg'), sym('len(X)')), 'self.reg/len(X)'],
      [sym('a+b'), '(a+b)'],
    ];
    for (const [c, want] of cases) assert.equal(unicodeCoef(c), want, JSON.stringify(c));
  });

  it('prints every penalty form', () => {
    assert.equal(unicodePenalty(pen('sumsq', reg)), 'reg·ΣW²');
    assert.equal(unicodePenalty(pen('sumsq', scale(reg, 0.5))), '0.5·reg·ΣW²');
    assert.equal(unicodePenalty(pen('elemsq', reg)), 'reg·W²');
    assert.equal(unicodePenalty(pen('norm2', reg)), 'reg·‖W‖₂');
    assert.equal(unicodePenalty(pen('l1', reg)), 'reg·Σ|W|');
    assert.equal(unicodePenalty(pen('elemabs', reg)), 'reg·|W|');
  });

  it('puts a denominator after the whole term', () => {
    assert.equal(unicodePenalty(pen('sumsq', div(sym('lmbda'), mul(num(2), n)), 'w')), 'lmbda·Σw²/(2·n)');
    assert.equal(unicodePenalty(pen('elemsq', scale(sym('c'), 0.5), 'p[j]')), '0.5·c·p[j]²');
  });

  it('omits a coefficient of 1 and writes −1 as a sign', () => {
    assert.equal(unicodePenalty(pen('sumsq', num(0.5))), '0.5·ΣW²');
    assert.equal(unicodePenalty(pen('sumsq', num(1))), 'ΣW²');
    assert.equal(unicodePenalty(pen('l1', num(-1))), '−Σ|W|');
    assert.equal(unicodePenalty(pen('l1', num(0))), '0');
  });

  it('prints every gradient form', () => {
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg))), '2·reg·W');
    assert.equal(unicodeGradient(gradientOf(pen('elemsq', reg))), '2·reg·W');
    assert.equal(unicodeGradient(gradientOf(pen('norm2', reg))), 'reg·W/‖W‖₂');
    assert.equal(unicodeGradient(gradientOf(pen('l1', reg))), 'reg·sign(W)');
    assert.equal(unicodeGradient(gradientOf(pen('elemabs', reg))), 'reg·sign(W)');
  });

  it('prints the gradients of the conventions users mix up', () => {
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', scale(reg, 0.5)))), 'reg·W');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', div(sym('lmbda'), mul(num(2), n)), 'w'))), 'lmbda·w/n');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', num(0.5)))), 'W');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', scale(sym('c'), 0.5)))), 'c·W');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', num(0.01), 'kernel'))), '0.02·kernel');
    assert.equal(unicodeGradient(gradientOf(pen('norm2', div(reg, n)))), 'reg·W/(n·‖W‖₂)');
    assert.equal(unicodeGradient(gradientOf(pen('l1', div(reg, mul(num(2), n))))), 'reg·sign(W)/(2·n)');
  });

  it('prints the parameter as written, in parentheses only when it is not one factor', () => {
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg, 'self.W'))), '2·reg·self.W');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg, 'params["W1"]'))), '2·reg·params["W1"]');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg, 'w[i + 1]'))), '2·reg·w[i + 1]');
    assert.equal(unicodePenalty(pen('sumsq', reg, 'a + b')), 'reg·Σ(a + b)²');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg, 'a + b'))), '2·reg·(a + b)');
    assert.equal(unicodeGradient(gradientOf(pen('sumsq', reg, '-w'))), '2·reg·(-w)');
    assert.equal(unicodePenalty(pen('norm2', reg, 'a + b')), 'reg·‖a + b‖₂');
    assert.equal(unicodeGradient(gradientOf(pen('l1', reg, 'a + b'))), 'reg·sign(a + b)');
  });
});
