// A Nesterov look-ahead that adds the new velocity and then the fresh term again, without the μ on the
// velocity (NB404): with v ← μ·v + c·X, the step
//
//     v = mu * v + lr * g;  w -= v;  w -= lr * g          # w −= μ·v_old + 2·lr·g
//
// applies c·X twice, once inside v and once on its own. Nesterov's momentum in this form (Sutskever et
// al.; torch's `nesterov=True`, w −= lr·(g + μ·b)) is w −= μ·v_new + c·X = μ²·v_old + (1 + μ)·c·X: the
// look-ahead weights the new velocity by μ. Read off the normal form of the step (optimizerSteps.ts): a
// parameter's step holds a·V (V a state's new value, T ← μ·T + Σ bₓ·X with μ not 1) and, besides, exactly
// a·Σ bₓ·X (the terms that read the parameter itself aside, a decay folded into X). The torch form
// (a = −η·μ, extra −η·g), the lr-folded form (a = −μ), plain heavy ball (no extra term), QHM
// ((1 − ν)·g beside ν·m) and NAdam (β₁·m̂ + (1 − β₁)·ĝ) have a different extra term and stay silent.
import type { Span, Stmt } from '../ir';
import type { Facts } from './index';
import { optimizerSteps, splitSelf, type OptimizerStep, type ParamUpdate, type StateUpdate } from './optimizerSteps';
import { innermostStatement } from './adaptiveDecay';
import { spanKey } from './program';
import { blocksAround } from './loops';
import { add, atomKey, mentions, mul, numeric, polyEquals, sym, type Mono, type Poly } from '../../math/poly';
import type { CorrectedLine } from './optimizerCorrected';

export interface DoubledLookahead {
  /** The write that adds the new velocity as it is. */
  span: Span;
  /** The write that adds the fresh term again, when it is another statement. */
  extra?: Span;
  /** The velocity's write. */
  velocity: Span;
  /** The velocity, its μ and the parameter, as written at their first write. */
  state: string;
  param: string;
  /** The parameter's update with the look-ahead's μ on the new velocity (μ·a·V + rest), for the hover's corrected line. */
  corrected: CorrectedLine[];
}

const cache = new WeakMap<Facts, DoubledLookahead[]>();

export function doubledLookaheads(facts: Facts): DoubledLookahead[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const seen = new Set<string>();
  for (const step of optimizerSteps(facts)) {
    for (const p of step.params) {
      if (p.returned) continue;
      for (const s of step.states.values()) {
        const hit = doubled(step, p, s);
        if (!hit) continue;
        const key = spanKey(hit.span);
        if (seen.has(key)) continue;
        seen.add(key);
        found.push({ ...hit, state: facts.source(s.eq.target.span), param: facts.source(p.eq.target.span) });
      }
    }
  }
  cache.set(facts, found);
  return found;
}

function doubled(step: OptimizerStep, p: ParamUpdate, s: StateUpdate): Omit<DoubledLookahead, 'state' | 'param'> | undefined {
  const v = s.eq.key;
  if (!s.self || s.max || s.adds.length === 0 || s.eq.branched || p.eq.branched) return undefined;
  // A momentum: its old value weighted by μ, a value that is not a number 1 (a sum) nor 0.
  const mu = numeric(s.self);
  if (s.self.length === 0 || (mu !== undefined && (Math.abs(mu - 1) < 1e-9 || Math.abs(mu) < 1e-9))) return undefined;
  // The new value, not the previous step's.
  if (p.previous?.some((x) => x.key === v)) return undefined;
  // The step as a·V + rest, V once and plainly in each term of a·V, and nowhere else.
  const split = splitSelf(p.step, v);
  if (!split || split.self.some((m) => mentions([m], v))) return undefined;
  const { self: a, rest } = split;
  if (a.length === 0 || rest.length === 0) return undefined;
  let fresh: Poly = [];
  for (const x of s.adds) {
    if (mentions(x.x, v) || mentions(x.b, v)) return undefined;
    fresh = add(fresh, mul(x.b, x.x));
  }
  // The parameter's own terms (a decay folded into X) are compared apart.
  const own = (m: Mono): boolean => m.fs.some((f) => atomKey(f.atom) === p.eq.key || mentions([{ c: 1, fs: [f] }], p.eq.key));
  const expected = mul(a, fresh).filter((m) => !own(m));
  const extra = rest.filter((m) => !own(m));
  if (expected.length === 0 || !polyEquals(extra, expected)) return undefined;
  // Where: the write that adds V, and the one that adds the extra term.
  const writes = p.eq.writes ?? [];
  const spans = p.eq.spans;
  let at: Span | undefined;
  let extraAt: Span | undefined;
  for (let k = 0; k < writes.length && k < spans.length; k++) {
    if (at === undefined && mentions(writes[k], v)) at = spans[k];
    else if (extraAt === undefined && extra.every((m) => writes[k].some((w) => polyEquals([w], [m])))) extraAt = spans[k];
  }
  at ??= spans[0];
  if (!at) return undefined;
  // Both writes run in one call: the same statement, or one nested in the other's body through `if`s only
  // (PyDyNet's `if self.nesterov:`), never two branches of a chain, two loops or an early return's branch.
  if (extraAt && !runTogether(step.fn.body, at, extraAt)) return undefined;
  if (!extraAt && writes.length > 1) return undefined;
  const stmt = (sp: Span): Span => innermostStatement(step, sp)?.span ?? sp;
  const velocity = s.eq.spans[s.eq.spans.length - 1];
  // Nesterov's look-ahead: the new velocity weighted by the momentum's own μ (the old value's weight in its update).
  const corrected: CorrectedLine[] = [{ kind: 'param', key: p.eq.key, self: p.self, step: add(mul(mul(a, s.self), sym(v)), rest) }];
  return { span: stmt(at), ...(extraAt && stmt(extraAt).start !== stmt(at).start ? { extra: stmt(extraAt) } : {}), velocity: stmt(velocity), corrected };
}

/** Whether the two writes run together: one's blocks are the other's plus `if` blocks only. */
function runTogether(body: readonly Stmt[], a: Span, b: Span): boolean {
  const ca = blocksAround(body, a);
  const cb = blocksAround(body, b);
  if (!ca || !cb) return false;
  const [short, long] = ca.length <= cb.length ? [ca, cb] : [cb, ca];
  if (!short.every((x, i) => long[i] === x)) return false;
  return long.slice(short.length).every((x) => x.kind === 'block' && x.label === 'if' && !x.handler);
}
