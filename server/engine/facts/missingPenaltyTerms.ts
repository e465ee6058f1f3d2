// A penalty in the cost whose gradient term a hand-written step or gradient leaves out, while the
// same code writes the gradient terms of the cost's other penalties by hand:
//
// 1. one weight, two penalties in one cost (`loss = data + l1 * Σ|w| + l2 * Σw²`), and a step or
//    gradient of that weight with the term of one (`w -= lr * (g + l1 * sign(w))`) and none of the
//    other (2·l2·w is missing);
// 2. a layered net whose cost sums λ/2·ΣW² over every weight of a collection (`for W in weights`),
//    whose backward pass adds λ·W to the gradient of every layer (`grads[i] = … + lam * weights[i]`)
//    but one (`grads[0] = x.T @ delta`, assigned apart);
// 3. one penalty per weight (`0.5 * lam * (ΣW1² + ΣW2² + ΣW3²)`), and a backward pass that adds
//    `lam * W3` and `lam * W2` to their gradients but nothing to `dW1`.
//
// The sibling term is the evidence that the author writes penalty gradients by hand; the penalty
// and the sibling are matched by data flow (the same cost, the same weight or collection, the
// sibling term's strength the sibling penalty's). Silent when anything else may add the term: its
// strength read outside the cost in the function, its class or a function it calls (a decay
// `w *= 1 - lr * l2`, a proximal step, a helper handed it, `if l2 > 0:`), a term of the missing kind
// on that weight in the function, its class or a caller, autodiff on the cost, a strength that
// resolves to zero, or a penalty added only under an `if` the step is not in.
import type { Expr, Span, Stmt } from '../ir';
import type { Coef, Penalty } from '../../math/terms';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { exprKey, lastComponent } from './keys';
import { someExpr, type FunctionDef } from './scope';
import { ownStatements, programIndex, spanKey } from './program';
import { lossFacts, penaltiesFor, type LossPenalty } from './losses';
import { regGradientTerms, sameParam, type RegGradientTerm } from './gradients';
import { returnedGradientsWithoutTerm } from './returnedGradients';
import { parameterOfGradient } from './roles';
import { equalCoef } from '../../math/coef';
import { canonicalCoef } from './symbols';
import { stmtExprs } from './loops';
import { writtenCoef } from './fieldLinks';

export interface MissingPenaltyTerm {
  /**
   * `step`: one weight's step or gradient with another penalty's term; `layer`: one layer's gradient
   * entry among a collection's entries that get theirs; `named`: one weight's gradient among other
   * weights' gradients that get theirs, each weight with its own penalty.
   */
  shape: 'step' | 'layer' | 'named';
  /** Where the term is missing: the step or gradient statement, or the gradient entry assigned apart (`grads[0]`). */
  span: Span;
  /** The gradient or stepped quantity as written (`w`, `grads[0]`). */
  target: string;
  site: 'update' | 'gradient';
  /** The cost's penalty whose term is missing. */
  penalty: LossPenalty;
  /** The weight the missing term multiplies, as code (`w`, `weights[0]`). */
  weight: string;
  /** The penalty as written (its strength's symbols), over `weight`. */
  written: Penalty;
  /** The sibling term the code does write, with the penalty it is the gradient of (shape `step`). */
  sibling: { span: Span; text: string; penalty?: Penalty };
}

const PENALTY_KINDS: Record<string, string[]> = { linear: ['sumsq', 'elemsq'], sign: ['l1', 'elemabs'], normalized: ['norm2'] };
/** The penalties whose missing term the message can name: ΣW² (2c·W) and Σ|W| (c·sign(W)). */
const NAMED = new Set(['sumsq', 'l1']);

const cache = new WeakMap<Facts, MissingPenaltyTerm[]>();

export function missingPenaltyTerms(facts: Facts): MissingPenaltyTerm[] {
  let found = cache.get(facts);
  if (!found) {
    found = [...stepsWithoutTerm(facts), ...layersWithoutTerm(facts), ...namedLayersWithoutTerm(facts)];
    cache.set(facts, found);
  }
  return found;
}

