// Regularizer objects: a class (or an object literal) with one method that returns a penalty of its
// weight argument and another that returns a tensor term of the same argument, whatever they are
// called (`__call__`/`grad`, `value`/`grad`, `norm`/`calculate_gradient`, `loss`/`derivative`,
// `{ cost(w) {...}, grad(w) {...} }`). Paired by structure: the value method's return classifies as
// c·R(w), the gradient method's as c·w, c·sign(w), c·|w| or c·w/‖w‖ of the same argument. Both
// methods are then read as one function would be: the value as a penalty added to a loss, the
// gradient as the gradient term it must match, so NB102–NB105 check factor, sign, L1 sign and
// shape with their usual logic (the ½ convention is read from the value method).
import type { Expr, Span, Stmt } from '../ir';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { Facts } from './index';
import type { Env, PenaltyTerm, Summand } from './analysis';
import type { Coef } from '../../math/terms';
import { MEAN_FUNCTIONS, REDUCTION_KEYWORDS, SUM_FUNCTIONS } from './catalogue';
import { penaltyOfProduct } from './analysis';
import { explicitParams, someExpr, type ClassDef, type FunctionDef, type Scope } from './scope';
import type { UpdateSite } from './updates';
import { baseClasses, lambdaFunction, returnsOf, type Returned } from './resolve';
import { programIndex } from './program';
import { isGradientMethodName, isSizeSymbol } from './roles';
import { fullReduction, isZeroSummand } from './reducedDecay';

export interface RegularizerMethod {
  fn: FunctionDef;
  ret: Returned;
  /** The weight parameter bound to the object's placeholder weight. */
  env: Env;
}

export interface RegularizerObject {
  /** The class or object literal, for messages. */
  name: string;
  span: Span;
  /** One expression standing for "the weight" in both methods (a parameter to the analyzer). */
  weight: Expr;
  value: RegularizerMethod & { penalty: PenaltyTerm };
  gradients: RegularizerMethod[];
  /**
   * A method named as the gradient that returns a penalty of the weight too (a scalar), beside the
   * value method: R(w) where ∇R(w) belongs (NB101).
   */
  penaltyAsGradient?: RegularizerMethod & { penalty: PenaltyTerm };
  /**
   * A method named as the gradient that returns c·Σw or c·mean(w), a full reduction of the weight
   * (one number) where c·w belongs, beside the value method (NB106, reducedDecay.ts).
   */
  reducedGradient?: RegularizerMethod;
}

const cache = new WeakMap<Facts, RegularizerObject[]>();

