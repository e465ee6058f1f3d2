// How steps use gradients, for rules about their direction: the raw expression a parameter
// update adds (from the statement, the in-place call or the lambda behind an update site), whether
// the code means to climb (a maximizer, a policy gradient, an attack), and which sign a regularization
// term needs where it is added to a gradient or a velocity.
import { holdsOptimizerSlot } from './optimizerSlots';
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { stepsLoopItemField, type UpdateSite } from './updates';
import type { FunctionDef } from './scope';
import { baseExpr, exprKey, lastComponent } from './keys';
import {
  hasAscentContext, isAscentWord, isDataLike, isGradientLike, isInputName, isLossOrGradientFunctionName, isOptimizedInputName, isParameterListKey, isStateLike, isUnitIntervalCoefficientName,
} from './roles';
import { canonicalCoef } from './symbols';
import { COUNT_FUNCTIONS, COUNT_METHODS, inPlaceUpdate } from './catalogue';
import { loopCollectionKey, regGradientTerms, scaledSelfSites, type RegGradientTerm } from './gradients';
import { DirectionAnalyzer, type DirTerm } from './direction';
import { programIndex, spanKey } from './program';
import { isReturnedGradientSum } from './gradientSums';
import { isCotangentSum } from './cotangentSums';
import { feedsOnlyOptimizerState } from './stateInputs';
import { feedsGradientBack } from './gradientFeedback';