// ------------------------------------------------------------------ 1. two penalties, one term

function stepsWithoutTerm(facts: Facts): MissingPenaltyTerm[] {
  const out: MissingPenaltyTerm[] = [];
  const all = regGradientTerms(facts);
  const index = programIndex(facts);
  const bySite = new Map<string, RegGradientTerm[]>();
  for (const t of all) {
    if (!t.param || t.foreign || (t.coef ?? t.stepCoef).num === 0 || t.preconditioned || !PENALTY_KINDS[t.kind]) continue;
    // A term read through a variable (`w -= lr * grad_w`) is reported where it is written.
    if (t.site.upstream || t.site.penaltyGradientOf || t.site.movingAverage || t.summand.via.length > 0) continue;
    const key = spanKey(t.site.span);
    bySite.set(key, [...(bySite.get(key) ?? []), t]);
  }
  const reported = new Set<string>();
  for (const terms of bySite.values()) {
    for (const t of terms) {
      const penalties = penaltiesFor(facts, t.ids, t.site.scope);
      if (penalties.some((p) => p.site.autodiff || p.site.penaltyMethod)) continue;
      const sibling = penalties.find((p) => PENALTY_KINDS[t.kind].includes(p.kind) && sharesStrength(facts, t, p));
      if (!sibling) continue;
      for (const p of penalties) {
        if (p.site !== sibling.site || !NAMED.has(p.kind) || p.site.sign !== 1 || p.coef.num <= 0) continue;
        const kinds = (x: RegGradientTerm): string[] => PENALTY_KINDS[x.kind] ?? [];
        // A term of that penalty's kind for this weight (a decay apart, `w *= 1 - lr * l2`) in the step's
        // function, any method of its class (`self._decay()`) or a caller may be its gradient.
        const fn = index.enclosingFunction(t.site.scope);
        const near = (x: RegGradientTerm): boolean => {
          const other = index.enclosingFunction(x.site.scope);
          return other === fn || (fn?.cls !== undefined && other?.cls === fn.cls);
        };
        if (all.some((x) => sameParam(x.ids, t.ids) && near(x) && (kinds(x).includes(p.kind) || x.kind === 'const' || x.kind === 'abs'))) continue;
        if (fn && callerAddsTerm(facts, fn, all)) continue;
        const key = `${spanKey(t.site.span)}|${spanKey(p.span)}`;
        if (reported.has(key)) continue;
        // A strength that resolves to zero (`cost(w, l1, 0)` from a lasso trainer) is no penalty to miss.
        if (canonicalCoef(facts, p.coef, p.site.scope, p.site.at).num === 0) continue;
        if (!strengthNamed(p) || gatedApart(facts, p, t.site) || readsStrength(facts, t.site, p, [])) continue;
        reported.add(key);
        const weight = facts.source(t.param!.expr.span).replace(/\s+/g, ' ');
        out.push({
          shape: 'step',
          span: t.site.span,
          target: facts.source(t.site.target.span).replace(/\s+/g, ' '),
          site: t.site.kind === 'update' ? 'update' : 'gradient',
          penalty: p,
          weight,
          written: { kind: p.kind, coef: positive(writtenCoef(p)), param: weight },
          sibling: { span: t.span, text: facts.source(t.span).replace(/\s+/g, ' '), penalty: { kind: sibling.kind, coef: positive(writtenCoef(sibling)), param: weight } },
        });
      }
    }
  }
  return out;
}

/** Does the term's strength carry a symbol of the penalty's strength (`l1 * sign(w)` for `l1 * Σ|w|`), as written or resolved? */
function sharesStrength(facts: Facts, t: RegGradientTerm, p: LossPenalty): boolean {
  const names = (c: Coef): Set<string> => new Set(c.syms.filter((s) => s.pow > 0).map((s) => s.name.replace(/^.*\./, '')));
  const meets = (a: Coef, b: Coef): boolean => {
    const theirs = names(b);
    const mine = names(a);
    for (const n of theirs) if (mine.has(n)) return true;
    return false;
  };
  // An update whose learning rate the roles do not name (`rate`) keeps the step's own coefficient, rate·l1.
  const c = t.coef ?? t.stepCoef;
  return meets(c, p.coef) || meets(canonicalCoef(facts, c, t.site.scope, t.site.at), canonicalCoef(facts, p.coef, p.site.scope, p.site.at));
}

