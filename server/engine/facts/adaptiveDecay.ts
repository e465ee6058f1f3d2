// Coupled weight decay written inside a hand-written adaptive step's own arithmetic (NB202):
// `m = b1*m + (1-b1)*(dW + wd*W)`, `v = b2*v + (1-b2)*(dW + wd*W)**2`, `W -= lr*m̂/(√v̂ + ε)`, or
// RMSprop's `cache = ρ·cache + (1-ρ)*(dW + wd*W)**2; W -= lr*(dW + wd*W)/(√cache + ε)`. A gradient
// variable that carries the decay (`g = g + wd*w`, then both moments read g) is frameworks.ts's
// `handDecays`; this reads the optimizer step's normal form (optimizerSteps.ts), where locals are
// already substituted, so the decay is found by math wherever the sum is written.
//
// The test, on the normal form of one parameter P's update: the step divides by the root of a state
// V, and what V adds each step is b·(G + c·P)², a perfect square in P (split by powers of P:
// R₁² = 4·R₀·R₂, with R₁ and R₂ nonzero); the quantity the step applies (the first moment's input,
// or the step's own numerator when there is no first moment) carries the same c·P next to the same G
// (R₁·N₀ = 2·R₀·N₁). Decoupled decay (AdamW) leaves V free of P and is not matched; plain SGD and
// momentum have no root of a state to divide by. Only then is the term found as written, to report it.
import { VALUE_ATTRIBUTES } from './catalogue';
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { programIndex } from './program';
import { stmtExprs, subExprs, within } from './loops';
import { frameworkFacts, type HandDecayFact, type Owner } from './frameworks';
import { InnermostSpan } from './spans';
import { computedIndexKey, optimizerSteps, splitSelf, squaredBase, stepTerms, type OptimizerStep, type ParamUpdate, type StateUpdate } from './optimizerSteps';
import { PolyOverflow, add, constant, mentions, mul, polyEquals, scale, sub, type Mono, type Poly } from '../../math/poly';

const cache = new WeakMap<Facts, HandDecayFact[]>();

/** Coupled decays written in an adaptive step's moments (or its update), as hand decays with their adaptive use. */
export function inlineAdaptiveDecays(facts: Facts): HandDecayFact[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const fw = frameworkFacts(facts);
  const owners = new InnermostSpan<Owner>(fw.owners);
  const known = new Set(fw.handDecays.map((h) => `${h.span.start}:${h.span.end}`));
  const seen = new Set<string>();
  for (const step of optimizerSteps(facts)) {
    for (const p of step.params) {
      let match: Match | undefined;
      try {
        match = coupledIn(step, p);
      } catch (e) {
        if (!(e instanceof PolyOverflow)) throw e;
      }
      if (!match) continue;
      const term = writtenTerm(facts, step, p, match);
      if (!term) continue;
      const key = `${term.expr.span.start}:${term.expr.span.end}`;
      if (known.has(key) || seen.has(key)) continue;
      seen.add(key);
      const scope = programIndex(facts).scopeAt(term.expr.span.start);
      const at = term.expr.span.start;
      found.push({
        kind: 'coupled',
        span: term.expr.span,
        coef: facts.analyzer.classify(term.expr, scope, at).coef,
        target: term.param,
        ctx: { scope, at, owner: owners.at(at) },
        adaptive: { secondMoment: stmtSpan(step, match.second.eq.spans[0]), ...(match.first ? { firstMoment: stmtSpan(step, match.first.eq.spans[0]) } : {}) },
        coefFactors: term.factors.map((expr) => ({ expr, scope, at })),
      });
    }
  }
  cache.set(facts, found);
  return found;
}

interface Match {
  second: StateUpdate;
  first?: StateUpdate;
}

