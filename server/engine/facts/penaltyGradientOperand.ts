// What a hand-written penalty-gradient term multiplies. The gradient of c·ΣW² is 2c·W: the strength
// times the penalized weight. Two course-code slips keep the strength and the shape of that term but
// multiply something else:
//
// - `gradient`: the data gradient itself. `reg_term = (lam / m) * D`, where D is a copy of the
//   gradient G being built (its bias column replaced by zeros), then `G = G / m + reg_term`: the term
//   only rescales the data gradient, and the penalty the cost adds never reaches the update.
// - `constantSlice`: a copy of W whose slice the penalty exempts is filled with a nonzero constant
//   instead of zeros (`W_ = np.c_[np.ones((n, 1)), W[:, 1:]]`, or `W_ = W.copy(); W_[0] = 1`), while the
//   cost penalizes only `W[:, 1:]`: the exempt slice's gradient gets a constant c instead of nothing.
//
// Decided by data flow: the term is a product of scalars holding a strength that multiplies a
// penalty of the file's losses (the same symbol) and one array operand; the operand's definitions,
// followed through plain copies, slices and joins, are the gradient the term is added to (joined only
// with zeros), or the penalty's own slice of W joined with, or written over by, a nonzero constant.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef, Scope } from './scope';
import { someExpr } from './scope';
import { baseExpr, exprKey } from './keys';
import { definedInFile, ownStatements, programIndex, type CallSite, type ProgramIndex } from './program';
import type { CallTarget } from './resolve';
import type { Env } from './analysis';
import { stmtExprs } from './loops';
import { lossFacts, type LossPenalty } from './losses';
import { isSizeSymbol } from './roles';
import { concatenatedPieces, copiedArray, indexJoinPieces, nonzeroFill, zeroValue } from './catalogue';

export interface MisreadPenaltyTerm {
  kind: 'gradient' | 'constantSlice';
  /** The term as written: `(lam / m) * D`, `(W_ * lam) / m`. */
  term: Expr;
  /** The array the term multiplies, as written in it. */
  operand: Expr & { kind: 'name' };
  /** Where the operand gets what makes it wrong: the copy of the gradient, or the constant slice. */
  source: Expr;
  /** The gradient the term is added to (for `gradient`), or the target of the statement that adds it. */
  target: Expr;
  /** The loss's penalty whose strength the term carries. */
  penalty: LossPenalty;
  /** The weight the penalty names (`theta`, `self.W1`). */
  weight: string;
  /** Where the penalty is written: its product, or the value of the variable the loss reads it through. */
  penaltyAt: Span;
  /** For `constantSlice`: the constant the exempt slice holds. */
  constant?: number;
  /**
   * When the penalty is in another module that neither imports the other: the calls of the entry
   * that hand the same weights (and strength) to the cost and to the gradient function.
   */
  driver?: { cost: Expr & { kind: 'call' }; gradient: Expr & { kind: 'call' }; weights: Expr };
}

const cache = new WeakMap<Facts, MisreadPenaltyTerm[]>();
const MAX_DEPTH = 8;

export function misreadPenaltyTerms(facts: Facts): MisreadPenaltyTerm[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [...localTerms(facts)];
  cache.set(facts, found);
  found.push(...drivenTerms(facts));
  return found;
}

const localCache = new WeakMap<Facts, MisreadPenaltyTerm[]>();

/** The terms whose penalty is in the file's own losses, of the same function, class or caller. */
function localTerms(facts: Facts): MisreadPenaltyTerm[] {
  let found = localCache.get(facts);
  if (found) return found;
  found = [];
  localCache.set(facts, found);
  const penalties = lossFacts(facts).penalties.filter(eligiblePenalty);
  if (penalties.length === 0) return found;
  const index = programIndex(facts);
  const seen = new Set<string>();
  for (const fn of index.functions) {
    if (!definedInFile(facts, fn)) continue;
    found.push(...termsIn(facts, fn, penalties, (p, product) => strengthNames(p).some((n) => product.strengths.has(n)) && sameModel(index, fn, p), seen, index));
  }
  return found;
}