/** A strength the code names (searched by name for other reads); a number alone is not read here. */
function strengthNamed(p: LossPenalty): boolean {
  return p.coef.syms.some((s) => s.pow > 0);
}

/** The penalty's strength symbols by their last name (`l2`, `self.l2` → `l2`). */
function strengthNames(p: LossPenalty): Set<string> {
  return new Set(p.coef.syms.filter((s) => s.pow > 0).map((s) => s.name.replace(/^.*\./, '')));
}

/** The statements of the function a site is in (the module's own statements at the top level). */
function statementsAround(facts: Facts, site: { scope: UpdateSite['scope'] }): { fn?: FunctionDef; stmts: Stmt[] } {
  const fn = programIndex(facts).enclosingFunction(site.scope);
  return { fn, stmts: ownStatements(fn ? fn.body : facts.module.body) };
}

/** The statements of a method's class's other methods: one of them may apply the term (`self._decay()`). */
function classStatements(fn: FunctionDef | undefined): Stmt[] {
  if (!fn?.cls) return [];
  const out: Stmt[] = [];
  for (const m of fn.cls.scope.functions.values()) if (m !== fn) ownStatements(m.body, out);
  return out;
}

/**
 * Whether the penalty's strength is read in the step's function outside the cost (its statement and
 * the definitions it reads) and the `allowed` spans: a decay, a proximal step, a helper handed the
 * strength or a condition on it may add the gradient this finding would miss.
 */
function readsStrength(facts: Facts, site: { scope: UpdateSite['scope'] }, p: LossPenalty, allowed: Span[]): boolean {
  const names = strengthNames(p);
  const { fn, stmts: own } = statementsAround(facts, site);
  const stmts = [...own, ...classStatements(fn)];
  const spans = [
    ...lossFacts(facts).sites.map((s) => s.span),
    ...lossFacts(facts).penalties.flatMap((x) => [x.span, ...x.defs.map((d) => d.span)]),
    ...allowed,
  ];
  const inside = (e: Expr): boolean => spans.some((a) => a.start <= e.span.start && e.span.end <= a.end);
  const reads = (e: Expr): boolean => (e.kind === 'name' || e.kind === 'attr') && names.has(e.name) && !inside(e);
  // A strength's own assignment (`l2 = 0.1`) is no read of it.
  const read = (s: Stmt): Expr[] => (s.kind === 'assign' && !s.op && s.targets.every((t) => (t.kind === 'name' || t.kind === 'attr') && names.has(t.name)) ? [] : stmtExprs(s));
  const live = stmts.filter((s) => s.kind !== 'function' && s.kind !== 'class');
  if (live.some((s) => read(s).some((e) => someExpr(e, reads)))) return true;
  // A function of the program the step's code calls that reads the strength as a global (`apply_l1(w)`, reading `L1`).
  const index = programIndex(facts);
  const callees = new Set<FunctionDef>();
  for (const s of live)
    for (const e of stmtExprs(s))
      someExpr(e, (x) => {
        if (x.kind === 'call') {
          const target = facts.analyzer.callTarget(x, index.scopeAt(x.span.start), x.span.start);
          if (target && target.fn !== fn) callees.add(target.fn);
        }
        return false;
      });
  for (const callee of callees) {
    const own = new Set(callee.params.map((x) => x.name));
    const global = (e: Expr): boolean => e.kind === 'name' && names.has(e.name) && !own.has(e.name) && !inside(e);
    if (ownStatements(callee.body).some((s) => stmtExprs(s).some((e) => someExpr(e, global)))) return true;
  }
  return false;
}

