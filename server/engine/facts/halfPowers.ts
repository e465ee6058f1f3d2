// A square root written `X ** 1/2` in an adaptive optimizer's step (NB401, NB402). In Python and
// JavaScript `**` binds tighter than `/`, so it is (X ** 1) / 2: half of X, not √X. The evaluator
// (optimizerSteps.ts) records each such expression with X's value in the step (`HalfPower`); this
// file reports it only where the step's math needs the root of X, decided by what X is:
// - the bias correction 1 − β₂ᵗ of an average of squared gradients (Adam's step size
//   lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)): NB401;
// - a state that sums or averages squared gradients, which a parameter's step divides by without
//   any root (RMSprop's, AdaGrad's or Adam's normalizer, `g / (s ** 1/2 + eps)`): NB402.
// Anything else written that way (a deliberate `/ 2` of a power 1 is unheard of, but a half of a
// first moment's correction is not the √ Adam needs either) is left alone.
import type { Span } from '../ir';
import type { Facts } from './index';
import { mentions } from '../../math/poly';
import { correctionShape, squaredBase, stepTerms, type HalfPower, type OptimizerStep, type StateUpdate } from './optimizerSteps';

export interface HalfPowerFinding {
  code: 'NB401' | 'NB402';
  span: Span;
  message: string;
  related?: { span: Span; message: string }[];
  fix: { title: string; safety: 'unsafe'; edits: { span: Span; newText: string }[] };
  /** The state whose root the normalizer needed (NB402): the step's other checks of its missing root say it already. */
  state?: string;
}

const cache = new WeakMap<HalfPower[], HalfPowerFinding[]>();

/** The step's `X ** 1/2` where its math needs √X. */
export function halfPowerFindings(facts: Facts, step: OptimizerStep): HalfPowerFinding[] {
  const halves = step.halfPowers;
  if (!halves) return [];
  let out = cache.get(halves);
  if (!out) cache.set(halves, (out = find(facts, step, halves)));
  return out;
}

/** A state that adds a squared tensor to its old value: an average (RMSprop, Adam) or a sum (AdaGrad) of g². */
function addsSquare(s: StateUpdate): boolean {
  return s.self !== undefined && s.adds.length > 0 && s.adds.every((a) => squaredBase(a.x) !== undefined);
}

function find(facts: Facts, step: OptimizerStep, halves: HalfPower[]): HalfPowerFinding[] {
  const out: HalfPowerFinding[] = [];
  const squares = [...step.states.values()].filter(addsSquare);
  if (squares.length === 0) return out;
  // States some parameter's step divides by with no root around them.
  const unrooted = new Set<string>();
  for (const p of step.params) for (const term of stepTerms(step, p)) for (const d of term.denominator) if (!d.sqrt) unrooted.add(d.key);
  for (const h of halves) {
    const written = facts.source(h.span);
    const x = facts.source(h.base.span);
    // The base as the fix writes it: parenthesized where it is not a plain reference.
    const base = h.base.kind === 'name' || h.base.kind === 'attr' || h.base.kind === 'index' || h.base.kind === 'call' || h.base.kind === 'num' || /^\(.*\)$/s.test(x) ? x : `(${x})`;
    const root = h.written === 1 ? '0.5' : '-0.5';
    const meant = `${base} ** ${root}`;
    const fix = { title: `Raise to the power ${root}: ${meant}`, safety: 'unsafe' as const, edits: [{ span: h.exponent, newText: root }] };
    const correction = h.power === 1 ? correctionShape(h.value, step.epsilon) : undefined;
    if (correction) {
      // Adam's step size folds √(1 − β₂ᵗ), the root of the second moment's correction.
      const second = correction.exp !== undefined ? squares.find((s) => s.beta === correction.beta) : undefined;
      if (!second) continue;
      const v = facts.source(second.eq.target.span);
      out.push({
        code: 'NB401',
        span: h.span,
        message: `${written} is not the square root of ${v}'s bias correction: \`**\` binds tighter than \`/\`, so it raises ${base} to the power 1 and then divides by 2. The step is scaled by (1 - β₂ᵗ)/2 instead of √(1 - β₂ᵗ): about 63 times too short on the first step (for a β₂ of 0.999), and still half as long once the correction nears 1. Write ${meant}`,
        related: [{ span: second.eq.spans[0], message: `${v} averages squared gradients here` }],
        fix,
      });
      continue;
    }
    // The normalizer: X reads a sum or average of squares that a parameter's step divides by, unrooted.
    const s = squares.find((v) => unrooted.has(v.eq.key) && h.value.some((m) => m.fs.some((f) => f.atom.k === 'sym' && f.atom.key === v.eq.key && f.n === 1)) && mentions(h.value, v.eq.key));
    if (!s) continue;
    const v = facts.source(s.eq.target.span);
    const kind = s.average ? 'an average' : 'a sum';
    out.push({
      code: 'NB402',
      span: h.span,
      message: `${written} is not ${h.written === 1 ? 'the square root' : 'the reciprocal square root'} of ${base}: \`**\` binds tighter than \`/\`, so it raises ${base} to the power ${h.written} and then divides by 2. The step divides by ${v}, ${kind} of squared gradients, with no root (and off by a factor 2), so the update scales as 1/g instead of staying near the learning rate. Write ${meant}`,
      related: [{ span: s.eq.spans[0], message: `${v} ${s.average ? 'averages' : 'sums'} squared gradients here` }],
      fix,
      state: s.eq.key,
    });
  }
  return out;
}