export const eligiblePenalty = (p: LossPenalty): boolean => p.kind === 'sumsq' && p.coef.num > 0 && p.site.sign === 1 && !p.site.autodiff && !p.site.scaledLater;

/** Whether an array read in a gradient function is the weights the penalty is on (through the driver). */
type WeightTest = (e: Expr, scope: Scope, at: number) => boolean;

type Product = { operand: Expr & { kind: 'name' }; strengths: Set<string>; symbols: Set<string> };

/** The misread terms of one function whose strength `matches` a penalty of `penalties` (the penalty's index for where it is written). */
function termsIn(
  facts: Facts,
  fn: FunctionDef,
  penalties: LossPenalty[],
  matches: (p: LossPenalty, product: Product) => boolean,
  seen: Set<string>,
  penaltyIndex: ProgramIndex,
  weightIs?: WeightTest,
): MisreadPenaltyTerm[] {
  const found: MisreadPenaltyTerm[] = [];
  const stmts = ownStatements(fn.body);
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind === 'seq') continue;
    const scope = facts.scopes.stmtScopes.get(s) ?? fn.scope;
    const target = s.targets[0];
    const parts = addends(s);
    if (!parts) continue;
    for (const part of parts) {
      const term = termOf(part, scope, s.span.start);
      if (!term) continue;
      const product = strengthProduct(facts, term.expr, scope, term.at);
      if (!product) continue;
      for (const p of penalties) {
        if (!matches(p, product)) continue;
        const key = `${term.expr.span.start}:${term.expr.span.end}`;
        if (seen.has(key)) continue;
        const hit =
          ownGradient(facts, stmts, s, target, parts.filter((x) => x !== part), product.operand, scope, term.at, penalties) ??
          constantSlice(facts, stmts, product.operand, scope, term.at, p, weightIs);
        if (!hit) continue;
        seen.add(key);
        found.push({ ...hit, term: term.expr, operand: product.operand, target, penalty: p, weight: facts.source(p.param.base.span).replace(/\s+/g, ' '), penaltyAt: penaltyPlace(penaltyIndex, p) });
      }
    }
  }
  return found;
}

/**
 * Terms whose penalty is in a cost that only an entry ties to them (ex4-style course code: the cost
 * in one module, the back-propagation in another, a script or notebook that calls both). A function
 * (or the module's top level) of this file calls a cost whose loss penalizes one of its parameters
 * and a gradient function, handing both the same variable as those weights and the same value as
 * the penalty's strength (a parameter, or an instance field its constructor stores): the cost's
 * penalty is the one the gradient function's term must match. Reported where the term is built.
 */