/**
 * Whether a gradient's value reads a value computed from the strength (`self.dW2 = … + self.reg_loss`,
 * the penalty itself added as a gradient): some other mistake (NB101), not a missing term.
 */
function readsStrengthValue(facts: Facts, site: { scope: UpdateSite['scope'] }, p: LossPenalty, value: Expr): boolean {
  const names = strengthNames(p);
  const { fn, stmts: own } = statementsAround(facts, site);
  const derived = new Set<string>();
  const readsName = (e: Expr): boolean => (e.kind === 'name' || e.kind === 'attr') && names.has(e.name);
  for (const s of [...own, ...classStatements(fn)]) {
    if (s.kind !== 'assign' || !someExpr(s.value, readsName)) continue;
    for (const t of s.targets) if (t.kind === 'name' || t.kind === 'attr') derived.add(t.name);
  }
  for (const n of names) derived.delete(n);
  return someExpr(value, (e) => readsName(e) || ((e.kind === 'name' || e.kind === 'attr') && derived.has(e.name)));
}

/**
 * A cost whose penalty is added under an `if` (`if monitor: cost += l2 * Σw²`) that does not hold
 * the step: the step may run without that penalty in the cost.
 */
function gatedApart(facts: Facts, p: LossPenalty, site: { span: Span }): boolean {
  const index = programIndex(facts);
  let stmt = index.stmtBySpan.get(spanKey(p.site.span));
  if (!stmt) return true;
  const within = (outer: Span, inner: Span): boolean => outer.start <= inner.start && inner.end <= outer.end;
  const { stmts } = statementsAround(facts, { scope: p.site.scope });
  for (let depth = 0; stmt && depth < 60; depth++) {
    const current: Stmt = stmt;
    const parent: Stmt | undefined = stmts.find((s) => (s.kind === 'block' || s.kind === 'for') && s.body.includes(current));
    if (!parent) break;
    if (parent.kind === 'block' && parent.label === 'if' && !within(parent.span, site.span)) return true;
    stmt = parent;
  }
  return false;
}

// ------------------------------------------------------------------ 2. every layer but one

/**
 * The gradient entries of a collection (`grads[i]`) that get `c * W[i]` beside the data term, paired
 * with a collection of weights whose every item the cost penalizes; an entry of the same gradient
 * collection assigned apart with no term (`grads[0] = x.T @ delta`) is missing `c * W[0]`.
 */
