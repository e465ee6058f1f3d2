// The corrected lines NB401–NB405 (and NB102's climbing momentum) carry for the hover and the Show
// Update Rule panel: what the flagged line of a hand-written optimizer step should compute, as sums
// of monomials over the step's own keys (server/math/poly.ts), so explainOptimizerStep.ts prints
// them in the same symbols as the step's lines.
import { add, atomPoly, constant, div, fn, inverse, mentions, mul, polyEquals, power, scale, sqrt, sub, sym, type Mono, type Poly } from '../../math/poly';
import type { OptimizerStep, ParamUpdate, StateUpdate } from './optimizerSteps';

/** One line of the corrected step, in the order the code runs them. */
export type CorrectedLine =
  /** A state's update grouped as it reads: β·m + (1 − β)·g. */
  | { kind: 'average'; key: string; terms: { coef: Poly; x: Poly }[] }
  /** The bias-corrected value of a state: m̂ = m / (1 − β₁ᵗ). */
  | { kind: 'hat'; key: string; value: Poly }
  /** A parameter's update: θ ← a·θ + step. */
  | { kind: 'param'; key: string; self: Poly; step: Poly };

/** The step count a correction should read: the step's first count (a running power's exponent prints as t), else `t`. */
export function stepCount(step: OptimizerStep): Poly {
  return sym([...step.counters.keys()][0] ?? 't');
}

/** T ← T·β: a running power of β. */
export function poweredBy(key: string, beta: string): CorrectedLine[] {
  return [{ kind: 'average', key, terms: [{ coef: sym(beta), x: sym(key) }] }];
}

/** s / (1 − βᵗ), with t the step count given. */
export function biasCorrected(key: string, beta: string | number, t: Poly): CorrectedLine[] | undefined {
  const value = div(sym(key), sub(constant(1), powOf(beta, t)));
  return value && [{ kind: 'hat', key, value }];
}

function powOf(beta: string | number, t: Poly): Poly {
  return atomPoly({ k: 'pow', base: typeof beta === 'number' ? constant(beta) : sym(beta), exp: t });
}

/** T ← β·T + (1 − β)·ΣX: the moving average a state's line should be. */
export function unweighted(s: StateUpdate, beta: string): CorrectedLine[] {
  const x = s.adds.reduce<Poly>((acc, a) => add(acc, a.x), []);
  return [{ kind: 'average', key: s.eq.key, terms: [{ coef: sym(beta), x: sym(s.eq.key) }, { coef: sub(constant(1), sym(beta)), x }] }];
}

/** T ← a·T + Σ bₓ·X²: the same state with what it adds squared (a second moment). */
export function squared(s: StateUpdate): CorrectedLine[] | undefined {
  if (!s.self) return undefined;
  return [{ kind: 'average', key: s.eq.key, terms: [{ coef: s.self, x: sym(s.eq.key) }, ...s.adds.map((a) => ({ coef: a.b, x: mul(a.x, a.x) }))] }];
}

/**
 * The parameter's step with the state `key` under a square root where it divides: v⁻¹ becomes
 * (√v)⁻¹, and each term of a sum below the bar that holds v (v/(1 − β₂ᵗ) of `v̂ + ε`) becomes its
 * root (√v/√(1 − β₂ᵗ)), as the step of a correct Adam reads.
 */
export function rooted(p: ParamUpdate, key: string): CorrectedLine[] {
  const step = p.step.reduce<Poly>((acc, m) => add(acc, rootedMono(m, key)), []);
  return [{ kind: 'param', key: p.eq.key, self: p.self, step }];
}

function rootedMono(m: Mono, key: string): Poly {
  let out: Poly = constant(m.c);
  for (const f of m.fs) {
    const a = f.atom;
    let part: Poly = [{ c: 1, fs: [f] }];
    if (a.k === 'sym' && a.key === key && f.n < 0) part = power(fn('sqrt', [sym(key)]), f.n);
    else if (a.k === 'inv' && f.n > 0 && mentions(a.arg, key)) {
      const arg = a.arg.reduce<Poly>((acc, x) => add(acc, x.fs.some((g) => g.atom.k === 'sym' && g.atom.key === key && g.n === 1) && x.c > 0 ? sqrt([x]) : [x]), []);
      part = power(inverse(arg) ?? [{ c: 1, fs: [f] }], f.n);
    }
    out = mul(out, part);
  }
  return out;
}