export function regularizerObjects(facts: Facts): RegularizerObject[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

/** The gradient methods' returns as gradient definitions (kind 'gradient'), for the gradient-term rules. */
export function regularizerGradientSites(facts: Facts): UpdateSite[] {
  const sites: UpdateSite[] = [];
  for (const o of regularizerObjects(facts)) {
    for (const g of o.gradients) {
      const increment = facts.analyzer.summands(g.ret.expr, g.ret.scope, g.ret.at, g.env);
      const target: Expr = { kind: 'name', name: g.fn.name, span: g.fn.nameSpan ?? g.fn.span };
      sites.push({ kind: 'gradient', target, increment, span: returnSpan(g), scope: g.ret.scope, at: g.ret.at, penaltyGradientOf: o.value.fn });
    }
  }
  return sites;
}

function returnSpan(m: RegularizerMethod): Span {
  return m.ret.expr.span;
}

function collect(facts: Facts): RegularizerObject[] {
  const out: RegularizerObject[] = [];
  const index = programIndex(facts);
  for (const scope of index.scopes) {
    for (const cls of scope.classes.values()) {
      const methods = [...cls.scope.functions.values()].filter((fn) => fn.isMethod);
      const found = pairEither(facts, cls.name, cls.span, methods);
      if (found) out.push(found);
    }
  }
  for (const { object, scope } of index.objectLiterals) {
    const methods: FunctionDef[] = [];
    for (const entry of object.entries) if (entry.value.kind === 'lambda') methods.push(lambdaFunction(facts.program, entry.value, entry.name, scope));
    const found = methods.length >= 2 ? pairEither(facts, 'the object', object.span, methods) : undefined;
    if (found) out.push(found);
  }
  return out;
}

/** The weight parameter of a method: its only parameter besides the instance. */
function weightParam(fn: FunctionDef): FunctionDef['params'][number] | undefined {
  const params = explicitParams(fn);
  return params.length === 1 && params[0].name !== '' ? params[0] : undefined;
}

/**
 * The weight parameter of a regularizer method: its first parameter besides the instance, the others
 * being scalars it is scaled by (`grad(self, weights, batch_size)`); a part that reads another
 * parameter as a tensor is then no penalty or gradient term of the weight.
 */
function leadingWeightParam(fn: FunctionDef): FunctionDef['params'][number] | undefined {
  const params = explicitParams(fn);
  return params.length >= 1 && /^[A-Za-z_$][\w$]*$/.test(params[0].name) ? params[0] : undefined;
}

interface Reading {
  fn: FunctionDef;
  ret: Returned;
  env: Env;
  /** The whole return is a scalar penalty R(w) (a sum of them): the value method. */
  value?: PenaltyTerm;
  /** The penalties the value is the sum of (scalar or elementwise), for their strengths. */
  parts: PenaltyTerm[];
  /** Each part is c·w, c·sign(w), c·|w| of the weight, or weight alone, with at least one such term. */
  terms: boolean;
  /** Parts that are a bare scalar with no weight in them (`return self.l1`), with their coefficients. */
  constants: Coef[];
  /** Each part is a scalar times a full reduction of the weight (`self.lam * np.sum(w)`). */
  reduced: boolean;
  /** Each part is a term, a part of the weight alone, or a bare scalar. */
  gradientShaped: boolean;
}

/**
 * Methods that take only the weight are read with it bound; failing that, methods that take more
 * (`grad(self, weights, batch_size)`) with their first parameter bound. Methods that take something
 * else first (`compute_term(self, layers, m)` summing over the layers' weights) keep the first reading.
 */
function pairEither(facts: Facts, name: string, span: Span, methods: FunctionDef[]): RegularizerObject | undefined {
  return pair(facts, name, span, methods, false) ?? pair(facts, name, span, methods, true);
}

function pair(facts: Facts, name: string, span: Span, methods: FunctionDef[], leading: boolean): RegularizerObject | undefined {
  const a = facts.analyzer;
  const candidates = methods.flatMap((fn) => {
    const returns = returnsOf(facts.program, fn);
    return returns.length === 1 ? [{ fn, param: leading ? leadingWeightParam(fn) : weightParam(fn), ret: returns[0] }] : [];
  });
  if (leading && !candidates.some((c) => c.param && explicitParams(c.fn).length > 1)) return undefined; // the first reading's
  if (candidates.length < 2) return undefined;
  // One weight for every method that takes a weight, named after the first one's parameter.
  const first = candidates.find((c) => c.param)?.param;
  const weight = first ? a.placeholder(first.name, first.span) : undefined;
  // Methods that all walk their argument in one loop (`for layer in params:`) regularize each item
  // alike: the weight stands for the item, `layer.weights` for a weight of it.
  const items = candidates.map((c) => (c.param ? itemOfWeight(c.fn, c.param.name) : undefined));
  const byItem = candidates.every((c, i) => !c.param || items[i] !== undefined);
  const readings: Reading[] = candidates.map((c, i) => {
    const env: Env = c.param && weight ? new Map([[c.param.name, { expr: weight, scope: c.ret.scope, at: c.ret.at }]]) : new Map();
    const item = items[i];
    if (byItem && item && weight) env.set(item, { expr: weight, scope: c.ret.scope, at: c.ret.at });
    // A count the method is given beside the weight (`batch_size`, `n`) is a scalar both methods divide by.
    if (c.param && leading) {
      for (const p of explicitParams(c.fn).slice(1)) {
        if (isSizeSymbol(p.name)) env.set(p.name, { expr: a.scalarPlaceholder(p.name, p.span), scope: c.ret.scope, at: c.ret.at });
      }
    }
    // Read by item, a weight of the item (`layer.weights`, `layer.bias`) is the weight's.
    const isWeight = (base: Expr): boolean => base === weight || (byItem && base.kind === 'attr' && base.object === weight);
    const onWeight = (params: { base: Expr }[]): boolean => params.length > 0 && params.every((p) => (weight && c.param ? isWeight(p.base) : a.isParam(p.base)));
    const summands = a.summands(c.ret.expr, c.ret.scope, c.ret.at, env);
    const parts = summands.map((x) => a.classifySummand(x));
    // A part the analyzer has no name for (Σw⁴/4 beside c·Σw², w³ beside 2c·w), made of the weight
    // alone: the named parts are still the penalty and its gradient, and are compared as such.
    const unnamed = (i: number, reduced: boolean): boolean => !!c.param && parts[i].tensor && ofWeightAlone(facts, summands[i], c.param.name, reduced);
    // The value is a sum of scalar penalties R(w); an elementwise c·|w| or c·w² is shaped like a gradient.
    const penalties = parts.map((p) => penaltyOfProduct(p));
    const reading: Reading = { fn: c.fn, ret: c.ret, env, parts: [], terms: false, constants: [], reduced: false, gradientShaped: false };
    const named = penalties.map((p) => !!p && p.kind !== 'elemabs' && p.kind !== 'elemsq' && onWeight(p.params));
    if (named.some(Boolean) && named.every((ok, i) => ok || unnamed(i, true))) {
      reading.parts = penalties.filter((p, i): p is PenaltyTerm => !!p && named[i]);
      reading.value = penaltyOfProduct(a.classify(c.ret.expr, c.ret.scope, c.ret.at, env)) ?? reading.parts[0];
      return reading;
    }
    const elementwise = penalties.map((p) => !!p && (p.kind === 'elemabs' || p.kind === 'elemsq') && onWeight(p.params));
    if (parts.length > 0 && elementwise.every(Boolean)) reading.parts = penalties as PenaltyTerm[];
    const term = parts.map((p) => !p.tensor && !p.penalty && onWeight([...p.params, ...p.abs, ...(p.signs ?? [])]) && p.params.length + p.abs.length + (p.signs?.length ?? 0) === 1);
    // `return self.l1 / n` in a method that takes the weight: a constant where the gradient belongs.
    const constant = parts.map((p) => !!c.param && !p.tensor && !p.penalty && p.params.length + p.abs.length + (p.signs?.length ?? 0) === 0 && p.coef.syms.some((x) => x.pow > 0));
    reading.terms = term.some(Boolean);
    reading.constants = parts.filter((_, i) => constant[i]).map((p) => p.coef);
    reading.gradientShaped = (reading.terms || reading.constants.length > 0) && term.every((ok, i) => ok || constant[i] || unnamed(i, false));
    // A running sum's zero start adds nothing (`total = 0`, `total += w.mean()`, `return self.lam * total`).
    const added = summands.filter((x) => !isZeroSummand(x));
    reading.reduced = !!c.param && !!weight && added.length > 0 && added.every((x) => reducedOfWeight(facts, x, isWeight));
    return reading;
  });
  let values = readings.filter((r) => r.value);
  // Two value methods: which one is the penalty is not known by structure (`__call__` may return
  // `self.loss(w)`). When exactly one of two is named as the gradient, it returns R(w) where ∇R(w) belongs.
  let penaltyAsGradient: RegularizerObject['penaltyAsGradient'];
  if (values.length === 2) {
    const named = values.filter((r) => isGradientMethodName(r.fn.name));
    if (named.length === 1) {
      penaltyAsGradient = { fn: named[0].fn, ret: named[0].ret, env: named[0].env, penalty: named[0].value! };
      values = values.filter((r) => r !== named[0]);
    }
  }
  if (values.length > 1) return undefined;
  let value: RegularizerObject['value'] | undefined = values[0] && { fn: values[0].fn, ret: values[0].ret, env: values[0].env, penalty: values[0].value! };
  if (!value) {
    // No scalar penalty: a method returning the penalty elementwise (`lam * np.abs(w) / n`, never
    // the gradient of anything the class computes) is the value when it is the only one, and the
    // gradient methods take the same parameters.
    const elementwise = readings.filter((r) => !r.value && r.parts.length > 0);
    const e = elementwise.length === 1 ? elementwise[0] : undefined;
    const arity = e && explicitParams(e.fn).length;
    if (e && readings.some((r) => r !== e && r.gradientShaped && explicitParams(r.fn).length === arity)) {
      value = { fn: e.fn, ret: e.ret, env: e.env, penalty: e.parts[0] };
    }
  }
  if (!value) return undefined;
  // A constant is the gradient's place only when it is the penalty's own strength (the symbols of
  // the value's coefficients that are no parameter of the methods: `self.l1`, not `n`).
  const own = new Set(methods.flatMap((fn) => explicitParams(fn).map((p) => p.name)));
  const valueRead = readings.find((r) => r.fn === value!.fn)!;
  const strengths = new Set(valueRead.parts.concat(value.penalty).flatMap((p) => p.coef.syms).filter((x) => x.pow > 0 && !own.has(x.name)).map((x) => x.name));
  const gradients: RegularizerMethod[] = [];
  for (const r of readings) {
    if (r === valueRead || r.fn === penaltyAsGradient?.fn || !r.gradientShaped) continue;
    if (r.constants.some((k) => !k.syms.some((x) => x.pow > 0 && strengths.has(x.name)))) continue;
    // With an elementwise value, a gradient method takes the value's parameters.
    if (!valueRead.value && explicitParams(r.fn).length !== explicitParams(value.fn).length) continue;
    gradients.push({ fn: r.fn, ret: r.ret, env: r.env });
  }
  if (penaltyAsGradient) return { name, span, weight: weight ?? value.ret.expr, value, gradients, penaltyAsGradient };
  // Judged by structure first (a scalar times Σw beside a value method of w); the name says which of two scalars is meant as the gradient.
  const reduced = valueRead.value ? readings.find((r) => r !== valueRead && r.reduced && isGradientMethodName(r.fn.name)) : undefined;
  const reducedGradient = reduced && { fn: reduced.fn, ret: reduced.ret, env: reduced.env };
  if (reducedGradient) return { name, span, weight: weight ?? value.ret.expr, value, gradients, reducedGradient };
  return gradients.length > 0 ? { name, span, weight: weight ?? value.ret.expr, value, gradients } : undefined;
}

/**
 * The variable of the one loop a method walks its weight argument with (`for layer in params:`), when
 * the method reads the argument nowhere else and defines no function inside.
 */
function itemOfWeight(fn: FunctionDef, param: string): string | undefined {
  const loops: (Stmt & { kind: 'for' })[] = [];
  let elsewhere = false;
  const reads = (e: Expr): void => {
    if (someExpr(e, (x) => x.kind === 'name' && x.name === param)) elsewhere = true;
  };
  const walk = (stmts: Stmt[], depth: number): void => {
    if (depth > 32) elsewhere = true;
    for (const st of elsewhere ? [] : stmts) {
      if (st.kind === 'for') {
        if (st.iter.kind === 'name' && st.iter.name === param) loops.push(st);
        else reads(st.iter);
        reads(st.target);
        walk(st.body, depth + 1);
      } else if (st.kind === 'assign') {
        st.targets.forEach(reads);
        reads(st.value);
      } else if (st.kind === 'expr') reads(st.expr);
      else if (st.kind === 'block') {
        st.heads.forEach(reads);
        walk(st.body, depth + 1);
      } else if (st.kind === 'return') {
        if (st.value) reads(st.value);
      } else if (st.kind === 'function' || st.kind === 'class') elsewhere = true;
    }
  };
  walk(fn.body, 0);
  const target = loops.length === 1 ? loops[0].target : undefined;
  return !elsewhere && target?.kind === 'name' && target.name !== param ? target.name : undefined;
}

/**
 * A summand whose factors read no name but the weight parameter (and modules, numbers): `w ** 3`,
 * `np.power(w, 3)`; when `reduced`, a factor is a full sum or mean of it (`np.sum(w ** 4) / 4`), a
 * scalar a penalty can hold; otherwise none is, an elementwise term a gradient can hold.
 */
function ofWeightAlone(facts: Facts, s: Summand, weight: string, reduced: boolean): boolean {
  let reductions = 0;
  const a = facts.analyzer;
  for (const f of [...s.num, ...s.den]) {
    // A scalar coefficient (`self.c` distributed over the sum) is no part of the term's shape.
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    if (!p.tensor && !p.penalty && p.params.length + p.abs.length + (p.signs?.length ?? 0) === 0) continue;
    let ok = true;
    const callees = new Set<Expr>();
    someExpr(f.expr, (x) => {
      if (x.kind === 'call') callees.add(x.callee);
      if (x.kind === 'name' && x.name !== weight && !callees.has(x) && !a.isModule(x)) ok = false;
      else if (x.kind === 'lambda' || x.kind === 'comprehension' || x.kind === 'other') ok = false;
      else if (x.kind === 'call') {
        const name = x.callee.kind === 'attr' ? x.callee.name : x.callee.kind === 'name' ? x.callee.name : '';
        if (SUM_FUNCTIONS.has(name) || MEAN_FUNCTIONS.has(name)) {
          if (x.kwargs.some((k) => REDUCTION_KEYWORDS.has(k.name)) || x.args.length > 1) ok = false;
          else if (x === f.expr) reductions++;
          else ok = false;
        }
      }
      return !ok;
    });
    if (!ok) return false;
  }
  return reduced ? reductions > 0 : reductions === 0;
}

/** A scalar times one full reduction of the weight (`self.lam * np.sum(w)`, `lam * w.mean() / n`). */
function reducedOfWeight(facts: Facts, s: Summand, isWeight: (base: Expr) => boolean): boolean {
  const a = facts.analyzer;
  let reductions = 0;
  for (const f of [...s.num, ...s.den]) {
    const r = s.num.includes(f) ? fullReduction(facts, f.expr, f.scope, f.at, f.env) : undefined;
    if (r) {
      if (!r.params.some((p) => isWeight(p.base))) return false;
      reductions++;
      continue;
    }
    const p = a.classify(f.expr, f.scope, f.at, f.env);
    if (p.tensor || p.penalty || p.params.length + p.abs.length + (p.signs?.length ?? 0) > 0) return false;
  }
  return reductions === 1;
}

/** Whether a scope is inside one of the file's regularizer objects' value methods (their returns are loss sites). */
export function regularizerValueSites(facts: Facts): { expr: Expr; scope: Scope; at: number; span: Span; env: Env; fn: FunctionDef }[] {
  return regularizerObjects(facts).map((o) => ({ expr: o.value.ret.expr, scope: o.value.ret.scope, at: o.value.ret.at, span: o.value.ret.expr.span, env: o.value.env, fn: o.value.fn }));
}

// ------------------------------------------------------------------ one method per class

export interface OverrideGradientSite {
  facts: Facts;
  site: UpdateSite;
}

const overrideCache = new WeakMap<Facts, OverrideGradientSite[]>();
const MAX_FILES = 64;

/** A method of one file's class that overrides its one base's method of the same name, with one return c·w, c·sign(w) or c·|w|. */
interface OverrideCandidate {
  cls: ClassDef;
  base: ClassDef;
  fn: FunctionDef;
  ret: Returned;
}

/**
 * Each file's candidates, once per program: every entry that reaches the file asks for the same
 * list (its classes, their one base, their one-return methods), so it is read once, not once per
 * entry (the walk over every scope of every reached file was 1 % of a run on real code).
 */
const overrideCandidatesMemo = new WeakMap<Program, WeakMap<ParsedFile, OverrideCandidate[]>>();

function overrideCandidates(program: Program, file: ParsedFile): OverrideCandidate[] {
  let byFile = overrideCandidatesMemo.get(program);
  if (!byFile) overrideCandidatesMemo.set(program, (byFile = new WeakMap()));
  let found = byFile.get(file);
  if (found) return found;
  found = [];
  const scopes = new Set<Scope>([file.scopes.root, ...file.scopes.stmtScopes.values()]);
  for (const scope of scopes) {
    for (const cls of scope.classes.values()) {
      const bases = baseClasses(program, cls);
      if (bases.length !== 1) continue;
      for (const fn of cls.scope.functions.values()) {
        const param = fn.isMethod ? weightParam(fn) : undefined;
        if (!param || !bases[0].scope.functions.has(fn.name)) continue;
        // A guard's `return 0` (a zero strength) aside, one return.
        const returns = returnsOf(program, fn).filter((r) => !(r.expr.kind === 'num' && r.expr.value === 0));
        // c·w, c·sign(w), c·|w|: a product that reads the weight (not `forward(x)` returning a layer's call).
        if (returns.length !== 1 || !someExpr(returns[0].expr, (x) => x.kind === 'binary' && x.op === '*' && someExpr(x, (y) => y.kind === 'name' && y.name === param.name))) continue;
        found.push({ cls, base: bases[0], fn, ret: returns[0] });
      }
    }
  }
  byFile.set(file, found);
  return found;
}

/**
 * Regularizer classes with one weight method each, overriding one base method (`L1.function(w)`,
 * `L2.function(w)` under `Regularizer.function`): when one override returns c·w, an odd function
 * of w that no penalty value is, the base method computes a gradient, and every override's single
 * return c·w, c·sign(w) or c·|w| is a gradient definition. Searched over the files the entry
 * reaches (a package's `__init__` that imports the subclasses); classes the file pairs as
 * regularizer objects already (a value and a gradient method) are left to that reading.
 */
export function overrideGradientSites(entry: Facts): OverrideGradientSite[] {
  const known = overrideCache.get(entry);
  if (known) return known;
  const out: OverrideGradientSite[] = [];
  overrideCache.set(entry, out);
  const program = entry.program;
  const parsed = program.parsedOf(entry.scopes.root.span);
  if (!parsed) return out;
  // First by syntax alone, no file's facts built: one-method overrides of a common base's method,
  // one return each, grouped by base and name. Most programs have no group of two.
  const baseIds = new Map<ClassDef, number>();
  const candidates = new Map<string, { file: ParsedFile; cls: ClassDef; fn: FunctionDef; ret: Returned }[]>();
  for (const file of program.reachable(parsed, MAX_FILES)) {
    for (const { cls, base, fn, ret } of overrideCandidates(program, file)) {
      let id = baseIds.get(base);
      if (id === undefined) baseIds.set(base, (id = baseIds.size));
      const key = `${id}.${fn.name}`;
      candidates.set(key, [...(candidates.get(key) ?? []), { file, cls, fn, ret }]);
    }
  }
  const groups = new Map<string, { facts: Facts; fn: FunctionDef; ret: Returned; kind: 'linear' | 'sign' | 'abs' }[]>();
  for (const [key, members] of candidates) {
    if (members.length < 2) continue;
    for (const { file, cls, fn, ret } of members) {
      const facts = file === parsed ? entry : program.facts(file);
      // Classes the file pairs as regularizer objects already (a value and a gradient method) are left to that reading.
      if (regularizerObjects(facts).some((o) => o.span.start === cls.span.start)) continue;
      const a = facts.analyzer;
      const param = weightParam(fn)!;
      const weight = a.placeholder(param.name, param.span);
      const env: Env = new Map([[param.name, { expr: weight, scope: ret.scope, at: ret.at }]]);
      const parts = a.summands(ret.expr, ret.scope, ret.at, env).map((x) => a.classifySummand(x));
      if (parts.length !== 1) continue;
      const p = parts[0];
      if (p.tensor || p.penalty) continue;
      const signs = p.signs ?? [];
      const kind = p.params.length === 1 && p.abs.length + signs.length === 0 && p.params[0].base === weight ? 'linear'
        : signs.length === 1 && p.params.length + p.abs.length === 0 && signs[0].base === weight ? 'sign'
        : p.abs.length === 1 && p.params.length + signs.length === 0 && p.abs[0].base === weight ? 'abs' : undefined;
      if (!kind) continue;
      groups.set(key, [...(groups.get(key) ?? []), { facts, fn, ret, kind }]);
    }
  }
  for (const members of groups.values()) {
    if (members.length < 2 || !members.some((m) => m.kind === 'linear')) continue;
    for (const m of members) {
      const param = weightParam(m.fn)!;
      const a = m.facts.analyzer;
      const weight = a.placeholder(param.name, param.span);
      const env: Env = new Map([[param.name, { expr: weight, scope: m.ret.scope, at: m.ret.at }]]);
      const increment = a.summands(m.ret.expr, m.ret.scope, m.ret.at, env);
      const target: Expr = { kind: 'name', name: m.fn.name, span: m.fn.nameSpan ?? m.fn.span };
      out.push({ facts: m.facts, site: { kind: 'gradient', target, increment, span: m.ret.expr.span, scope: m.ret.scope, at: m.ret.at } });
    }
  }
  return out;
}