function drivenTerms(facts: Facts): MisreadPenaltyTerm[] {
  const index = programIndex(facts);
  const a = facts.analyzer;
  const byOwner = new Map<Scope, { site: CallSite; target: CallTarget }[]>();
  for (const site of index.calls) {
    if (!inFile(facts, site.call.span)) continue;
    const target = a.callTarget(site.call, site.scope, site.at);
    if (!target || target.constructs) continue;
    const owner = index.enclosingFunction(site.scope)?.scope ?? facts.scopes.root;
    const list = byOwner.get(owner) ?? [];
    list.push({ site, target });
    byOwner.set(owner, list);
  }
  const found: MisreadPenaltyTerm[] = [];
  const seen = new Set<string>();
  for (const calls of byOwner.values()) {
    if (calls.length < 2 || calls.length > MAX_CALLS) continue;
    const envs = new Map<Expr, Env>();
    const envOf = (c: { site: CallSite; target: CallTarget }): Env => {
      let env = envs.get(c.site.call);
      if (!env) envs.set(c.site.call, (env = a.argumentEnv(c.site.call, c.target, c.site.scope, c.site.at, undefined)));
      return env;
    };
    // Gradient functions that may add a term to what they build (syntax only: no facts are built for the others).
    const gradients = calls.filter((c) => mayAddTerm(c.target.fn));
    if (gradients.length === 0) continue;
    for (const cost of calls) {
      const costEnv = envOf(cost);
      // A cost handed one of a gradient call's variables: only then are the cost's module's facts built.
      const paired = gradients.filter((g) => g.target.fn !== cost.target.fn && [...envOf(g).values()].some((v) => [...costEnv.values()].some((w) => sameValue(v, w))));
      if (paired.length === 0) continue;
      const costFacts = facts.program.factsAt(cost.target.fn.span);
      if (!costFacts) continue;
      const penalties = lossFacts(costFacts).penalties.filter((p) => eligiblePenalty(p) && p.site.fn === cost.target.fn);
      if (penalties.length === 0) continue;
      const costIndex = programIndex(costFacts);
      for (const p of penalties) {
        const weightParam = parameterOf(cost.target.fn, p.param.base, costIndex.scopeAt(p.param.base.span.start), p.param.base.span.start, 0);
        const weights = weightParam === undefined ? undefined : costEnv.get(weightParam);
        if (!weights || exprKey(weights.expr) === undefined) continue;
        const strengths = strengthSymbols(p).flatMap((sym) => handedValue(facts, cost, costEnv, sym) ?? []);
        if (strengths.length === 0) continue;
        for (const grad of paired) {
          const gradEnv = envOf(grad);
          if (![...gradEnv.values()].some((v) => sameValue(v, weights))) continue;
          const gradFacts = facts.program.factsAt(grad.target.fn.span);
          if (!gradFacts) continue;
          const known = new Set(localTerms(gradFacts).map((m) => `${m.term.span.start}:${m.term.span.end}`));
          const matches = (_: LossPenalty, product: Product): boolean =>
            [...product.symbols].some((sym) => {
              const handed = handedValue(facts, grad, gradEnv, sym);
              return handed !== undefined && strengths.some((x) => sameValue(x, handed));
            });
          // The gradient function's own parameter that receives the same weights.
          const handedWeights = new Set([...gradEnv].filter(([, v]) => sameValue(v, weights)).map(([name]) => name));
          const weightIs: WeightTest = (e, scope, at) => {
            const param = parameterOf(grad.target.fn, e, scope, at, 0);
            return param !== undefined && handedWeights.has(param);
          };
          for (const m of termsIn(gradFacts, grad.target.fn, [p], matches, seen, costIndex, weightIs)) {
            if (known.has(`${m.term.span.start}:${m.term.span.end}`)) continue;
            found.push({ ...m, driver: { cost: cost.site.call, gradient: grad.site.call, weights: weights.expr } });
          }
        }
      }
    }
  }
  return found;
}

const addsTerm = new WeakMap<FunctionDef, boolean>();

/** A statement of the function adds a product or a local to a value (`G = G / m + t`, `G += t`): where a term can be. */
function mayAddTerm(fn: FunctionDef): boolean {
  let known = addsTerm.get(fn);
  if (known === undefined) {
    known = ownStatements(fn.body).some(
      (s) => s.kind === 'assign' && (addends(s) ?? []).some((part) => part.kind === 'name' || (part.kind === 'binary' && (part.op === '*' || part.op === '/'))),
    );
    addsTerm.set(fn, known);
  }
  return known;
}

/** Calls of one function past which the pairing is not tried (a notebook's top level can make thousands). */
const MAX_CALLS = 400;

const inFile = (facts: Facts, span: Span): boolean => span.start >= facts.file.base && span.start <= facts.file.base + facts.text.length;

type Handed = { expr: Expr; scope: Scope; at: number };

/** The penalty's strength symbols as written, counts of examples aside. */
function strengthSymbols(p: LossPenalty): string[] {
  return p.coef.syms.filter((s) => s.pow > 0 && !isSizeSymbol(s.name)).map((s) => s.name);
}

/**
 * What the caller hands a function for a symbol it reads: the argument of the parameter of that
 * name, or, for `self.x` of a method called on an instance the caller built (`model = Cost(lam)`),
 * the constructor's argument that `__init__` stores, once, in `self.x`.
 */