/** A symbol taken as positive: a name or attribute, or a count (`len(y)`, `X.shape[0]`); not a difference like `(1-mu)`. */
function signKnown(name: string): boolean {
  if (oneMinusCoefficient(name) || /^[\w.$[\]'"]+$/.test(name)) return true;
  const call = /^([\w$]+)\([\w.$[\]'"]*\)$/.exec(name);
  const method = /^[\w.$]+\.([\w$]+)\(\)$/.exec(name);
  return (!!call && COUNT_FUNCTIONS.has(call[1])) || (!!method && COUNT_METHODS.has(method[1]));
}

/** `1-dampening`, `1-group["momentum"]`: one minus a coefficient in [0, 1), a positive symbol. */
function oneMinusCoefficient(name: string): boolean {
  const m = /^1-(?:[\w.$]+\[["']([\w]+)["']\]|(?:[\w$]+\.)*([\w$]+))$/.exec(name.replace(/\s+/g, ''));
  return !!m && isUnitIntervalCoefficientName(m[1] ?? m[2]);
}

/** The sign of the term as it is added (symbols taken as positive, bound numbers as they are). */
export function termSign(facts: Facts, t: RegGradientTerm): 1 | -1 | undefined {
  if (!t.stepCoef.syms.every((s) => signKnown(s.name))) return undefined; // `(1-mu)`, `(b1-1)`: sign not read
  const value = canonicalCoef(facts, t.stepCoef, t.site.scope, t.site.at);
  const sign = Math.sign(value.syms.length === 0 ? value.num : t.stepCoef.num);
  return sign === 0 ? undefined : (sign as 1 | -1);
}

/**
 * The sign a correct c·W has where `t` adds it: + in a gradient that is then subtracted (or that holds
 * +∇loss), − in a direction that is added (or that holds −∇loss, like `X.T @ (y - p)`).
 */
export function expectedSign(facts: Facts, t: RegGradientTerm): { sign: 1 | -1; ambiguous?: boolean; useSite?: UpdateSite } | undefined {
  // A regularizer object's gradient method returns ∇R(W) of its own penalty: + for a positive penalty.
  if (t.site.penaltyGradientOf) return { sign: 1 };
  // What the accumulator holds decides first: the step that applies it may itself be the bug.
  const polarity = accumulatorPolarity(facts, t.site);
  if (polarity !== undefined) return { sign: polarity };
  const use = gradientUse(facts, t);
  if (use) {
    // A gradient that is subtracted holds +∇loss, as its name says: the term must be +.
    if (use.sign === -1) return { sign: 1 };
    return { sign: -1, ambiguous: isGradientLike(t.site.target), useSite: use.site };
  }
  const gradKey = exprKey(t.site.target);
  const fn = programIndex(facts).enclosingFunction(t.site.scope);
  // `return loss, dW` from a loss function: the caller descends along what it returns.
  if (gradKey !== undefined && fn && isLossOrGradientFunctionName(fn.name) && !isAscentWord(fn.name) && !hasAscentContext(fn.name) && returnsKey(fn.body, gradKey, t.site.target)) return { sign: 1 };
  return undefined;
}

const useIndexes = new WeakMap<Facts, { updatesOf: Map<string | undefined, UpdateSite[]>; termsAt: Map<string, RegGradientTerm[]> }>();

/** Updates by the key of the parameter they move, and terms by their span, each in file order. */
function useIndex(facts: Facts): { updatesOf: Map<string | undefined, UpdateSite[]>; termsAt: Map<string, RegGradientTerm[]> } {
  let found = useIndexes.get(facts);
  if (found) return found;
  const add = <K, T>(map: Map<K, T[]>, key: K, x: T): void => {
    const list = map.get(key);
    if (list) list.push(x);
    else map.set(key, [x]);
  };
  const updatesOf = new Map<string | undefined, UpdateSite[]>();
  for (const site of [...facts.updates, ...scaledSelfSites(facts)]) if (site.kind === 'update') add(updatesOf, exprKey(baseExpr(site.target)), site);
  const termsAt = new Map<string, RegGradientTerm[]>();
  for (const u of regGradientTerms(facts)) add(termsAt, spanKey(u.span), u);
  found = { updatesOf, termsAt };
  useIndexes.set(facts, found);
  return found;
}

/** The sign with which the gradient `t.site.target` enters an update of the term's parameter (−1: subtracted). */
export function gradientUse(facts: Facts, t: RegGradientTerm): { sign: 1 | -1; site: UpdateSite } | undefined {
  const gradKey = exprKey(t.site.target);
  const paramKey = exprKey(t.param!.base);
  if (gradKey === undefined) return undefined;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(t.site.scope);
  const uses = new Set<number>();
  let useSite: UpdateSite | undefined;
  const { updatesOf, termsAt } = useIndex(facts);
  for (const site of updatesOf.get(paramKey) ?? []) {
    if (index.enclosingFunction(site.scope) !== fn) continue;
    if (site.span.start < t.site.span.start && site.at !== Infinity) continue;
    for (const s of site.increment) {
      const g = s.num.findIndex((f) => exprKey(f.expr) === gradKey || exprKey(baseExpr(f.expr)) === gradKey);
      if (g < 0) continue;
      const others = facts.analyzer.classifySummand({ ...s, sign: 1, num: s.num.filter((_, i) => i !== g) });
      if (others.tensor || others.params.length > 0 || others.penalty || others.abs.length > 0 || others.signs?.length) continue;
      if (!others.coef.syms.every((x) => signKnown(x.name))) continue;
      uses.add(s.sign * Math.sign(others.coef.num));
      useSite ??= site;
    }
  }
  // Expanded into the update (`W += lr * dW` where dW is a sum): the same term appears there.
  for (const u of termsAt.get(spanKey(t.span)) ?? []) {
    if (u === t || u.site.kind !== 'update' || spanKey(u.span) !== spanKey(t.span) || exprKey(baseExpr(u.site.target)) !== paramKey) continue;
    if (index.enclosingFunction(u.site.scope) !== fn) continue;
    const a = termSign(facts, u);
    const b = termSign(facts, t);
    if (a === undefined || b === undefined) continue;
    uses.add(a * b);
    useSite ??= u.site;
  }
  return uses.size === 1 && useSite ? { sign: [...uses][0] as 1 | -1, site: useSite } : undefined;
}

/** Which way the accumulator points before the term is added: +1 for +∇loss, −1 for −∇loss. */
export function accumulatorPolarity(facts: Facts, site: UpdateSite): 1 | -1 | undefined {
  const index = programIndex(facts);
  const direction = new DirectionAnalyzer(facts);
  const lambda = index.lambdas.get(site.scope);
  let terms: DirTerm[];
  if (lambda && lambda.lambda.params[0]) {
    const self: Expr = { kind: 'name', name: lambda.lambda.params[0].name, span: lambda.lambda.params[0].span };
    terms = direction.step(self, site.scope, Infinity, 1, []).terms;
  } else if (site.kind === 'gradient' || (site.kind === 'update' && index.stmtBySpan.get(spanKey(site.span))?.kind === 'assign' && !(index.stmtBySpan.get(spanKey(site.span)) as { op?: string }).op)) {
    // A definition (`g = X.T @ (y - p) - lam * w`, `v = mu * v - lr * dW + ...`): its other terms say.
    const stmt = index.stmtBySpan.get(spanKey(site.span));
    if (stmt?.kind !== 'assign') return undefined;
    const self = exprKey(site.target);
    const result = direction.step(stmt.value, site.scope, site.at, 1, self ? [self] : []);
    if (result.ascent) return undefined;
    terms = result.terms;
  } else {
    const result = direction.step(site.target, site.scope, site.at, 1, []);
    if (result.ascent) return undefined;
    terms = result.terms;
  }
  const grads = terms.filter((x) => x.kind === 'grad');
  if (grads.length === 0 || terms.some((x) => x.kind === 'unknown' && x.gradientish)) return undefined;
  const signs = new Set(grads.map((g) => g.sign));
  return signs.size === 1 ? grads[0].sign : undefined;
}

export function returnsKey(body: Stmt[], key: string, target: Expr): boolean {
  const container = target.kind === 'index' ? exprKey(target.object) : undefined;
  const matches = (e: Expr): boolean => {
    const k = exprKey(e);
    return k === key || (container !== undefined && k === container);
  };
  const visit = (stmts: Stmt[]): boolean =>
    stmts.some((s) => {
      if (s.kind === 'return' && s.value) return s.value.kind === 'seq' ? s.value.items.some(matches) : matches(s.value);
      if (s.kind === 'block' || s.kind === 'for') return visit(s.body);
      return false;
    });
  return visit(body);
}

export interface Step {
  expr: Expr;
  sign: 1 | -1;
  self: string[];
  /** The `+=` / `-=` operator of an augmented assignment, for the fix. */
  operator?: Span;
}

/** Words of ascent looked for once per file and per function (not once per step: a file may have thousands). */
const ascentMemo = new WeakMap<Facts, Map<string, boolean>>();

/** Whether the text of a span (default: the whole file) has a word of ascent (roles.ts `hasAscentContext`). */
export function mentionsAscent(facts: Facts, span: Span = facts.scopes.root.span): boolean {
  let memo = ascentMemo.get(facts);
  if (!memo) ascentMemo.set(facts, (memo = new Map()));
  const key = `${span.start}:${span.end}`;
  let found = memo.get(key);
  if (found === undefined) memo.set(key, (found = hasAscentContext(facts.source(span))));
  return found;
}

/**
 * Whether the top-level statement that holds `span` (a loop of a script, a function, a class), with
 * the comment lines right above it, or the module's docstring, has a word of ascent: the code around a
 * step and what the file says it is for, not the whole file (a word in an unrelated comment elsewhere
 * does not turn NB102 off).
 */
export function mentionsAscentAround(facts: Facts, span: Span): boolean {
  // A module's docstring says what the whole file is for (`"""Discriminator training: maximize …"""`,
  // an attack module): its words count for every step in it, unlike a comment in the header.
  const doc = facts.module.body[0];
  if (doc?.kind === 'expr' && doc.expr.kind === 'str' && mentionsAscent(facts, doc.span)) return true;
  const top = facts.module.body.find((st) => st.span.start <= span.start && span.end <= st.span.end);
  if (!top) return mentionsAscent(facts, span);
  const base = facts.file.base;
  let start = top.span.start - base;
  // The comment lines right above the statement (`# gradient ascent on the input`).
  for (;;) {
    const lineStart = facts.text.lastIndexOf('\n', start - 1) + 1;
    if (lineStart <= 0) break;
    const prevStart = facts.text.lastIndexOf('\n', lineStart - 2) + 1;
    const prev = facts.text.slice(prevStart, lineStart - 1).trim();
    if (!(prev.startsWith('#') || prev.startsWith('//'))) break;
    start = prevStart;
  }
  return mentionsAscent(facts, { start: base + start, end: top.span.end });
}

/**
 * Is the step in code that means to climb (a maximizer, a policy gradient, an attack on inputs), or
 * a probe that the same code takes back (`W = W + s * dJdW` and then `W = W - s * dJdW`)?
 */
export function ascentContext(facts: Facts, site: UpdateSite): boolean {
  if (undoneByInverse(facts, site)) return true;
  const index = programIndex(facts);
  const first = index.enclosingFunction(site.scope);
  if (!first) return mentionsAscentAround(facts, site.span);
  let fn: FunctionDef = first;
  for (;;) {
    if (mentionsAscent(facts, fn.span)) return true;
    const parent: FunctionDef | undefined = fn.scope.parent ? index.enclosingFunction(fn.scope.parent) : undefined;
    if (!parent) break;
    fn = parent;
  }
  // A method: the class's header (its name and bases) counts too.
  for (let s = fn.scope.parent; s; s = s.parent) if (s.kind === 'class' && hasAscentContext(facts.source(s.span).split('\n')[0])) return true;
  return false;
}

/**
 * A step the same function (or the module's top level, a notebook's cells) also takes in exactly the
 * opposite direction on the same target: `W = W + s * dJdW` then `W = W - s * dJdW` shows which way
 * the cost goes, `W -= lr * g` then `W += lr * g` takes a rejected step back. Neither trains upwards.
 */
export function undoneByInverse(facts: Facts, site: UpdateSite): boolean {
  const key = exprKey(baseExpr(site.target));
  if (key === undefined || site.increment.length === 0) return false;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  const steps = stepSignatures(facts).get(fn);
  const own = `${key}\u0000${incrementSignature(facts, site.increment, 1)}`;
  const inverse = `${key}\u0000${incrementSignature(facts, site.increment, -1)}`;
  // Counted per function once, not compared pair by pair: a function of 60,000 updates stays linear.
  return (steps?.get(inverse) ?? 0) > (inverse === own ? 1 : 0);
}

/** An increment as a canonical string: each summand's sign (times `sign`), factors and divisors, sorted. */
function incrementSignature(facts: Facts, increment: UpdateSite['increment'], sign: 1 | -1): string {
  const factorKey = (f: { expr: Expr }): string => exprKey(f.expr) ?? facts.source(f.expr.span).replace(/\s+/g, '');
  return increment
    .map((s) => `${sign * s.sign}|${s.num.map(factorKey).sort().join('*')}|${s.den.map(factorKey).sort().join('*')}`)
    .sort()
    .join(' ');
}

const signatureCounts = new WeakMap<Facts, Map<FunctionDef | undefined, Map<string, number>>>();

/** For each function (undefined: the module's top level), how many updates take each target-and-increment step. */
function stepSignatures(facts: Facts): Map<FunctionDef | undefined, Map<string, number>> {
  let byFn = signatureCounts.get(facts);
  if (byFn) return byFn;
  byFn = new Map();
  const index = programIndex(facts);
  for (const [key, sites] of useIndex(facts).updatesOf) {
    if (key === undefined) continue;
    for (const other of sites) {
      if (other.increment.length === 0) continue;
      const fn = index.enclosingFunction(other.scope);
      let counts = byFn.get(fn);
      if (!counts) byFn.set(fn, (counts = new Map()));
      const sig = `${key}\u0000${incrementSignature(facts, other.increment, 1)}`;
      counts.set(sig, (counts.get(sig) ?? 0) + 1);
    }
  }
  signatureCounts.set(facts, byFn);
  return byFn;
}

/**
 * Whether an update moves a model's parameter: not an input being optimized (an adversarial
 * perturbation, a latent, a dream image), optimizer state, a gradient, or a sum of gradient pieces
 * its function builds and returns (gradientSums.ts). A loop variable over a model's parameters is a
 * parameter whatever it is called.
 */
export function movesModelParameter(facts: Facts, site: UpdateSite): boolean {
  const base = baseExpr(site.target);
  const last = lastComponent(base) ?? '';
  if (isInputName(last) || isDataLike(base) || isOptimizedInputName(last)) return false;
  const walksParams = base.kind === 'name' && isParameterListKey(loopCollectionKey(facts, base.name, site.scope, site.span.start) ?? '');
  return facts.analyzer.isParam(base) && !(isStateLike(base) && !walksParams && !stepsLoopItemField(site, facts.analyzer, programIndex(facts))) && !isGradientLike(base) && !isReturnedGradientSum(facts, site) && !isCotangentSum(facts, site) && !feedsOnlyOptimizerState(facts, site) && !feedsGradientBack(facts, site) && !(base.kind === 'name' && holdsOptimizerSlot(facts, base.name, site.scope, site.span.start));
}

export function stepOf(facts: Facts, site: UpdateSite): Step | undefined {
  const index = programIndex(facts);
  const targetKey = exprKey(site.target);
  const baseKey = exprKey(baseExpr(site.target));
  const self = [targetKey, baseKey].filter((k): k is string => k !== undefined);
  const stmt = index.stmtBySpan.get(spanKey(site.span));
  if (stmt?.kind === 'assign') {
    if (stmt.op === '+' || stmt.op === '-') return { expr: stmt.value, sign: stmt.op === '+' ? 1 : -1, self: [], operator: stmt.opSpan };
    if (!stmt.op) return { expr: stmt.value, sign: 1, self };
    return undefined;
  }
  const call = stmt?.kind === 'expr' ? stmt.expr : index.exprBySpan.get(spanKey(site.span));
  if (call?.kind === 'call') {
    const update = inPlaceUpdate(call, (e) => facts.analyzer.isModule(e), (e) => facts.analyzer.modulePath(e));
    if (update?.op === '+' || update?.op === '-') return { expr: update.operand, sign: update.op === '-' ? -1 : 1, self: [] };
    if (update?.op === '=') return { expr: update.operand, sign: 1, self };
    return undefined;
  }
  const body = index.exprBySpan.get(spanKey(site.span));
  if (body) return { expr: body, sign: 1, self };
  return undefined;
}

/** A statement's span without its trailing `;` and blanks. */
export function trimSpan(facts: Facts, span: Span): Span {
  const text = facts.source(span);
  let end = text.length;
  while (end > 0 && /[;\s]/.test(text[end - 1])) end--;
  return { start: span.start, end: span.start + end };
}