/** The parameter's step with the factor `factorKey` (a square root it multiplies by) moved below the bar. */
export function rootDivided(p: ParamUpdate, factorKey: string): CorrectedLine[] {
  const step = p.step.reduce<Poly>((acc, m) => add(acc, [{ c: m.c, fs: m.fs.map((f) => (f.key === factorKey ? { ...f, n: -f.n } : f)) }]), []);
  return [{ kind: 'param', key: p.eq.key, self: p.self, step }];
}

/** The parameter's step with the factor `factorKey` (a raw gradient beside Adam's ratio) taken out of the term `mono`. */
export function withoutFactor(p: ParamUpdate, mono: Mono, factorKey: string): CorrectedLine[] {
  const step = p.step.reduce<Poly>((acc, m) => add(acc, m === mono ? [{ c: m.c, fs: m.fs.filter((f) => f.key !== factorKey) }] : [m]), []);
  return [{ kind: 'param', key: p.eq.key, self: p.self, step }];
}

/** The parameter's step with the terms `which` divided by η once (η² → η, or η·v → v). */
export function learningRateOnce(p: ParamUpdate, which: (m: Mono) => boolean, lr: string): CorrectedLine[] {
  const step = p.step.reduce<Poly>((acc, m) => add(acc, which(m) ? (div([m], sym(lr)) ?? [m]) : [m]), []);
  return [{ kind: 'param', key: p.eq.key, self: p.self, step }];
}

/** The parameter's step multiplied by the learning rate it never applies. */
export function learningRateApplied(p: ParamUpdate, lr: string): CorrectedLine[] {
  return [{ kind: 'param', key: p.eq.key, self: p.self, step: mul(p.step, sym(lr)) }];
}

/**
 * Weight decay taken off a moment (m ← (1 − c)·(β·m + (1 − β)·X)) and put on the weights. Decoupled:
 * the moment averages X alone, and the parameter is shrunk by (1 − c) before its step (AdamW's
 * θ ← (1 − η·λ)·θ − …). Coupled (L2 the code asks for): the moment averages X + c·θ.
 */
export function decayMoved(s: StateUpdate, beta: string, x: Poly, c: Poly, p: ParamUpdate | undefined, coupled: boolean): CorrectedLine[] {
  const average = (added: Poly): CorrectedLine => ({ kind: 'average', key: s.eq.key, terms: [{ coef: sym(beta), x: sym(s.eq.key) }, { coef: sub(constant(1), sym(beta)), x: added }] });
  if (coupled && p) return [average(add(x, mul(c, sym(p.eq.key))))];
  if (!p) return [average(x)];
  return [average(x), { kind: 'param', key: p.eq.key, self: mul(sub(constant(1), c), p.self), step: p.step }];
}

/**
 * Momentum that climbs, turned to descend: where the step scales the buffer by a factor of its own
 * (`p.add_(buf, alpha=lr)`), the step subtracts it; where the buffer holds the factor
 * (`v.mul_(mu).add_(p.grad, alpha=lr)`, then `p.add_(v)`), the buffer subtracts the gradient.
 */
export function descending(p: ParamUpdate, buffer: StateUpdate, gradients: Set<string>): CorrectedLine[] | undefined {
  const scaled = p.step.some((m) => m.fs.some((f) => !(f.atom.k === 'sym' && f.atom.key === buffer.eq.key)));
  if (scaled) return [{ kind: 'param', key: p.eq.key, self: p.self, step: scale(p.step, -1) }];
  if (!buffer.self) return undefined;
  const withGradient = (x: Poly): boolean => x.some((m) => m.fs.some((f) => f.atom.k === 'sym' && gradients.has(f.atom.key)));
  const terms = [{ coef: buffer.self, x: sym(buffer.eq.key) }, ...buffer.adds.map((a) => ({ coef: withGradient(a.x) ? scale(a.b, -1) : a.b, x: a.x }))];
  if (terms.slice(1).every((t, i) => polyEquals(t.coef, buffer.adds[i].b))) return undefined;
  return [{ kind: 'average', key: buffer.eq.key, terms }];
}