function handedValue(facts: Facts, call: { site: CallSite; target: CallTarget }, env: Env, sym: string): Handed | undefined {
  const fn = call.target.fn;
  if (!sym.includes('.')) return fn.params.some((q) => q.name === sym) ? env.get(sym) : undefined;
  const [self, field, ...rest] = sym.split('.');
  if (rest.length > 0 || !fn.isMethod || fn.params[0]?.name !== self) return undefined;
  const receiver = call.target.receiver;
  if (receiver?.kind !== 'name') return undefined;
  const built = call.site.scope.lookup(receiver.name, call.site.at);
  if (!built || built.kind !== 'assign' || built.op || built.unpacked || built.value?.kind !== 'call') return undefined;
  const ctor = facts.analyzer.callTarget(built.value, built.scope, built.at);
  if (!ctor?.constructs || !ctor.fn.isMethod || !ctor.fn.params[0]) return undefined;
  const stored = ctor.constructs.scope.members.get(`${ctor.fn.params[0].name}.${field}`) ?? [];
  if (stored.length !== 1) return undefined;
  const b = stored[0];
  if (b.kind !== 'assign' || b.op || b.scope !== ctor.fn.scope || b.value?.kind !== 'name' || b.scope.lookup(b.value.name, b.at)?.kind !== 'param') return undefined;
  return facts.analyzer.argumentEnv(built.value, ctor, built.scope, built.at, undefined).get(b.value.name);
}

/** The same value in the caller: one variable under the same binding (`weights` read by both calls), or equal numbers. */
function sameValue(x: Handed, y: Handed): boolean {
  if (x.expr.kind === 'num' && y.expr.kind === 'num') return x.expr.value === y.expr.value;
  const key = exprKey(x.expr);
  if (key === undefined || key !== exprKey(y.expr)) return false;
  const bx = baseExpr(x.expr);
  const by = baseExpr(y.expr);
  if (bx.kind !== 'name' || by.kind !== 'name') return false;
  const binding = x.scope.lookup(bx.name, x.at);
  return binding !== undefined && binding === y.scope.lookup(by.name, y.at);
}

/**
 * The parameter of `fn` a penalized weight comes from: itself, an element or slice of it, a loop
 * variable over it, or a local given one of those (`w` of `for w in weights`, `weight = layers[k]`).
 */
function parameterOf(fn: FunctionDef, e: Expr, scope: Scope, at: number, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (e.kind === 'index') return parameterOf(fn, e.object, scope, at, depth + 1);
  if (e.kind !== 'name') return undefined;
  const binding = scope.lookup(e.name, at);
  if (!binding) return undefined;
  if (binding.kind === 'param') return fn.params.some((q) => q.name === e.name) && binding.scope === fn.scope ? e.name : undefined;
  if (binding.kind === 'loop') {
    const loop = binding.loop;
    if (!loop || loop.walks || loop.position !== 0 || loop.iter.kind === 'call') return undefined;
    return parameterOf(fn, loop.iter, binding.scope, binding.at, depth + 1);
  }
  if (binding.op || !binding.value || binding.unpacked) return undefined;
  return parameterOf(fn, binding.value, binding.scope, binding.at, depth + 1);
}

/** The terms a statement adds to its target: the summands of `G = a + b` (two or more), or the value of `G += t`. */
function addends(s: Stmt & { kind: 'assign' }): Expr[] | undefined {
  if (s.op === '+') return [s.value];
  if (s.op) return undefined;
  const out: Expr[] = [];
  const visit = (e: Expr, depth: number): void => {
    if (depth > 20) return;
    if (e.kind === 'binary' && e.op === '+') {
      visit(e.left, depth + 1);
      visit(e.right, depth + 1);
    } else out.push(e);
  };
  visit(s.value, 0);
  return out.length >= 2 ? out : undefined;
}

