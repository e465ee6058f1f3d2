// A "Hutchinson estimator" with no Hessian-vector product (NB402): the curvature an optimizer divides by
// is taken as |X·v| (or (X·v)²) with v a draw of random signs ±1 and X independent of v, the gradient:
//
//     v = np.random.choice([-1, 1], size=g.shape)
//     h_est = np.abs(g * v)                        # = |g|: the signs cancel
//     h = b2 * h + (1 - b2) * h_est
//     w -= lr * m / (h + eps)
//
// Since |v| = 1 everywhere, |X·v| = |X| and (X·v)² = X²: the random draw has no effect, and the estimate
// is the gradient's magnitude, not the diagonal of the Hessian. Hutchinson's estimate is v ⊙ (H·v), a
// product of v with something computed from v (a Hessian-vector product: `torch.autograd.grad(g, p, v)`,
// `H @ v`), which this stays silent on. Read in the IR of each optimizer step's function, in order: a
// local given a random-sign draw (catalogue.ts `isRademacherDraw`), the locals computed from it, and an
// absolute value or square of a product that multiplies the draw by factors none of which reads it,
// whose value reaches a state of the step that the step divides by.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { RANDOM_SIGN_MENTION, isRademacherDraw } from './catalogue';
import { optimizerSteps, type OptimizerStep } from './optimizerSteps';
import { statementsOf } from './adaptiveDecay';
import { someExpr, type FunctionDef } from './scope';
import { subExprs } from './loops';
import { mentions, type Poly } from '../../math/poly';

export interface DeadRandomSign {
  /** The absolute value (or square) of the product. */
  span: Span;
  /** The draw's local, where it is drawn, the other factor as written, and the state it feeds. */
  draw: string;
  drawn: Span;
  factor: string;
  state: string;
  stateSpan: Span;
}

const cache = new WeakMap<Facts, DeadRandomSign[]>();

export function deadRandomSigns(facts: Facts): DeadRandomSign[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const done = new Set<FunctionDef>();
  for (const step of optimizerSteps(facts)) {
    if (done.has(step.fn) || step.states.size === 0) continue;
    done.add(step.fn);
    if (!RANDOM_SIGN_MENTION.test(facts.source(step.fn.span))) continue;
    found.push(...inStep(facts, step));
  }
  cache.set(facts, found);
  return found;
}

/** The factors of a product `a * b * c`. */
function factors(e: Expr, out: Expr[] = [], depth = 0): Expr[] {
  if (depth < 20 && e.kind === 'binary' && e.op === '*') {
    factors(e.left, out, depth + 1);
    factors(e.right, out, depth + 1);
  } else out.push(e);
  return out;
}

const calleeName = (e: Expr & { kind: 'call' }): string | undefined => (e.callee.kind === 'attr' ? e.callee.name : e.callee.kind === 'name' ? e.callee.name : undefined);

/** The operand of |·| or (·)²: `np.abs(x)`, `abs(x)`, `x.abs()`, `torch.abs(x)`, `x ** 2`, `np.square(x)`, `x.pow(2)`. */
function magnitudeOperand(e: Expr): Expr | undefined {
  if (e.kind === 'binary' && e.op === '**' && e.right.kind === 'num' && e.right.value === 2) return e.left;
  if (e.kind !== 'call') return undefined;
  const name = calleeName(e);
  if (name !== 'abs' && name !== 'absolute' && name !== 'fabs' && name !== 'square' && name !== 'pow' && name !== 'abs_') return undefined;
  if (name === 'pow') {
    const exp = e.args.length === 2 ? e.args[1] : e.args[0];
    if (exp?.kind !== 'num' || exp.value !== 2) return undefined;
    return e.args.length === 2 ? e.args[0] : e.callee.kind === 'attr' ? e.callee.object : undefined;
  }
  return e.args[0] ?? (e.callee.kind === 'attr' ? e.callee.object : undefined);
}