function layersWithoutTerm(facts: Facts): MissingPenaltyTerm[] {
  const out: MissingPenaltyTerm[] = [];
  const all = regGradientTerms(facts);
  const index = programIndex(facts);
  // Sibling terms by function and gradient collection: `grads[i] = … + lam * weights[i]`.
  const groups = new Map<string, { fn: FunctionDef; grads: string; weights: string; terms: RegGradientTerm[] }>();
  for (const t of all) {
    if (t.kind !== 'linear' || !t.param || t.foreign || !t.coef || t.coef.num <= 0 || t.preconditioned || t.selfScale) continue;
    if (t.site.kind === 'update' || t.site.upstream || t.site.penaltyGradientOf) continue;
    const target = t.site.target;
    const weight = t.param.expr;
    if (target.kind !== 'index' || weight.kind !== 'index' || target.index.length !== 1 || weight.index.length !== 1) continue;
    const slot = exprKey(target.index[0]);
    if (slot === undefined || slot !== exprKey(weight.index[0]) || target.index[0].kind === 'str') continue;
    const grads = exprKey(target.object);
    const weights = exprKey(weight.object);
    const fn = index.enclosingFunction(t.site.scope);
    if (!grads || !weights || !fn) continue;
    const key = `${spanKey(fn.span)}|${grads}|${weights}`;
    const group = groups.get(key) ?? { fn, grads, weights, terms: [] };
    group.terms.push(t);
    groups.set(key, group);
  }
  for (const { fn, grads, weights, terms } of groups.values()) {
    const first = terms[0];
    const id = `each:${weights.replace(/^(self|this)\./, '')}`;
    const penalties = penaltiesFor(facts, [id], first.site.scope).filter((p) => p.ids.includes(id));
    if (penalties.length === 0 || penalties.some((p) => p.site.autodiff || p.site.penaltyMethod)) continue;
    const p = penalties.find((x) => x.kind === 'sumsq' && x.site.sign === 1 && canonicalCoef(facts, x.coef, x.site.scope, x.site.at).num !== 0 && strengthNamed(x) && terms.every((t) => sharesStrength(facts, t, x)));
    if (!p) continue;
    const slots = new Set(terms.map((t) => exprKey((t.site.target as Expr & { kind: 'index' }).index[0])));
    const stmts = ownStatements(fn.body);
    const assigned = stmts.filter(
      (s): s is Stmt & { kind: 'assign' } =>
        s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'index' && s.targets[0].index.length === 1 && exprKey(s.targets[0].object) === grads && !slots.has(exprKey(s.targets[0].index[0])),
    );
    for (const s of assigned) {
      const target = s.targets[0] as Expr & { kind: 'index' };
      const slot = target.index[0];
      // A literal layer index or a name for one (`grads[0]`, `grads[first]`), not a slice or a key.
      if (!(slot.kind === 'num' || slot.kind === 'name')) continue;
      // The entry is written again later (`grads[0] += …`), or a term reaches the collection after it.
      if (stmts.some((x) => x !== s && x.span.start > s.span.end && writesEntry(x, grads))) continue;
      if (all.some((t) => t.site.span.start > s.span.end && index.enclosingFunction(t.site.scope) === fn && exprKey(t.site.target.kind === 'index' ? t.site.target.object : t.site.target) === grads)) continue;
      // A call into the program in the value may add the term (a layer helper handed the strength is a read of it, below).
      if (someExpr(s.value, (e) => e.kind === 'call' && facts.analyzer.callTarget(e, index.scopeAt(e.span.start), e.span.start) !== undefined)) continue;
      if (readsStrengthValue(facts, first.site, p, s.value) || readsStrength(facts, first.site, p, terms.map((t) => t.span))) continue;
      if (callerAddsTerm(facts, fn, all)) continue;
      const weight = `${facts.source(first.param!.expr.span).replace(/\[.*\]$/s, '')}[${facts.source(slot.span)}]`;
      const targetText = facts.source(target.span).replace(/\s+/g, ' ');
      const shown = terms[terms.length - 1];
      out.push({
        shape: 'layer',
        span: target.span,
        target: targetText,
        site: 'gradient',
        penalty: p,
        weight,
        written: { kind: p.kind, coef: positive(writtenCoef(p)), param: weight },
        sibling: { span: shown.span, text: facts.source(shown.span).replace(/\s+/g, ' ') },
      });
    }
  }
  return out;
}

/**
 * One penalty per weight, `0.5 * lam * (ΣW1² + ΣW2² + ΣW3²)`, and a backward pass that adds
 * `lam * W3` and `lam * W2` to their gradients while W1's, named for it (`dW1`, `grads['W1']`), is
 * assigned with none. A function that returns the loss beside its gradients is returnedGradients.ts's.
 */
