// Regularization strengths known by math, whatever they are called (`gamma`, `sw`, `kappa`):
// - a scalar that multiplies a penalty in a loss (`obj += 0.5 * sw * np.sum(theta ** 2)`,
//   losses.ts `penaltyCoefficientNames`);
// - a scalar that multiplies a weight itself in a term of its gradient or of its step, written at
//   that term and not shared by the other terms beside it (`theta -= h * (g + gamma * theta)`:
//   `h` scales the whole step, the learning rate; `gamma` only the weight's own term;
//   `delta = X.T @ err / n + sw * theta`: `sw`);
// - the scalar of a step that only shrinks a weight (`w -= c * w`) in a function that also steps
//   that weight by something else (`w -= h * g`): the decay has strength c/h, so c's symbols that are
//   not h's are strengths.
// A momentum coefficient multiplies optimizer state, not a weight (`v = gamma * v + h * g`); a
// batch-norm `gamma` is a weight, stepped by its own gradient; an EMA's decay weighs another array
// (`shadow = d * shadow + (1 - d) * theta`: no term of a gradient beside it); a learning-rate decay
// (`h *= gamma`) steps no weight. None of them is read here, nor a term whose sign grows the weight
// (`+ gamma * theta` in a descent's gradient, `theta += h * gamma * theta`). Kept by last name, file-wide, as the
// penalty coefficients are; the rules that ask still want the rest of their shape.
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { Scope } from './scope';
import type { Expr } from '../ir';
import { enclosingClass } from './resolve';
import { classifyTerm, sharedSymbols } from './gradients';
import { lossFacts, penaltyCoefficientNames } from './losses';
import { baseExpr, exprKey } from './keys';
import { isDecayStrengthSymbol } from './roles';

const cache = new WeakMap<Facts, Set<string>>();
/** Files whose strengths are being read: a question asked meanwhile (gradients.ts `classifyTerm`'s bare constants) gets the penalty coefficients only. */
const inProgress = new WeakSet<Facts>();

/** The last names (`gamma` of `self.gamma`, `group["sw"]` → `sw`) of the file's strengths by math. */
export function strengthNames(facts: Facts): Set<string> {
  let names = cache.get(facts);
  if (names) return names;
  if (inProgress.has(facts)) return penaltyCoefficientNames(facts);
  inProgress.add(facts);
  try {
    names = new Set(penaltyCoefficientNames(facts));
    for (const x of termStrengths(facts)) names.add(x.name);
    for (const name of shrinkStrengths(facts)) names.add(name);
  } finally {
    inProgress.delete(facts);
  }
  cache.set(facts, names);
  return names;
}

const onceCache = new WeakMap<Facts, Set<string>>();

/**
 * The strengths the file applies once: to the first power in a loss's penalty (`0.5 * gamma * ΣW²`),
 * or in a weight's gradient or step term (`2 * gamma * W`). Where the same symbol appears squared on a
 * penalty (`gamma * gamma * ΣW²`), the file's own math says one of the two is a slip (NB105).
 */
export function strengthNamesAppliedOnce(facts: Facts): Set<string> {
  let names = onceCache.get(facts);
  if (names) return names;
  names = new Set();
  for (const p of lossFacts(facts).penalties) for (const x of p.coef.syms) if (x.pow === 1) names.add(lastName(x.name));
  strengthNames(facts); // reads the terms under its guard first (classifyTerm asks strengthNames back)
  // A term's strength to the first power only: `tau * tau * theta` beside `0.5 * tau * tau * ΣW²` is consistent.
  for (const x of termStrengths(facts)) if (x.pow === 1) names.add(x.name);
  onceCache.set(facts, names);
  return names;
}

/** A strength by name (roles.ts, the last resort) or by math (this file). */
export function isStrengthSymbol(facts: Facts, symbol: string): boolean {
  return isDecayStrengthSymbol(symbol) || strengthNames(facts).has(lastName(symbol));
}