/** The product a summand is, written in place or held in a local given it once before (`reg_term = (lam / m) * D`). */
function termOf(part: Expr, scope: Scope, at: number): { expr: Expr; at: number } | undefined {
  if (part.kind === 'binary' && (part.op === '*' || part.op === '/')) return { expr: part, at };
  if (part.kind !== 'name') return undefined;
  const binding = scope.lookup(part.name, at);
  if (!binding || binding.kind !== 'assign' || binding.op || !binding.value || binding.unpacked) return undefined;
  const value = binding.value;
  return value.kind === 'binary' && (value.op === '*' || value.op === '/') ? { expr: value, at: binding.at } : undefined;
}

/** The factors of a product of `*` and `/`: `(2 * lam / m) * G` → num [2, lam, G], den [m]; anything else is one factor. */
export function productFactors(e: Expr): { num: Expr[]; den: Expr[] } {
  const num: Expr[] = [];
  const den: Expr[] = [];
  const visit = (x: Expr, inverted: boolean, depth: number): void => {
    if (depth > 20) return;
    if (x.kind === 'binary' && x.op === '*') {
      visit(x.left, inverted, depth + 1);
      visit(x.right, inverted, depth + 1);
    } else if (x.kind === 'binary' && x.op === '/') {
      visit(x.left, inverted, depth + 1);
      visit(x.right, !inverted, depth + 1);
    } else (inverted ? den : num).push(x);
  };
  visit(e, false, 0);
  return { num, den };
}

/**
 * A product of scalars and exactly one array operand written as a local name, with the scalar
 * symbols in its numerator: `(lam / m) * D`, `(D * lam) / m`. Undefined for anything else.
 */
function strengthProduct(facts: Facts, e: Expr, scope: Scope, at: number): Product | undefined {
  const { num, den } = productFactors(e);
  const a = facts.analyzer;
  const isScalar = (x: Expr): boolean => {
    const p = a.classify(x, scope, at);
    return !p.tensor && !p.penalty && p.params.length === 0 && p.abs.length === 0 && !p.signs?.length;
  };
  const arrays = num.filter((x) => !isScalar(x));
  if (arrays.length !== 1 || arrays[0].kind !== 'name' || !den.every(isScalar)) return undefined;
  // The strength symbols as written (`self.lam`), and by their last name.
  const symbols = new Set<string>();
  for (const x of num) {
    if (x === arrays[0]) continue;
    for (const s of a.classify(x, scope, at).coef.syms) if (s.pow > 0) symbols.add(s.name);
  }
  for (const x of den) for (const s of a.classify(x, scope, at).coef.syms) if (s.pow < 0) symbols.add(s.name);
  const strengths = new Set([...symbols].map((n) => n.replace(/^.*\./, '')));
  return strengths.size > 0 ? { operand: arrays[0] as Expr & { kind: 'name' }, strengths, symbols } : undefined;
}

/**
 * The penalty belongs to the model whose gradient the function computes: it is added in the same
 * function, in another method of the same class, or in a function that a function calling this
 * one calls too (a training loop that calls the cost and the gradient).
 */
export function sameModel(index: ProgramIndex, fn: FunctionDef, p: LossPenalty): boolean {
  const other = p.site.fn;
  if (!other) return false;
  if (other === fn || (fn.cls !== undefined && other.cls === fn.cls)) return true;
  const mine = index.callersOf(fn);
  for (const c of index.callersOf(other)) if (mine.has(c)) return true;
  return false;
}

/** A penalty read through a variable (`cost = data + reg_cost`) is written where the variable is given its value. */
export function penaltyPlace(index: ProgramIndex, p: LossPenalty): Span {
  const fn = index.enclosingFunction(index.scopeAt(p.span.start));
  let e: Expr | undefined;
  const at = (x: Expr): boolean => x.span.start === p.span.start && x.span.end === p.span.end && x.kind === 'name' && (e = x) !== undefined;
  if (!fn || !ownStatements(fn.body).some((s) => stmtExprs(s).some((x) => someExpr(x, at))) || e?.kind !== 'name') return p.span;
  const binding = index.scopeAt(e.span.start).lookup(e.name, e.span.start);
  return binding?.kind === 'assign' && !binding.op && binding.value ? binding.value.span : p.span;
}

