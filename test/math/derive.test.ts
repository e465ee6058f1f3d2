import assert from 'node:assert/strict';
import { div, equalCoef, mul, num, ONE, scale, sym } from '../../server/math/coef';
import { gradientOf, penaltyFromGradient, penaltyKindsFor } from '../../server/math/derive';
import type { Coef, Gradient, Penalty, PenaltyKind } from '../../server/math/terms';

const reg = sym('reg');
const n = sym('n');
const pen = (kind: PenaltyKind, coef: Coef, param = 'W', via?: string): Penalty => ({ kind, coef, param, via });

// Numeric evaluation, independent of derive.ts, to check its results by finite differences.
const ENV: Record<string, number> = { reg: 0.3, n: 7, c: 1.7, lmbda: 2.5 };
const evalCoef = (c: Coef): number => c.syms.reduce((v, s) => v * ENV[s.name] ** s.pow, c.num);
const norm = (w: number[]): number => Math.sqrt(w.reduce((s, x) => s + x * x, 0));

function evalPenalty(p: Penalty, w: number[]): number {
  const c = evalCoef(p.coef);
  switch (p.kind) {
    case 'sumsq': return c * w.reduce((s, x) => s + x * x, 0);
    case 'norm2': return c * norm(w);
    case 'l1': return c * w.reduce((s, x) => s + Math.abs(x), 0);
    // Elementwise forms: R(w) = Σ c·f(wᵢ) has the same per-element derivative.
    case 'elemsq': return c * w.reduce((s, x) => s + x * x, 0);
    case 'elemabs': return c * w.reduce((s, x) => s + Math.abs(x), 0);
  }
}

function evalGradient(g: Gradient, w: number[]): number[] {
  const c = evalCoef(g.coef);
  switch (g.kind) {
    case 'linear': return w.map((x) => c * x);
    case 'sign': return w.map((x) => c * Math.sign(x));
    case 'normalized': return w.map((x) => (c * x) / norm(w));
  }
}

describe('math/derive', () => {
  it('differentiates c·ΣW² to 2c·W', () => {
    assert.deepEqual(gradientOf(pen('sumsq', reg)), { kind: 'linear', coef: scale(reg, 2), param: 'W' });
  });

  it('keeps the ½ convention: 0.5·reg·ΣW² → reg·W (cs231n case study)', () => {
    const g = gradientOf(pen('sumsq', scale(reg, 0.5)));
    assert.equal(g.kind, 'linear');
    assert.deepEqual(g.coef, reg);
  });

  it('differentiates Nielsen λ/(2n)·Σw² to λ/n·w', () => {
    const g = gradientOf(pen('sumsq', div(sym('lmbda'), mul(num(2), n)), 'w'));
    assert.deepEqual(g, { kind: 'linear', coef: div(sym('lmbda'), n), param: 'w' });
  });

  it('differentiates tf.nn.l2_loss (ΣW²/2) to W, and c·l2_loss to c·W', () => {
    assert.deepEqual(gradientOf(pen('sumsq', num(0.5), 'W', 'tf.nn.l2_loss')).coef, ONE);
    assert.deepEqual(gradientOf(pen('sumsq', scale(sym('c'), 0.5), 'W', 'tf.nn.l2_loss')).coef, sym('c'));
  });

  it('differentiates Keras l2(0.01) (no ½) to 0.02·W', () => {
    const g = gradientOf(pen('sumsq', num(0.01), 'kernel', 'keras l2'));
    assert.ok(equalCoef(g.coef, num(0.02)));
  });

  it('differentiates the elementwise square c·p[j]²/2 to c·p[j]', () => {
    assert.deepEqual(gradientOf(pen('elemsq', scale(sym('c'), 0.5), 'p[j]')), { kind: 'linear', coef: sym('c'), param: 'p[j]' });
  });

  it('differentiates c·‖W‖₂ to c·W/‖W‖₂ (not 2c·W)', () => {
    assert.deepEqual(gradientOf(pen('norm2', reg)), { kind: 'normalized', coef: reg, param: 'W' });
  });

  it('differentiates c·Σ|W| and c·|W| to c·sign(W)', () => {
    assert.deepEqual(gradientOf(pen('l1', reg)), { kind: 'sign', coef: reg, param: 'W' });
    assert.deepEqual(gradientOf(pen('elemabs', reg, 'w[i]')), { kind: 'sign', coef: reg, param: 'w[i]' });
  });

  it('agrees with central finite differences for every form', () => {
    const w = [0.8, -1.3, 2.1, -0.4];
    const coefs = [reg, scale(reg, 0.5), div(sym('lmbda'), mul(num(2), n)), num(0.01), scale(sym('c'), -3)];
    const kinds: PenaltyKind[] = ['sumsq', 'elemsq', 'norm2', 'l1', 'elemabs'];
    for (const kind of kinds) {
      for (const c of coefs) {
        const p = pen(kind, c);
        const analytic = evalGradient(gradientOf(p), w);
        w.forEach((_, i) => {
          const h = 1e-6;
          const up = w.map((x, j) => (j === i ? x + h : x));
          const down = w.map((x, j) => (j === i ? x - h : x));
          const fd = (evalPenalty(p, up) - evalPenalty(p, down)) / (2 * h);
          assert.ok(Math.abs(fd - analytic[i]) < 1e-6 * Math.max(1, Math.abs(fd)), `${kind} ${JSON.stringify(c)} [${i}]: ${fd} vs ${analytic[i]}`);
        });
      }
    }
  });

  it('recovers the penalty a gradient implies', () => {
    const lin: Gradient = { kind: 'linear', coef: reg, param: 'W' };
    assert.deepEqual(penaltyFromGradient(lin), { kind: 'sumsq', coef: scale(reg, 0.5), param: 'W' });
    assert.deepEqual(penaltyFromGradient(lin, 'elemsq'), { kind: 'elemsq', coef: scale(reg, 0.5), param: 'W' });
    const sg: Gradient = { kind: 'sign', coef: reg, param: 'W' };
    assert.deepEqual(penaltyFromGradient(sg), { kind: 'l1', coef: reg, param: 'W' });
    assert.deepEqual(penaltyFromGradient(sg, 'elemabs'), { kind: 'elemabs', coef: reg, param: 'W' });
    const nz: Gradient = { kind: 'normalized', coef: reg, param: 'W' };
    assert.deepEqual(penaltyFromGradient(nz), { kind: 'norm2', coef: reg, param: 'W' });
  });

  it('refuses a penalty kind that cannot give the gradient', () => {
    assert.equal(penaltyFromGradient({ kind: 'linear', coef: reg, param: 'W' }, 'l1'), undefined);
    assert.equal(penaltyFromGradient({ kind: 'sign', coef: reg, param: 'W' }, 'norm2'), undefined);
    assert.equal(penaltyFromGradient({ kind: 'normalized', coef: reg, param: 'W' }, 'sumsq'), undefined);
    assert.deepEqual(penaltyKindsFor('linear'), ['sumsq', 'elemsq']);
  });

  it('round-trips gradient → penalty → gradient', () => {
    for (const kind of ['linear', 'sign', 'normalized'] as const) {
      for (const c of [reg, scale(reg, 2), div(reg, n), num(-0.3)]) {
        const g: Gradient = { kind, coef: c, param: 'self.W' };
        for (const pk of penaltyKindsFor(kind)) {
          const back = gradientOf(penaltyFromGradient(g, pk)!);
          assert.equal(back.kind, kind);
          assert.ok(equalCoef(back.coef, c));
          assert.equal(back.param, 'self.W');
        }
      }
    }
  });
});