export function lastName(symbol: string): string {
  return symbol.replace(/^.*\[\s*["'](\w+)["']\s*\]$/, '$1').replace(/^.*\./, '');
}

/** Local, unshared scalars of a weight's own term in its gradient or step, beside a term that is not the weight's. */
const termCache = new WeakMap<Facts, { name: string; pow: number }[]>();

function termStrengths(facts: Facts): { name: string; pow: number }[] {
  const known = termCache.get(facts);
  if (known) return known;
  const out = readTermStrengths(facts);
  termCache.set(facts, out);
  return out;
}

function readTermStrengths(facts: Facts): { name: string; pow: number }[] {
  const a = facts.analyzer;
  const out: { name: string; pow: number }[] = [];
  const terms = facts.updates.flatMap((site) => site.increment.flatMap((s) => classifyTerm(facts, site, s) ?? []));
  for (const t of terms) {
    if (t.kind !== 'linear' || !t.param || t.foreign || t.preconditioned) continue;
    const site = t.site;
    if (site.kind === 'update' && site.movingAverage) continue;
    // A decay pulls the weight toward zero: as a gradient term its coefficient is positive. A term of the
    // other sign (`theta += h * (g + gamma * theta)`, `dW = X.T @ err - gamma * W` in a descent) grows the
    // weight: whatever it is, it says nothing about gamma being a decay strength elsewhere.
    const pull = t.coef ?? (site.kind === 'update' ? { ...t.stepCoef, num: -t.stepCoef.num } : t.stepCoef);
    if (!(pull.num > 0)) continue;
    // Beside it, a term that holds no weight: the gradient (data, a gradient variable).
    const others = site.increment.filter((s) => s !== t.summand);
    if (others.length === 0) continue;
    const besideGradient = others.some((s) => {
      const p = a.classifySummand(s);
      return !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length && (p.tensor || p.coef.syms.some((x) => x.pow > 0));
    });
    if (!besideGradient) continue;
    const shared = sharedSymbols(facts, site);
    const own = a.classifySummand(t.summand);
    // With its power in the term (`tau * tau * theta`: tau²), summed over repeated factors.
    const pows = new Map<string, number>();
    for (const x of own.coef.syms) pows.set(x.name, (pows.get(x.name) ?? 0) + x.pow);
    for (const [name, pow] of pows) if (pow > 0 && !shared.has(name)) out.push({ name: lastName(name), pow });
  }
  return out;
}

/**
 * `w -= c * w` (all of the step a multiple of the weight) beside a step of the same weight in the
 * same function by a term that is not: c's symbols that the other step's scale has not.
 */
function shrinkStrengths(facts: Facts): string[] {
  const a = facts.analyzer;
  const out: string[] = [];
  const byScope = new Map<Scope, UpdateSite[]>();
  for (const site of facts.updates) {
    if (site.kind !== 'update' || site.movingAverage || !a.isParam(baseExpr(site.target))) continue;
    const list = byScope.get(site.scope);
    if (list) list.push(site);
    else byScope.set(site.scope, [site]);
  }
  for (const sites of byScope.values()) {
    if (sites.length < 2) continue;
    for (const shrink of sites) {
      const key = exprKey(shrink.target);
      if (key === undefined || shrink.increment.length !== 1) continue;
      const p = a.classifySummand(shrink.increment[0]);
      if (p.tensor || p.penalty || p.abs.length > 0 || p.signs?.length || p.params.length !== 1 || exprKey(p.params[0].expr) !== key) continue;
      const c = p.coef.syms.filter((x) => x.pow > 0).map((x) => x.name);
      if (c.length === 0) continue;
      for (const step of sites) {
        if (step === shrink || exprKey(step.target) !== key) continue;
        // The other step moves the weight by something that is not the weight: a gradient.
        const terms = step.increment.map((s) => a.classifySummand(s));
        if (!terms.some((q) => !q.penalty && q.params.length === 0 && q.abs.length === 0 && !q.signs?.length && q.tensor)) continue;
        const h = sharedSymbols(facts, step);
        for (const name of c) if (!h.has(name)) out.push(lastName(name));
      }
    }
  }
  return out;
}

/**
 * A symbol that holds a plain number by data flow, whatever its name: a parameter whose default is a
 * number (`gamma=1e-4`), a local assigned a number or a choice between such values
 * (`sw = gamma if it >= warmup else 0.0`), an attribute the constructor stores from such a parameter
 * (`self.gamma = gamma`). Not a tensor, a mask or a schedule's output.
 */
export function holdsNumber(symbol: string, scope: Scope, at: number): boolean {
  const m = /^(self|this)\.(\w+)$/.exec(symbol);
  if (m) {
    const cls = enclosingClass(scope);
    if (!cls) return false;
    const bindings = cls.scope.members.get(`${m[1]}.${m[2]}`) ?? [];
    if (bindings.length === 0) return false;
    return bindings.every((b) => b.kind === 'assign' && !b.op && b.value !== undefined && numberValued(b.value, b.scope, b.at, 1));
  }
  if (!/^\w+$/.test(symbol)) return false;
  return nameHoldsNumber(symbol, scope, at, 0);
}

function nameHoldsNumber(name: string, scope: Scope, at: number, depth: number): boolean {
  if (depth > 4) return false;
  const b = scope.lookup(name, at);
  if (!b || b.unpacked || b.op) return false;
  if (b.kind === 'param') return b.value !== undefined && isNumber(b.value);
  if (b.kind !== 'assign' || !b.value) return false;
  if (b.scope.allBindings(b.key).length !== 1) return false;
  return numberValued(b.value, b.scope, b.at, depth + 1);
}

function numberValued(e: Expr, scope: Scope, at: number, depth: number): boolean {
  if (depth > 4) return false;
  if (isNumber(e)) return true;
  if (e.kind === 'name') return nameHoldsNumber(e.name, scope, at, depth);
  if (e.kind === 'cond') return numberValued(e.then, scope, at, depth + 1) && numberValued(e.else, scope, at, depth + 1);
  return false;
}

function isNumber(e: Expr): boolean {
  if (e.kind === 'num') return true;
  return e.kind === 'unary' && e.arg.kind === 'num';
}