/** The penalty's strength symbols by their last name, counts of examples aside (`lam` of `lam / (2 * m)`). */
export function strengthNames(p: LossPenalty): string[] {
  return p.coef.syms.filter((s) => s.pow > 0 && !isSizeSymbol(s.name)).map((s) => s.name.replace(/^.*\./, ''));
}

/**
 * The term multiplies a copy of the gradient it is added to: the statement is `G = … + term` (or
 * `G += term`) where another summand reads G, the operand is G through copies, slices and joins with
 * zeros, G is no weight (not a penalized one, not one the file steps), and the function returns G.
 */
function ownGradient(
  facts: Facts,
  stmts: Stmt[],
  s: Stmt & { kind: 'assign' },
  target: Expr,
  others: Expr[],
  operand: Expr & { kind: 'name' },
  scope: Scope,
  at: number,
  penalties: LossPenalty[],
): Pick<MisreadPenaltyTerm, 'kind' | 'source'> | undefined {
  const key = exprKey(target);
  if (key === undefined) return undefined;
  const reads = (e: Expr): boolean => someExpr(e, (x) => exprKey(x) === key);
  if (s.op !== '+' && !others.some(reads)) return undefined;
  const baseKey = exprKey(baseExpr(target));
  if (baseKey === undefined || penalties.some((x) => exprKey(x.param.base) === baseKey || x.ids.includes(baseKey))) return undefined;
  if (facts.analyzer.isParam(target, scope, s.span.start)) return undefined;
  const returned = stmts.some((r) => r.kind === 'return' && r.value && (exprKey(r.value) === baseKey || (r.value.kind === 'seq' && r.value.items.some((i) => exprKey(i) === baseKey))));
  if (!returned) return undefined;
  const source = derivedFrom(facts, operand, scope, at, key, 0);
  return source ? { kind: 'gradient', source } : undefined;
}

/**
 * Whether a local's value at `at` is the array `key` names, through plain copies, slices and joins
 * whose other pieces are zeros: the definition that reads it (`D = G`, `D = np.hstack((zeros, D[:, 1:]))`).
 */
function derivedFrom(facts: Facts, e: Expr, scope: Scope, at: number, key: string, depth: number): Expr | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (exprKey(e) === key) return e;
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  if (e.kind === 'index' && e.index.every((i) => i.kind === 'other' || i.kind === 'num')) return derivedFrom(facts, e.object, scope, at, key, depth + 1);
  const copied = copiedArray(e, isModule);
  if (copied) return derivedFrom(facts, copied, scope, at, key, depth + 1);
  const pieces = concatenatedPieces(e, isModule) ?? indexJoinPieces(e, isModule);
  if (pieces) {
    const from = pieces.filter((x) => !zeroValue(x));
    return from.length === 1 && pieces.length > from.length && derivedFrom(facts, from[0], scope, at, key, depth + 1) ? e : undefined;
  }
  if (e.kind !== 'name') return undefined;
  const binding = scope.lookup(e.name, at);
  if (!binding || binding.kind !== 'assign' || binding.op || !binding.value || binding.unpacked) return undefined;
  const found = derivedFrom(facts, binding.value, binding.scope, binding.at, key, depth + 1);
  return found ? (exprKey(binding.value) === key ? binding.value : found) : undefined;
}

/**
 * The term multiplies a copy of W whose exempt slice holds a nonzero constant, where the penalty is
 * on `W[1:]` or `W[:, 1:]`: a join of the constant and the penalty's own slice (`np.c_[np.ones((n, 1)),
 * W[:, 1:]]`), or a copy of W (`W.copy()`) whose slice 0 is then set to a nonzero number.
 */
