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
import { ABS_FUNCTIONS, RANDOM_SIGN_MENTION, isRademacherDraw, squareBase } from './catalogue';
import { howStepDivides, optimizerSteps, type OptimizerStep } from './optimizerSteps';
import { innermostStatement, statementsOf } from './adaptiveDecay';
import { someExpr, type FunctionDef } from './scope';
import { subExprs, within } from './loops';
import { calleeName } from './direction';
import { productFactors } from './frameworks';

export interface DeadRandomSign {
  /** The absolute value (or square) of the product. */
  span: Span;
  /** The draw's local, where it is drawn, the other factor as written, and the state it feeds. */
  draw: string;
  drawn: Span;
  factor: string;
  /** Whether the product sits in an absolute value or a square. */
  kind: 'abs' | 'square';
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

/** The operand of |·| or (·)², and which: `np.abs(x)`, `abs(x)`, `x.abs()`, `x.abs_()`, `torch.abs(x)`, `x ** 2`, `np.square(x)`, `x.pow(2)`. */
function magnitudeOperand(e: Expr): { operand: Expr; kind: 'abs' | 'square' } | undefined {
  const base = squareBase(e);
  if (base) return { operand: base, kind: 'square' };
  if (e.kind !== 'call') return undefined;
  const name = calleeName(e);
  if (name === undefined || !(ABS_FUNCTIONS.has(name) || (name.endsWith('_') && ABS_FUNCTIONS.has(name.slice(0, -1))))) return undefined;
  const operand = e.args[0] ?? (e.callee.kind === 'attr' ? e.callee.object : undefined);
  return operand && { operand, kind: 'abs' };
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
        const magnitude = magnitudeOperand(x);
        if (!magnitude) continue;
        const fs = productFactors(magnitude.operand);
        const drawn = fs.filter((f) => f.kind === 'name' && draws.has(f.name));
        if (drawn.length !== 1 || fs.length < 2) continue;
        const others = fs.filter((f) => f !== drawn[0]);
        if (others.some(readsTaint)) continue;
        const name = (drawn[0] as Expr & { kind: 'name' }).name;
        here ??= { span: x.span, draw: name, drawn: draws.get(name)!, factor: others.map((o) => facts.source(o.span)).join(' * '), kind: magnitude.kind };
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
    if (howStepDivides(step, st.eq.key) === undefined) continue;
    for (const span of st.eq.spans) {
      const stmt = innermostStatement(step, span);
      if (!stmt || (stmt.kind !== 'assign' && stmt.kind !== 'expr')) continue;
      const root = stmt.kind === 'assign' ? stmt.value : stmt.kind === 'expr' ? stmt.expr : undefined;
      if (!root) continue;
      const hit = hits.find((h) => within(h.span, stmt.span)) ?? [...holders].find(([n]) => someExpr(root, (x) => x.kind === 'name' && x.name === n))?.[1];
      if (!hit) continue;
      out.push({ ...hit, state: facts.source(st.eq.target.span), stateSpan: stmt.span });
      return out;
    }
  }
  return out;
}
