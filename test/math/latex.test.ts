import assert from 'node:assert/strict';
import katex from 'katex';
import { div, mul, neg, num, pow, scale, sym } from '../../server/math/coef';
import { gradientOf } from '../../server/math/derive';
import {
  defaultParamTeX, defaultSymbolTeX, escapeTT, latexCoef, latexGradient, latexPenalty, type SymbolMap,
} from '../../server/math/print/latex';
import type { Coef, Penalty, PenaltyKind } from '../../server/math/terms';
import { texNumber } from '../../server/math/print/format';
import { printPoly } from '../../server/math/print/poly';
import type { Poly } from '../../server/math/poly';

const reg = sym('reg');
const n = sym('n');
const pen = (kind: PenaltyKind, coef: Coef, param = 'W'): Penalty => ({ kind, coef, param });

/** Asserts the string and that KaTeX accepts it in strict mode. */
function tex(actual: string, want: string): void {
  assert.equal(actual, want);
  assertKatex(actual);
}

function assertKatex(s: string): void {
  assert.doesNotThrow(() => katex.renderToString(s, { throwOnError: true, strict: 'error' }), s);
}

describe('math/print/latex', () => {
  it('maps common source names to TeX symbols', () => {
    const cases: [string, string][] = [
      ['lr', '\\eta'], ['learning_rate', '\\eta'], ['step_size', '\\eta'], ['eta', '\\eta'],
      ['alpha', '\\alpha'], ['beta', '\\beta'], ['gamma', '\\gamma'], ['Sigma', '\\Sigma'],
      ['reg', '\\lambda'], ['lam', '\\lambda'], ['lmbda', '\\lambda'], ['lambda_', '\\lambda'],
      ['lambd', '\\lambda'], ['l2', '\\lambda'], ['l2_reg', '\\lambda'], ['weight_decay', '\\lambda'],
      ['wd', '\\lambda'], ['decay', '\\lambda'], ['reg_strength', '\\lambda'],
      ['n', 'n'], ['m', 'm'], ['N', 'N'], ['c', 'c'], ['λ', 'λ'],
      ['self.reg', '\\mathtt{self.reg}'],
      ['num_train', '\\mathtt{num\\_train}'],
      ['len(X_train)', '\\mathtt{len(X\\_train)}'],
      ['a#b%c&d$e{f}', '\\mathtt{a\\#b\\%c\\&d\\$e\\{f\\}}'],
      ['a~b^c\\d', '\\mathtt{a\\char"7E b\\char"5E c\\char"5C d}'],
      ["cfg['reg']", '\\mathtt{cfg[\\char"27 reg\\char"27 ]}'],
      ['ré', '\\mathtt{r\\text{é}}'],
    ];
    for (const [name, want] of cases) tex(defaultSymbolTeX(name), want);
    // KaTeX accepts \char for any code point (it only warns that it lacks the glyph's metrics).
    assert.equal(escapeTT('学习率'), '\\char"5B66 \\char"4E60 \\char"7387 ');
  });

  it('maps parameters', () => {
    const cases: [string, string][] = [
      ['W', 'W'], ['w', 'w'], ['W1', 'W_1'], ['W_2', 'W_2'], ['b12', 'b_{12}'], ['theta', '\\theta'],
      ['theta0', '\\theta_0'], ['self.W', '\\mathtt{self.W}'], ['params["W1"]', '\\mathtt{params["W1"]}'],
      ['p[j]', '\\mathtt{p[j]}'], ['self.W_hh', '\\mathtt{self.W\\_hh}'], ['w[i + 1]', '\\mathtt{w[i\\ +\\ 1]}'],
    ];
    for (const [param, want] of cases) tex(defaultParamTeX(param), want);
  });

  it('prints coefficients', () => {
    const cases: [Coef, string][] = [
      [reg, '\\lambda'],
      [scale(reg, 2), '2\\lambda'],
      [scale(reg, 0.5), '0.5\\lambda'],
      [div(reg, mul(num(2), n)), '\\frac{\\lambda}{2n}'],
      [div(sym('lmbda'), n), '\\frac{\\lambda}{n}'],
      [neg(mul(sym('lr'), reg)), '-\\eta\\,\\lambda'],
      [num(1e-4), '10^{-4}'],
      [num(2.5e-4), '2.5\\times 10^{-4}'],
      [div(scale(reg, 1e-4), n), '\\frac{10^{-4}\\,\\lambda}{n}'],
      [scale(reg, 1 / 3), '\\frac{\\lambda}{3}'],
      [div(num(1), n), '\\frac{1}{n}'],
      [div(reg, pow(n, 2)), '\\frac{\\lambda}{n^{2}}'],
      [sym('self.reg'), '\\mathtt{self.reg}'],
      [scale(sym('self.reg'), 2), '2\\,\\mathtt{self.reg}'],
      [mul(sym('lr'), sym('weight_decay')), '\\eta\\,\\lambda'],
      [sym('a+b'), '\\left(\\mathtt{a+b}\\right)'],
      [num(0), '0'],
      [num(-1), '-1'],
    ];
    for (const [c, want] of cases) tex(latexCoef(c), want);
  });

  it('prints every penalty form', () => {
    tex(latexPenalty(pen('sumsq', reg)), '\\lambda\\sum W^{2}');
    tex(latexPenalty(pen('sumsq', scale(reg, 0.5))), '0.5\\lambda\\sum W^{2}');
    tex(latexPenalty(pen('sumsq', div(sym('lmbda'), mul(num(2), n)), 'w')), '\\frac{\\lambda}{2n}\\sum w^{2}');
    tex(latexPenalty(pen('elemsq', reg)), '\\lambda\\,W^{2}');
    tex(latexPenalty(pen('norm2', reg)), '\\lambda\\lVert W\\rVert_2');
    tex(latexPenalty(pen('l1', reg)), '\\lambda\\sum \\lvert W\\rvert');
    tex(latexPenalty(pen('elemabs', reg)), '\\lambda\\lvert W\\rvert');
    tex(latexPenalty(pen('sumsq', num(1))), '\\sum W^{2}');
    tex(latexPenalty(pen('sumsq', num(-1))), '-\\sum W^{2}');
    tex(latexPenalty(pen('sumsq', num(0.5))), '0.5\\sum W^{2}');
    tex(latexPenalty(pen('elemsq', num(2))), '2W^{2}');
  });

  it('prints every gradient form', () => {
    tex(latexGradient(gradientOf(pen('sumsq', reg))), '2\\lambda\\,W');
    tex(latexGradient(gradientOf(pen('elemsq', reg))), '2\\lambda\\,W');
    tex(latexGradient(gradientOf(pen('norm2', reg))), '\\lambda\\,\\frac{W}{\\lVert W\\rVert_2}');
    tex(latexGradient(gradientOf(pen('l1', reg))), '\\lambda\\operatorname{sign}(W)');
    tex(latexGradient(gradientOf(pen('elemabs', reg))), '\\lambda\\operatorname{sign}(W)');
  });

  it('prints the gradients of the conventions users mix up', () => {
    tex(latexGradient(gradientOf(pen('sumsq', scale(reg, 0.5)))), '\\lambda\\,W');
    tex(latexGradient(gradientOf(pen('sumsq', div(sym('lmbda'), mul(num(2), n)), 'w'))), '\\frac{\\lambda}{n}\\,w');
    tex(latexGradient(gradientOf(pen('sumsq', num(0.5)))), 'W');
    tex(latexGradient(gradientOf(pen('sumsq', scale(sym('c'), 0.5)))), 'c\\,W');
    tex(latexGradient(gradientOf(pen('sumsq', num(0.01), 'kernel'))), '0.02\\,\\mathtt{kernel}');
    tex(latexGradient(gradientOf(pen('sumsq', num(5e-4)))), '10^{-3}\\,W');
  });

  it('prints parameters that are not plain names', () => {
    tex(latexGradient(gradientOf(pen('sumsq', reg, 'self.W'))), '2\\lambda\\,\\mathtt{self.W}');
    tex(latexPenalty(pen('sumsq', reg, 'W1')), '\\lambda\\sum W_1^{2}');
    tex(latexPenalty(pen('sumsq', reg, 'params["W1"]')), '\\lambda\\sum \\mathtt{params["W1"]}^{2}');
    tex(latexPenalty(pen('elemsq', scale(sym('c'), 0.5), 'p[j]')), '0.5c\\,\\mathtt{p[j]}^{2}');
    tex(latexPenalty(pen('sumsq', reg, 'a + b')), '\\lambda\\sum \\left(\\mathtt{a\\ +\\ b}\\right)^{2}');
    tex(latexGradient(gradientOf(pen('sumsq', reg, 'a + b'))), '2\\lambda\\,\\left(\\mathtt{a\\ +\\ b}\\right)');
    tex(latexPenalty(pen('norm2', reg, 'a + b')), '\\lambda\\lVert \\mathtt{a\\ +\\ b}\\rVert_2');
  });

  it('uses a caller symbol map before the defaults', () => {
    const asMap: SymbolMap = new Map([['self.reg', '\\lambda'], ['self.W', 'W']]);
    tex(latexGradient(gradientOf(pen('sumsq', sym('self.reg'), 'self.W')), asMap), '2\\lambda\\,W');
    const asFn: SymbolMap = (name) => (name === 'mom' ? '(1-\\beta)' : name === 'omb' ? '1-\\beta' : undefined);
    tex(latexCoef(mul(sym('mom'), reg), asFn), '(1-\\beta)\\,\\lambda');
    tex(latexCoef(mul(sym('omb'), reg), asFn), '\\left(1-\\beta\\right)\\,\\lambda');
    tex(latexCoef(pow(sym('x2'), 2), () => 'x^{2}'), '{x^{2}}^{2}');
  });

  it('renders every form, coefficient and parameter in KaTeX strict mode', () => {
    const coefs = [
      reg, scale(reg, 2), scale(reg, 0.5), div(reg, mul(num(2), n)), neg(mul(sym('lr'), reg)), num(1e-4),
      num(2.5e-7), num(-1), num(0), div(num(1), pow(n, 3)), sym('self._lambda'), sym('cfg["l2"]'),
      sym('n', 0.5), scale(sym('a+b'), -0.25), mul(sym('batch_size'), sym('weight_decay', -2)),
    ];
    const params = ['W', 'W1', 'b12', 'theta', 'self.W', 'params["W1"]', "params['W1']", 'p[j]', 'a + b', 'w~^\\x', 'x$#%&{}_'];
    const kinds: PenaltyKind[] = ['sumsq', 'elemsq', 'norm2', 'l1', 'elemabs'];
    let count = 0;
    for (const c of coefs) {
      assertKatex(latexCoef(c));
      for (const param of params) {
        for (const kind of kinds) {
          const p = pen(kind, c, param);
          assertKatex(latexPenalty(p));
          assertKatex(latexGradient(gradientOf(p)));
          count += 2;
        }
      }
    }
    assert.equal(count, coefs.length * params.length * kinds.length * 2);
  });
});

describe('math/print/format texNumber', () => {
  it('writes a number in scientific notation as TeX, with \\times (not a tab)', () => {
    assert.equal(texNumber('2.5e-4'), '2.5\\times 10^{-4}');
    assert.equal(texNumber('1e-8'), '10^{-8}');
    assert.equal(texNumber('0.001'), '0.001');
  });

  it('typesets a polynomial coefficient in scientific notation without a control character', () => {
    const tex = printPoly([{ c: 2.5e-8, fs: [{ atom: { k: 'sym', key: 'w' }, n: 1 }] }] as Poly, () => ({ tex: 'w', unicode: 'w' })).tex;
    assert.ok(!/[\t\n]/.test(tex), JSON.stringify(tex));
    assert.match(tex, /2\.5\\times 10\^\{-8\}/);
  });
});