function constantSlice(
  facts: Facts,
  stmts: Stmt[],
  operand: Expr & { kind: 'name' },
  scope: Scope,
  at: number,
  p: LossPenalty,
  weightIs?: WeightTest,
): Pick<MisreadPenaltyTerm, 'kind' | 'source' | 'constant'> | undefined {
  const exempt = exemptSlice(p.param.expr);
  if (!exempt) return undefined;
  const binding = scope.lookup(operand.name, at);
  if (!binding || binding.kind !== 'assign' || binding.op || !binding.value || binding.unpacked) return undefined;
  const value = binding.value;
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  const pieces = concatenatedPieces(value, isModule) ?? indexJoinPieces(value, isModule);
  if (pieces) {
    const slice = pieces[1];
    const own = weightIs
      ? slice.kind === 'index' && weightIs(slice.object, binding.scope, binding.at) && sameIndices(slice, p.param.expr)
      : sameSlice(slice, p.param.expr);
    if (pieces.length !== 2 || !own) return undefined;
    const constant = nonzeroFill(pieces[0]);
    return constant !== undefined ? { kind: 'constantSlice', source: pieces[0], constant } : undefined;
  }
  const copied = copiedArray(value, isModule);
  if (!copied || exprKey(copied) === undefined) return undefined;
  if (weightIs ? !weightIs(copied, binding.scope, binding.at) : exprKey(copied) !== exprKey(p.param.base)) return undefined;
  // The writes of the copy's entries between the copy and the term: one, of the exempt slice, with a nonzero number.
  const writes = stmts.filter(
    (x): x is Stmt & { kind: 'assign' } =>
      x.kind === 'assign' && x.span.start > binding.at && x.span.start < at && x.targets.some((t) => t.kind === 'index' && exprKey(baseExpr(t)) === operand.name),
  );
  if (writes.length !== 1 || writes[0].op || writes[0].targets.length !== 1) return undefined;
  const written = writes[0].targets[0];
  if (written.kind !== 'index' || written.object.kind !== 'name' || written.index.length !== exempt.axes) return undefined;
  const leading = written.index.slice(0, -1).every((i) => i.kind === 'other' && i.children.length === 0);
  const last = written.index[written.index.length - 1];
  if (!leading || last.kind !== 'num' || last.value !== 0) return undefined;
  // A number written over the slice (`W_[0] = 1`); an array written there is some other computation.
  const constant = writes[0].value.kind === 'call' ? undefined : nonzeroFill(writes[0].value);
  return constant !== undefined ? { kind: 'constantSlice', source: writes[0].value, constant } : undefined;
}

/** A penalty on `W[1:]` or `W[:, 1:]`: every entry but the first slice of the last axis written (the bias). */
function exemptSlice(e: Expr): { axes: number } | undefined {
  if (e.kind !== 'index' || e.index.length === 0 || e.index.length > 2) return undefined;
  const leading = e.index.slice(0, -1).every((i) => i.kind === 'other' && i.children.length === 0);
  return leading && sliceFrom(e.index[e.index.length - 1]) === 1 ? { axes: e.index.length } : undefined;
}

/** The start of a slice `k:` written with no end or step; undefined for anything else. */
function sliceFrom(e: Expr): number | undefined {
  if (e.kind !== 'other' || e.children.length !== 1) return undefined;
  const k = e.children[0];
  return k.kind === 'num' && k.span.start === e.span.start && k.span.end < e.span.end && e.span.end - k.span.end === 1 ? k.value : undefined;
}

/** Two subscripts of the same array with the same plain slices and indices. */
function sameSlice(a: Expr, b: Expr): boolean {
  return a.kind === 'index' && b.kind === 'index' && exprKey(a.object) !== undefined && exprKey(a.object) === exprKey(b.object) && sameIndices(a, b);
}

/** Two subscripts with the same plain slices and indices, whatever arrays they index. */
function sameIndices(a: Expr, b: Expr): boolean {
  if (a.kind !== 'index' || b.kind !== 'index' || a.index.length !== b.index.length) return false;
  return a.index.every((x, k) => {
    const y = b.index[k];
    if (x.kind === 'other' && y.kind === 'other') return (x.children.length === 0 && y.children.length === 0) || (sliceFrom(x) !== undefined && sliceFrom(x) === sliceFrom(y));
    return x.kind === 'num' && y.kind === 'num' && x.value === y.value;
  });
}