/** The second moment whose input is (G + c·P)², with the applied quantity carrying the same c·P. */
function coupledIn(step: OptimizerStep, p: ParamUpdate): Match | undefined {
  if (p.eq.branched) return undefined;
  const key = p.eq.key;
  for (const term of stepTerms(step, p)) {
    for (const d of term.denominator) {
      const second = step.states.get(d.key);
      if (!d.sqrt || !second || second.eq.branched || !second.adds.some((a) => squaredBase(a.x) !== undefined)) continue;
      const r = splitSelf(second.eq.value, second.eq.key);
      const rp = r && byPower(r.rest, key);
      if (!rp || rp.size !== 3 || !rp.has(0) || !rp.has(1) || !rp.has(2)) continue;
      const [r0, r1, r2] = [rp.get(0)!, rp.get(1)!, rp.get(2)!];
      if (!polyEquals(mul(r1, r1), scale(mul(r0, r2), 4))) continue;
      const first = term.numerator.map((n) => step.states.get(n.key)).find((s): s is StateUpdate => s !== undefined && s !== second);
      let applied: Map<number, Poly> | undefined;
      if (first) {
        if (first.eq.branched) continue;
        const f = splitSelf(first.eq.value, first.eq.key);
        applied = f && byPower(f.rest, key);
      } else {
        // No first moment: the step applies G + c·P itself; c·P's share sits in the old value's coefficient.
        applied = byPower(p.step, key);
        const own = sub(p.self, constant(1));
        if (applied && own.length > 0) applied.set(1, add(applied.get(1) ?? [], own));
      }
      if (!applied || !applied.has(0) || !applied.has(1) || [...applied.keys()].some((n) => n !== 0 && n !== 1)) continue;
      if (!polyEquals(mul(r1, applied.get(0)!), scale(mul(r0, applied.get(1)!), 2))) continue;
      return { second, first };
    }
  }
  return undefined;
}

/** p as Σ parts[n]·Pⁿ; undefined when P enters other than as a plain factor (under a root, a reciprocal). */
function byPower(p: Poly, key: string): Map<number, Poly> | undefined {
  const parts = new Map<number, Mono[]>();
  for (const m of p) {
    const own = m.fs.find((f) => f.atom.k === 'sym' && f.atom.key === key);
    const rest = own ? m.fs.filter((f) => f !== own) : m.fs;
    if (rest.some((f) => mentions([{ c: 1, fs: [f] }], key))) return undefined;
    const n = own?.n ?? 0;
    let list = parts.get(n);
    if (!list) parts.set(n, (list = []));
    list.push({ c: m.c, fs: rest });
  }
  return new Map([...parts].map(([n, ms]) => [n, add([], ms)]));
}

/**
 * The decay term as written: a product with the parameter as one factor, in the first moment's or
 * the second moment's statements (in that order); a sum kept in a local is frameworks.ts's to find. Its other factors are the
 * coefficient; they must not be the parameter, a state or the gradient (a number, a knob).
 */
function writtenTerm(facts: Facts, step: OptimizerStep, p: ParamUpdate, m: Match): { expr: Expr; param: Expr; factors: Expr[] } | undefined {
  // Not the update's own statements: a sum written there is also in the second moment's, and a
  // product of the parameter there is the update's own (`w.mul(1 - lr * wd)`), not the gradient's.
  const spans = [...(m.first?.eq.spans ?? []), ...m.second.eq.spans];
  const tensorKeys = new Set<string>([...step.states.keys(), p.eq.key]);
  for (const span of spans) {
    const stmt = innermostStatement(step, span);
    if (!stmt) continue;
    const products: { expr: Expr; param: Expr; factors: Expr[] }[] = [];
    for (const root of stmtExprs(stmt))
      for (const x of subExprs(root)) {
        const factors = productFactors(facts, x);
        if (!factors) continue;
        const param = factors.filter((f) => stepKeys(facts, f).includes(p.eq.key));
        if (param.length !== 1) continue;
        const coef = factors.filter((f) => f !== param[0]);
        if (coef.length === 0 || coef.some((f) => someKey(facts, f, tensorKeys) || !scalarFactor(facts, f))) continue;
        // Added to a gradient, not to a constant: `a * x - b` is the gradient of a quadratic written inline.
        const beside = siblingOf(facts, stmtExprs(stmt), x);
        if (beside && scalarFactor(facts, beside)) continue;
        products.push({ expr: x, param: param[0], factors: coef });
      }
    // The smallest such product (`wd * W`, not `lr * wd * W` around it when both are written).
    products.sort((a, b) => a.expr.span.end - a.expr.span.start - (b.expr.span.end - b.expr.span.start));
    if (products.length > 0) return products[0];
  }
  return undefined;
}

/** What a term is added to or subtracted from where it is written (`dW` of `dW + wd * W`, `g` of `g.add(w.mul(wd))`). */
function siblingOf(facts: Facts, roots: Expr[], term: Expr): Expr | undefined {
  for (const root of roots)
    for (const x of subExprs(root)) {
      if (x.kind === 'binary' && (x.op === '+' || x.op === '-')) {
        if (x.right === term) return x.left;
        if (x.left === term) return x.right;
      } else if (x.kind === 'call') {
        const op = facts.analyzer.arithmeticCall(x);
        if (!op || (op.op !== '+' && op.op !== '-') || !op.operands.includes(term)) continue;
        return op.operands.find((o, i) => o !== undefined && o !== term && i < 2);
      }
    }
  return undefined;
}