function inStep(facts: Facts, step: OptimizerStep): DeadRandomSign[] {
  const out: DeadRandomSign[] = [];
  const draws = new Map<string, Span>();
  // Locals whose value reads a draw (a Hessian-vector product of it, the draw itself).
  const tainted = new Set<string>();
  // The first dead estimate of each draw.
  const hits: Omit<DeadRandomSign, 'state' | 'stateSpan'>[] = [];
  // Locals holding a dead estimate (or computed from one), with the estimate.
  const holders = new Map<string, Omit<DeadRandomSign, 'state' | 'stateSpan'>>();
  const readsTaint = (e: Expr): boolean => someExpr(e, (x) => x.kind === 'name' && tainted.has(x.name));
  const stmts = statementsOf(step.fn.body);
  for (const s of stmts) {
    const roots = s.kind === 'assign' ? [s.value] : s.kind === 'expr' ? [s.expr] : [];
    let here: Omit<DeadRandomSign, 'state' | 'stateSpan'> | undefined;
    for (const root of roots) {
      for (const x of subExprs(root)) {
        const operand = magnitudeOperand(x);
        if (!operand) continue;
        const fs = factors(operand);
        const drawn = fs.filter((f) => f.kind === 'name' && draws.has(f.name));
        if (drawn.length !== 1 || fs.length < 2) continue;
        const others = fs.filter((f) => f !== drawn[0]);
        if (others.some(readsTaint)) continue;
        const name = (drawn[0] as Expr & { kind: 'name' }).name;
        here ??= { span: x.span, draw: name, drawn: draws.get(name)!, factor: others.map((o) => facts.source(o.span)).join(' * ') };
      }
    }
    if (here) hits.push(here);
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
    const name = s.targets[0].name;
    const via = here ?? [...holders].find(([n]) => someExpr(s.value, (x) => x.kind === 'name' && x.name === n))?.[1];
    if (s.op) {
      if (readsTaint(s.value)) tainted.add(name);
      if (via) holders.set(name, via);
      continue;
    }
    draws.delete(name);
    tainted.delete(name);
    holders.delete(name);
    if (via) holders.set(name, via);
    if (isRademacherDraw(s.value)) {
      draws.set(name, s.span);
      tainted.add(name);
    } else if (readsTaint(s.value)) tainted.add(name);
  }
  if (hits.length === 0) return out;
  // The estimate reaches a state the step divides by: a write of the state holds it or reads a local holding it.
  for (const st of step.states.values()) {
    if (!step.params.some((p) => dividesBy(p.step, st.eq.key))) continue;
    for (const span of st.eq.spans) {
      const stmt = stmts.find((x) => x.kind !== 'block' && x.kind !== 'for' && x.span.start <= span.start && span.end <= x.span.end && (x.kind === 'assign' || x.kind === 'expr'));
      if (!stmt) continue;
      const root = stmt.kind === 'assign' ? stmt.value : stmt.kind === 'expr' ? stmt.expr : undefined;
      if (!root) continue;
      const hit = hits.find((h) => h.span.start >= stmt.span.start && h.span.end <= stmt.span.end) ?? [...holders].find(([n]) => someExpr(root, (x) => x.kind === 'name' && x.name === n))?.[1];
      if (!hit) continue;
      out.push({ ...hit, state: facts.source(st.eq.target.span), stateSpan: stmt.span });
      return out;
    }
  }
  return out;
}

/** Whether a step divides by the state (it sits in a reciprocal or with a negative power). */
function dividesBy(step: Poly, key: string): boolean {
  for (const m of step) {
    for (const f of m.fs) {
      if (f.atom.k === 'sym' && f.atom.key === key && f.n < 0) return true;
      if (f.atom.k === 'inv' && mentions(f.atom.arg, key)) return true;
      if (f.atom.k === 'fn' && f.n < 0 && f.atom.args.some((a) => mentions(a, key))) return true;
    }
  }
  return false;
}