function namedLayersWithoutTerm(facts: Facts): MissingPenaltyTerm[] {
  const out: MissingPenaltyTerm[] = [];
  const all = regGradientTerms(facts);
  const index = programIndex(facts);
  const groups = new Map<string, { fn: FunctionDef; penalty: LossPenalty; terms: RegGradientTerm[] }>();
  for (const t of all) {
    if (t.kind !== 'linear' || !t.param || t.foreign || !t.coef || t.coef.num <= 0 || t.preconditioned || t.selfScale) continue;
    if (t.site.kind === 'update' || t.site.upstream || t.site.penaltyGradientOf || t.summand.via.length > 0) continue;
    const fn = index.enclosingFunction(t.site.scope);
    if (!fn) continue;
    const penalties = penaltiesFor(facts, t.ids, t.site.scope);
    if (penalties.some((p) => p.site.autodiff || p.site.penaltyMethod)) continue;
    for (const p of penalties) {
      if (p.kind !== 'sumsq' || p.site.sign !== 1 || p.coef.num <= 0 || p.site.fn === fn || !strengthNamed(p) || !sharesStrength(facts, t, p)) continue;
      const key = `${spanKey(fn.span)}|${spanKey(p.site.span)}`;
      const group = groups.get(key) ?? { fn, penalty: p, terms: [] };
      group.terms.push(t);
      groups.set(key, group);
    }
  }
  const returned = returnedGradientsWithoutTerm(facts);
  for (const { fn, penalty, terms } of groups.values()) {
    const stmts = ownStatements(fn.body);
    const near = (x: RegGradientTerm): boolean => {
      const other = index.enclosingFunction(x.site.scope);
      return other === fn || (fn.cls !== undefined && other?.cls === fn.cls);
    };
    for (const q of lossFacts(facts).penalties) {
      if (q.site !== penalty.site || q.kind !== 'sumsq' || !equalCoef(q.coef, penalty.coef) || canonicalCoef(facts, q.coef, q.site.scope, q.site.at).num === 0) continue;
      // A loop's weight (`for W in weights`) is no one weight; the collection's shape is layersWithoutTerm's.
      if (q.param.base.kind === 'name' && q.site.scope.lookup(q.param.base.name, q.site.at)?.kind === 'loop') continue;
      const weight = lastComponent(q.param.base);
      if (!weight || all.some((x) => sameParam(x.ids, q.ids) && near(x))) continue;
      if (returned.some((r) => r.fn === fn && r.weight === weight)) continue;
      const definitions = stmts.filter((x): x is Stmt & { kind: 'assign' } => x.kind === 'assign' && x.targets.length === 1 && parameterOfGradient(x.targets[0]) === weight);
      const last = definitions[definitions.length - 1];
      if (!last || last.op) continue;
      const key = exprKey(last.targets[0]);
      if (key === undefined || stmts.some((x) => x !== last && x.span.start > last.span.end && x.kind === 'assign' && x.targets.some((t) => exprKey(t) === key))) continue;
      if (someExpr(last.value, (e) => e.kind === 'call' && facts.analyzer.callTarget(e, index.scopeAt(e.span.start), e.span.start) !== undefined)) continue;
      if (readsStrengthValue(facts, terms[0].site, penalty, last.value)) continue;
      if (readsStrength(facts, terms[0].site, penalty, terms.map((t) => t.span)) || callerAddsTerm(facts, fn, all)) continue;
      const shown = terms[terms.length - 1];
      const weightText = facts.source(q.param.expr.span).replace(/\s+/g, ' ');
      out.push({
        shape: 'named',
        span: last.targets[0].span,
        target: facts.source(last.targets[0].span).replace(/\s+/g, ' '),
        site: 'gradient',
        penalty: q,
        weight: weightText,
        written: { kind: q.kind, coef: positive(writtenCoef(q)), param: weightText },
        sibling: { span: shown.span, text: facts.source(shown.span).replace(/\s+/g, ' ') },
      });
    }
  }
  return out;
}

/** A statement that writes an entry of the collection (`grads[k] += …`, `grads[k] = …`). */
function writesEntry(s: Stmt, grads: string): boolean {
  return s.kind === 'assign' && s.targets.some((t) => t.kind === 'index' && exprKey(t.object) === grads);
}

/** A function of the file that calls this one and writes penalty-gradient terms itself. */
function callerAddsTerm(facts: Facts, fn: FunctionDef, all: RegGradientTerm[]): boolean {
  const index = programIndex(facts);
  for (const c of index.callsTo(fn)) {
    const caller = index.enclosingFunction(c.scope);
    // A term written in this function and read in the caller through the values it returns is no term of the caller's own.
    const own = (t: RegGradientTerm): boolean => fn.span.start <= t.span.start && t.span.end <= fn.span.end;
    if (caller && caller !== fn && all.some((t) => index.enclosingFunction(t.site.scope) === caller && !own(t))) return true;
  }
  return false;
}

function positive(c: Coef): Coef {
  return c.num < 0 ? { ...c, num: -c.num } : c;
}
