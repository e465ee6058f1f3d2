import assert from 'node:assert/strict';
import {
  coef, coefRatio, div, equalCoef, isNumber, isOne, mul, neg, num, ONE, pow, scale, sym,
} from '../../server/math/coef';
import type { Coef } from '../../server/math/terms';

const reg = sym('reg');
const n = sym('n');
const lr = sym('lr');

function assertNormalized(c: Coef): void {
  const names = c.syms.map((s) => s.name);
  assert.deepEqual(names, [...names].sort(), 'sorted by name');
  assert.equal(new Set(names).size, names.length, 'no duplicate names');
  assert.ok(c.syms.every((s) => s.pow !== 0), 'no zero powers');
  if (c.num === 0) assert.deepEqual(c.syms, [], 'zero carries no symbols');
}

describe('math/coef', () => {
  it('builds numbers and symbols', () => {
    assert.deepEqual(num(2), { num: 2, syms: [] });
    assert.deepEqual(sym('reg'), { num: 1, syms: [{ name: 'reg', pow: 1 }] });
    assert.deepEqual(sym('n', -1), { num: 1, syms: [{ name: 'n', pow: -1 }] });
    assert.deepEqual(ONE, { num: 1, syms: [] });
  });

  it('removes whitespace from symbol names', () => {
    assert.deepEqual(sym(' self . reg '), sym('self.reg'));
    assert.deepEqual(sym('len( X )'), sym('len(X)'));
  });

  it('sorts, merges and drops zero powers', () => {
    const c = coef(3, [{ name: 'reg', pow: 1 }, { name: 'n', pow: -1 }, { name: 'reg', pow: 1 }, { name: 'a', pow: 0 }]);
    assert.deepEqual(c, { num: 3, syms: [{ name: 'n', pow: -1 }, { name: 'reg', pow: 2 }] });
    assert.deepEqual(mul(reg, div(ONE, reg)), ONE);
  });

  it('orders names by code unit, independent of locale', () => {
    assert.deepEqual(mul(sym('b'), mul(sym('a'), sym('N'))).syms.map((s) => s.name), ['N', 'a', 'b']);
  });

  it('treats zero times anything as the number 0', () => {
    assert.deepEqual(scale(reg, 0), { num: 0, syms: [] });
    assert.deepEqual(mul(num(0), div(reg, n)), { num: 0, syms: [] });
  });

  it('multiplies and divides', () => {
    // Nielsen: (lmbda / (2n)) and 2 · that = lmbda / n
    const half = div(sym('lmbda'), mul(num(2), n));
    assert.deepEqual(half, { num: 0.5, syms: [{ name: 'lmbda', pow: 1 }, { name: 'n', pow: -1 }] });
    assert.deepEqual(scale(half, 2), div(sym('lmbda'), n));
    assert.deepEqual(mul(num(2), mul(num(0.5), reg)), reg);
    assert.throws(() => div(reg, num(0)), RangeError);
  });

  it('raises to powers', () => {
    assert.deepEqual(pow(div(reg, n), 2), { num: 1, syms: [{ name: 'n', pow: -2 }, { name: 'reg', pow: 2 }] });
    assert.deepEqual(pow(scale(reg, 3), 0), ONE);
    assert.deepEqual(pow(num(2), -1), num(0.5));
  });

  it('negates and scales', () => {
    assert.deepEqual(neg(mul(lr, reg)), { num: -1, syms: [{ name: 'lr', pow: 1 }, { name: 'reg', pow: 1 }] });
    assert.deepEqual(neg(neg(reg)), reg);
    assert.deepEqual(scale(reg, 0.5), { num: 0.5, syms: [{ name: 'reg', pow: 1 }] });
  });

  it('classifies numbers and one', () => {
    assert.ok(isNumber(num(0.01)));
    assert.ok(!isNumber(reg));
    assert.ok(isOne(ONE));
    assert.ok(isOne(mul(num(2), num(0.5))));
    assert.ok(isOne(num(0.1 * 3 / 0.3)));
    assert.ok(!isOne(reg));
    assert.ok(!isOne(num(-1)));
  });

  it('compares with a relative tolerance of 1e-9', () => {
    assert.ok(equalCoef(scale(reg, 0.1 * 3), scale(reg, 0.3)));
    assert.ok(equalCoef(num(1e-4), num(1e-4 * (1 + 1e-12))));
    assert.ok(!equalCoef(num(1), num(1.000001)));
    assert.ok(!equalCoef(reg, sym('lam')));
    assert.ok(!equalCoef(reg, mul(reg, n)));
    assert.ok(equalCoef(num(0), scale(reg, 0)));
  });

  it('finds the numeric ratio between like coefficients', () => {
    assert.equal(coefRatio(scale(reg, 2), reg), 2);
    assert.equal(coefRatio(div(reg, n), div(scale(reg, 2), n)), 0.5);
    assert.equal(coefRatio(num(0.02), num(0.01)), 2);
    assert.equal(coefRatio(reg, n), undefined);
    assert.equal(coefRatio(reg, mul(reg, n)), undefined);
    assert.equal(coefRatio(num(0), reg), 0);
    assert.equal(coefRatio(reg, num(0)), undefined);
  });

  it('keeps the invariant through random arithmetic', () => {
    const atoms = [reg, n, lr, sym('n', -1), sym('self.reg'), num(2), num(0.5), num(-3), sym('a', 2)];
    let seed = 7;
    const rand = (k: number): number => (seed = (seed * 16807) % 2147483647) % k;
    for (let i = 0; i < 500; i++) {
      let c: Coef = ONE;
      for (let j = 0; j < 6; j++) {
        const x = atoms[rand(atoms.length)];
        const op = rand(4);
        c = op === 0 ? mul(c, x) : op === 1 ? div(c, x) : op === 2 ? pow(c, rand(3) - 1) : neg(c);
        assertNormalized(c);
      }
      assert.ok(equalCoef(div(mul(c, reg), reg), c));
      assert.ok(Math.abs(coefRatio(scale(c, 5), c)! - 5) < 1e-12);
    }
  });
});