/** The factors of a product written `a * b * c` or `a.mul(b)` (tfjs, torch); undefined for anything else. */
function productFactors(facts: Facts, e: Expr, depth = 0): Expr[] | undefined {
  if (depth > 8) return undefined;
  const split = (x: Expr): Expr[] => productFactors(facts, x, depth + 1) ?? [x];
  if (e.kind === 'binary' && e.op === '*') return [...split(e.left), ...split(e.right)];
  if (e.kind === 'call') {
    const op = facts.analyzer.arithmeticCall(e);
    if (op?.op === '*' && op.operands.length >= 2 && op.operands[0] && op.operands[1] && !op.operands[2]) return [...split(op.operands[0]), ...split(op.operands[1])];
  }
  return undefined;
}

/**
 * The keys the normal form may give a value read as written: `p.data` is p, `m[i]` with an index
 * is m, a local alias (`const w = vars[name]`) is what it names, or the key as written.
 */
export function stepKeys(facts: Facts, e: Expr, depth = 0): string[] {
  if (depth > 8) return [];
  if (e.kind === 'attr' && VALUE_ATTRIBUTES.has(e.name)) return stepKeys(facts, e.object, depth + 1);
  const own = exprKey(e);
  const out = own !== undefined ? [own] : [];
  const computed = computedIndexKey(facts, e, exprKey);
  if (computed !== undefined) out.push(computed);
  if (e.kind === 'index' && e.index.length === 1 && (e.index[0].kind === 'name' || e.index[0].kind === 'other')) out.push(...stepKeys(facts, e.object, depth + 1));
  if (e.kind === 'name') {
    const b = programIndex(facts).scopeAt(e.span.start).lookup(e.name, e.span.start);
    if (b?.kind === 'assign' && b.value && !b.op && !b.unpacked && (b.value.kind === 'name' || b.value.kind === 'attr' || b.value.kind === 'index')) out.push(...stepKeys(facts, b.value, depth + 1));
  }
  return out;
}

function someKey(facts: Facts, e: Expr, keys: Set<string>): boolean {
  return subExprs(e).some((x) => stepKeys(facts, x).some((k) => keys.has(k)));
}

/** A number or a scalar knob by the analyzer's classification (not a tensor, not a parameter). */
function scalarFactor(facts: Facts, e: Expr): boolean {
  if (e.kind === 'num') return true;
  const product = facts.analyzer.classify(e, programIndex(facts).scopeAt(e.span.start), e.span.start);
  return !product.tensor && product.params.length === 0 && !product.penalty && product.abs.length === 0;
}

/** `statementsOf` by body: IR is never changed after lowering (lower/reuse.ts), so the list is kept for the body's life. */
const statementsMemo = new WeakMap<readonly Stmt[], readonly Stmt[]>();

/**
 * The statements of a function's body, into blocks, loops and the callbacks it passes
 * (`tf.tidy(() => { … })`, which the step's evaluation reads too), not into nested definitions.
 * A shared list, not to be changed.
 */
export function statementsOf(body: Stmt[]): readonly Stmt[] {
  let known = statementsMemo.get(body);
  if (!known) statementsMemo.set(body, (known = collectStatements(body, [], 0)));
  return known;
}

function collectStatements(body: Stmt[], out: Stmt[], depth: number): Stmt[] {
  if (depth > 50) return out;
  for (const s of body) {
    if (s.kind === 'function' || s.kind === 'class') continue;
    out.push(s);
    if (s.kind === 'block' || s.kind === 'for') collectStatements(s.body, out, depth + 1);
    for (const root of stmtExprs(s)) for (const x of subExprs(root)) if (x.kind === 'lambda' && x !== root && x.stmts.length > 0) collectStatements(x.stmts, out, depth + 1);
  }
  return out;
}

/** The innermost simple statement (not a block or a loop) of a step's function around `span`. */
export function innermostStatement(step: OptimizerStep, span: Span): Stmt | undefined {
  const stmts = statementsOf(step.fn.body).filter((s) => within(span, s.span) && s.kind !== 'block' && s.kind !== 'for');
  return stmts[stmts.length - 1];
}

/** The statement holding a write (a torch in-place chain's write is the call, inside its statement). */
function stmtSpan(step: OptimizerStep, span: Span): Span {
  return innermostStatement(step, span)?.span ?? span;
}
