// A decay the framework's base class applies before the step a subclass writes (NB107): a Keras
// optimizer subclass that sets the base's `weight_decay` (passed to `super().__init__` or assigned to
// `self.weight_decay`) and decays the variable again in its own `update_step`. The base (catalogue.ts,
// KERAS_BASE_DECAY) shrinks every variable by lr·weight_decay·variable before each `update_step`, so
// the variable decays twice per step.
//
// Decided by data flow inside the two methods: the value the constructor leaves in the attribute
// (its last write, in order; a literal None or 0 decays nothing, a value passed on through `**kwargs`
// is unknown), and, in `update_step`, a write of the variable argument whose value, expanded through
// locals and casts, holds a term −c·variable with c reading that attribute (or another attribute the
// constructor stored the same argument in), or a gradient given +c·variable that reaches such a write.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { explicitParams, forEachChild, namesIn, someExpr, type ClassDef, type FunctionDef } from './scope';
import { ownStatements } from './program';
import { stmtExprs } from './loops';
import { baseClasses, isSelfName, methodOf, resolveExpr } from './resolve';
import { EMPTY_ARGUMENT_NAMES, KERAS_BASE_DECAY, KERAS_VARIABLE_WRITES, VALUE_ATTRIBUTES, dtypeCastOperand, frameworkPath, kerasBaseDecays, scalarCastOperand, type ModulePath } from './catalogue';
import { numberOf } from './analysis';
import { baseExpr, exprKey } from './keys';
import { trimSpan } from './steps';

export interface InheritedDecay {
  /** The framework base class as the code names it (`keras.optimizers.Optimizer`). */
  base: string;
  /** Where the constructor gives the base its strength: `self.weight_decay = wd`, or `weight_decay=wd` in `super().__init__(…)`. */
  knob: Span;
  /** The strength as written there. */
  strength: string;
  /** The step's own decay: the statement, and whether it shrinks the variable or adds to the gradient. */
  decay: Span;
  kind: 'step' | 'gradient';
  /** For a decay added to a gradient, the local it is added to (`gradient`, `d_p`). */
  into?: string;
  /** The variable as `update_step` names it. */
  variable: string;
}

const cache = new WeakMap<Facts, InheritedDecay[]>();

export function inheritedDecays(facts: Facts): InheritedDecay[] {
  let found = cache.get(facts);
  if (!found) {
    found = [];
    if (facts.language === 'python') {
      for (const step of facts.scopes.methodsNamed(KERAS_BASE_DECAY.step)) {
        const d = stepDecay(facts, step);
        if (d) found.push(d);
      }
    }
    cache.set(facts, found);
  }
  return found;
}

function stepDecay(facts: Facts, step: FunctionDef): InheritedDecay | undefined {
  const cls = step.cls;
  const self = step.isMethod ? step.params[0]?.name : undefined;
  const args = explicitParams(step);
  const variable = args[KERAS_BASE_DECAY.variableArg]?.name;
  const gradient = args[KERAS_BASE_DECAY.gradientArg]?.name;
  if (!cls || !self || !variable || !gradient) return undefined;
  const base = decayingBase(facts, cls, 0);
  if (!base || !decayRuns(facts, cls)) return undefined;
  const init = methodOf(facts.program, cls, '__init__');
  if (!init?.cls) return undefined;
  const knob = constructorKnob(facts, init);
  if (!knob) return undefined;
  const reads = new Set([KERAS_BASE_DECAY.attribute, ...knob.sameAs]);
  const local = new Locals(step, (e) => facts.analyzer.modulePath(e));
  const isKnob = (e: Expr): boolean => e.kind === 'attr' && e.object.kind === 'name' && e.object.name === self && reads.has(e.name);
  const decay = ownDecay(step, self, variable, local, isKnob);
  if (!decay) return undefined;
  return { base: base.written, knob: knob.span, strength: facts.source(knob.value.span).replace(/\s+/g, ' '), decay: trimSpan(facts, decay.span), kind: decay.kind, into: decay.into, variable };
}

// ------------------------------------------------------------------ the class and its base

/** The Keras base the class derives from, directly or through classes of the project. */
function decayingBase(facts: Facts, cls: ClassDef, depth: number): { written: string } | undefined {
  if (depth > 4) return undefined;
  const program = facts.program;
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start);
    if (def?.kind === 'class') {
      const found = def.cls !== cls ? decayingBase(facts, def.cls, depth + 1) : undefined;
      if (found) return found;
      continue;
    }
    const parsed = program.parsedOf(b.span);
    if (!parsed || parsed.language !== 'python') continue;
    if (kerasBaseDecays(frameworkPath(b, cls.outer, cls.span.start, parsed.scopes.imports, 'python'))) return { written: program.source(b.span) };
  }
  return undefined;
}

/** No class of the project between the subclass and the base replaces the decay, or an apply method without calling the base's. */
function decayRuns(facts: Facts, cls: ClassDef): boolean {
  if (methodOf(facts.program, cls, KERAS_BASE_DECAY.decayMethod)) return false;
  for (const name of KERAS_BASE_DECAY.applyMethods) {
    const own = methodOf(facts.program, cls, name);
    if (own && !own.body.some((s) => stmtSome(s, (e) => isSuperCall(e, name)))) return false;
  }
  return true;
}

// ------------------------------------------------------------------ the constructor

interface Knob {
  /** The value left in the attribute, and where it is given. */
  value: Expr;
  span: Span;
  /** Other attributes of `self` the constructor stores the same argument in (`self.wd = wd` beside `weight_decay=wd`). */
  sameAs: string[];
}

/**
 * The strength the constructor leaves in the base's attribute: its writes in order, `super().__init__`
 * (its keyword, or the base's default None) and `self.weight_decay = …`. Undefined when none is
 * left (None, 0, False), or when the value is not known: a write under a condition or in a loop,
 * `**kwargs` handed up without the keyword, a base of the project in between, more positional arguments.
 */
function constructorKnob(facts: Facts, init: FunctionDef): Knob | undefined {
  const self = init.params[0]?.name;
  const cls = init.cls;
  if (!self || !cls) return undefined;
  const throughProject = baseClasses(facts.program, cls).length > 0;
  let value: { expr: Expr; span: Span } | undefined | 'unknown';
  const visit = (list: Stmt[], nested: boolean): void => {
    for (const s of list) {
      if (s.kind === 'function' || s.kind === 'class') continue;
      if (s.kind === 'block' || s.kind === 'for') {
        visit(s.body, true);
        continue;
      }
      if (s.kind === 'expr' && s.expr.kind === 'call' && isBaseInit(s.expr, self)) {
        if (nested || throughProject) return void (value = 'unknown');
        value = handedUp(s.expr);
        continue;
      }
      if (s.kind !== 'assign') continue;
      for (const t of s.targets) {
        if (t.kind !== 'attr' || t.name !== KERAS_BASE_DECAY.attribute || t.object.kind !== 'name' || t.object.name !== self) continue;
        value = nested || s.op ? 'unknown' : { expr: s.value, span: s.span };
      }
    }
  };
  visit(init.body, false);
  if (!value || value === 'unknown' || decaysNothing(value.expr)) return undefined;
  // `self.wd = weight_decay` beside `weight_decay=weight_decay`: the same strength under another name.
  const sameAs: string[] = [];
  const given = value.expr;
  if (given.kind === 'name' && init.params.some((p) => p.name === given.name)) {
    for (const s of ownStatements(init.body)) {
      if (s.kind !== 'assign' || s.op || s.value.kind !== 'name' || s.value.name !== given.name) continue;
      for (const t of s.targets) if (t.kind === 'attr' && t.object.kind === 'name' && t.object.name === self) sameAs.push(t.name);
    }
  }
  return { value: given, span: value.span, sameAs };
}

/** `super().__init__(…)`, `super(Cls, self).__init__(…)`, `Base.__init__(self, …)`. */
function isBaseInit(call: Expr & { kind: 'call' }, self: string): boolean {
  if (call.callee.kind !== 'attr' || call.callee.name !== '__init__') return false;
  const object = call.callee.object;
  if (object.kind === 'call' && object.callee.kind === 'name' && object.callee.name === 'super') return true;
  return object.kind !== 'call' && call.args[0]?.kind === 'name' && call.args[0].name === self;
}

/** What a call of the base's constructor leaves in the attribute: its keyword, the default (None), or unknown. */
function handedUp(call: Expr & { kind: 'call' }): { expr: Expr; span: Span } | undefined | 'unknown' {
  const kw = call.kwargs.find((k) => k.name === KERAS_BASE_DECAY.keyword);
  if (kw) return { expr: kw.value, span: kw.span ?? kw.value.span };
  const explicit = call.callee.kind === 'attr' && call.callee.object.kind !== 'call';
  const positional = call.args.slice(explicit ? 1 : 0);
  // `**kwargs` or `*args` may carry it; a second positional argument may be it.
  if (positional.some((a) => a.kind === 'other') || positional.length > 1) return 'unknown';
  return undefined;
}

function decaysNothing(e: Expr): boolean {
  return numberOf(e) === 0 || (e.kind === 'name' && EMPTY_ARGUMENT_NAMES.has(e.name));
}

// ------------------------------------------------------------------ the step

/** Locals of a function bound by one plain assignment: read through, as the step computes them. */
class Locals {
  private readonly values = new Map<string, Expr | null>();
  constructor(fn: FunctionDef, readonly modulePath?: ModulePath) {
    for (const s of ownStatements(fn.body)) {
      if (s.kind === 'for') for (const n of namesIn(s.target)) this.values.set(n, null);
      if (s.kind !== 'assign') continue;
      for (const t of s.targets) {
        if (t.kind === 'name') this.values.set(t.name, this.values.has(t.name) || s.op ? null : s.value);
        else for (const n of namesIn(t)) this.values.set(n, null);
      }
    }
    for (const p of fn.params) this.values.set(p.name, null);
  }
  value(name: string): Expr | undefined {
    return this.values.get(name) ?? undefined;
  }
}

/** A term of a sum: a sign and the factors multiplied (the variable's own factor left out). */
interface Term {
  sign: 1 | -1;
  factors: Expr[];
}

const MAX_TERMS = 64;
const MAX_DEPTH = 24;

/**
 * The step's own decay of the variable: a write of it (`v.assign(v * (1 - lr * wd))`,
 * `v.assign_sub(v * wd * lr)`, `self.assign_sub(v, lr * (u + wd * v))`) that subtracts c·v with c
 * reading the knob, or a gradient given +c·v (`gradient = gradient + wd * v`) that reaches a write of v.
 */
function ownDecay(step: FunctionDef, self: string, variable: string, local: Locals, isKnob: (e: Expr) => boolean): { span: Span; kind: 'step' | 'gradient'; into?: string } | undefined {
  const simples = ownStatements(step.body).filter((s) => s.kind === 'assign' || s.kind === 'expr');
  const knobTerm = (t: Term): boolean => t.factors.some((f) => someExpr(f, isKnob));
  for (let i = 0; i < simples.length; i++) {
    const s = simples[i];
    const write = variableWrite(s, self, variable);
    if (write) {
      const terms = linearIn(write.value, variable, local, 0);
      // `assign` replaces the value: the old one is the term 1·v, a decay is −c·v.
      const sign = write.sign === 0 ? -1 : (-write.sign as 1 | -1);
      if (terms?.some((t) => t.sign === sign && knobTerm(t))) return { span: s.span, kind: 'step' };
      continue;
    }
    if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name' || (s.op && s.op !== '+' && s.op !== '-')) continue;
    const terms = linearIn(s.value, variable, local, 0);
    const sign = s.op === '-' ? -1 : 1;
    if (!terms?.some((t) => t.sign === sign && knobTerm(t))) continue;
    const into = s.targets[0].name;
    if (reaches(simples, i, into, self, variable)) return { span: s.span, kind: 'gradient', into };
  }
  return undefined;
}

/** `v.assign(x)`, `v.assign_sub(x)`, `self.assign_add(v, x)`: the value given and how it enters. */
function variableWrite(s: Stmt, self: string, variable: string): { value: Expr; sign: -1 | 0 | 1 } | undefined {
  if (s.kind !== 'expr' || s.expr.kind !== 'call' || s.expr.callee.kind !== 'attr') return undefined;
  const call = s.expr;
  const callee = s.expr.callee as Expr & { kind: 'attr' };
  const sign = KERAS_VARIABLE_WRITES[callee.name];
  if (sign === undefined) return undefined;
  const object = callee.object;
  if (object.kind === 'name' && object.name === variable && call.args.length >= 1) return { value: call.args[0], sign };
  if (object.kind === 'name' && object.name === self && call.args.length >= 2 && isName(call.args[0], variable)) return { value: call.args[1], sign };
  return undefined;
}

/** Does the local `name`, from statement `from` on, flow into a write of the variable (through locals and the state it updates)? */
function reaches(simples: Stmt[], from: number, name: string, self: string, variable: string): boolean {
  const reached = new Set([name]);
  const reads = (e: Expr): boolean => someExpr(e, (x) => {
    const k = exprKey(x);
    return k !== undefined && reached.has(k);
  });
  for (let i = from + 1; i < simples.length && i < from + 200; i++) {
    const s = simples[i];
    const write = variableWrite(s, self, variable);
    if (write) {
      if (reads(write.value)) return true;
      continue;
    }
    if (s.kind === 'assign') {
      if (!reads(s.value)) continue;
      for (const t of s.targets) for (const k of [exprKey(t), exprKey(baseExpr(t))]) if (k !== undefined) reached.add(k);
    } else if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && KERAS_VARIABLE_WRITES[s.expr.callee.name] !== undefined) {
      // `m.assign(b * m + (1 - b) * g)`, `self.assign(m, …)`: the state now holds the gradient.
      const callee = s.expr.callee;
      const target = callee.object.kind === 'name' && callee.object.name === self ? s.expr.args[0] : callee.object;
      const value = target === callee.object ? s.expr.args[0] : s.expr.args[1];
      const k = target && exprKey(baseExpr(target));
      if (value && k !== undefined && reads(value)) reached.add(k);
    }
  }
  return false;
}

/**
 * The terms of `e` that are a multiple of the variable, each with its sign and scalar factors, read
 * through the function's locals and casts; sums inside a scalar factor are split
 * (`v * (1 - lr * wd)` → +v, −lr·wd·v). Undefined when it cannot be read as a sum of such terms
 * and terms without the variable (a product of two of them, a call of it).
 */
function linearIn(e: Expr, variable: string, local: Locals, depth: number): Term[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (!mentions(e, variable, local, depth)) return [];
  switch (e.kind) {
    case 'name':
      if (e.name === variable) return [{ sign: 1, factors: [] }];
      return through(e, local, (v) => linearIn(v, variable, local, depth + 1));
    case 'unary':
      if (e.op === '+') return linearIn(e.arg, variable, local, depth + 1);
      return e.op === '-' ? negate(linearIn(e.arg, variable, local, depth + 1)) : undefined;
    case 'binary': {
      if (e.op === '+' || e.op === '-') {
        const left = linearIn(e.left, variable, local, depth + 1);
        const right = linearIn(e.right, variable, local, depth + 1);
        if (!left || !right) return undefined;
        return bounded([...left, ...(e.op === '-' ? negate(right)! : right)]);
      }
      if (e.op === '*' || e.op === '/') {
        const leftHas = mentions(e.left, variable, local, depth);
        const rightHas = mentions(e.right, variable, local, depth);
        if (leftHas && rightHas) return undefined;
        if (e.op === '/' && rightHas) return undefined;
        const [vary, scale] = leftHas ? [e.left, e.right] : [e.right, e.left];
        const terms = linearIn(vary, variable, local, depth + 1);
        // A divisor is one opaque factor; a multiplier is split into its terms.
        const factors = e.op === '/' ? [{ sign: 1 as const, factors: [] }] : scalarTerms(scale, local, depth + 1);
        if (!terms || !factors) return undefined;
        const out: Term[] = [];
        for (const t of terms) for (const f of factors) out.push({ sign: (t.sign * f.sign) as 1 | -1, factors: [...t.factors, ...f.factors] });
        return bounded(out);
      }
      return undefined;
    }
    case 'attr':
      return e.object.kind === 'name' && e.object.name === variable && VALUE_ATTRIBUTES.has(e.name) ? [{ sign: 1, factors: [] }] : undefined;
    case 'call': {
      const cast = scalarCastOperand(e, local.modulePath) ?? dtypeCastOperand(e);
      return cast ? linearIn(cast, variable, local, depth + 1) : undefined;
    }
    default:
      return undefined;
  }
}

/** A scalar factor as a sum of signed products (`1 - lr * wd` → +1, −lr·wd), read through locals and casts. */
function scalarTerms(e: Expr, local: Locals, depth: number): Term[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  switch (e.kind) {
    case 'name': {
      const via = through(e, local, (v) => scalarTerms(v, local, depth + 1));
      return via && via.length > 0 ? via : [{ sign: 1, factors: [e] }];
    }
    case 'unary':
      if (e.op === '+') return scalarTerms(e.arg, local, depth + 1);
      return e.op === '-' ? negate(scalarTerms(e.arg, local, depth + 1)) : [{ sign: 1, factors: [e] }];
    case 'binary': {
      if (e.op === '+' || e.op === '-') {
        const left = scalarTerms(e.left, local, depth + 1);
        const right = scalarTerms(e.right, local, depth + 1);
        if (!left || !right) return undefined;
        return bounded([...left, ...(e.op === '-' ? negate(right)! : right)]);
      }
      if (e.op === '*') {
        const left = scalarTerms(e.left, local, depth + 1);
        const right = scalarTerms(e.right, local, depth + 1);
        if (!left || !right) return undefined;
        const out: Term[] = [];
        for (const a of left) for (const b of right) out.push({ sign: (a.sign * b.sign) as 1 | -1, factors: [...a.factors, ...b.factors] });
        return bounded(out);
      }
      return [{ sign: 1, factors: [e] }];
    }
    case 'call': {
      const cast = scalarCastOperand(e, local.modulePath) ?? dtypeCastOperand(e);
      return cast ? scalarTerms(cast, local, depth + 1) : [{ sign: 1, factors: [e] }];
    }
    default:
      return [{ sign: 1, factors: [e] }];
  }
}

function through(e: Expr & { kind: 'name' }, local: Locals, read: (value: Expr) => Term[] | undefined): Term[] | undefined {
  const value = local.value(e.name);
  return value ? read(value) : [];
}

function negate(terms: Term[] | undefined): Term[] | undefined {
  return terms?.map((t) => ({ sign: (-t.sign) as 1 | -1, factors: t.factors }));
}

function bounded(terms: Term[]): Term[] | undefined {
  return terms.length > MAX_TERMS ? undefined : terms;
}

/**
 * Does `e` read the variable's value, directly or through locals? Its attributes (`variable.dtype`,
 * `variable.shape`) and the optimizer's own methods given it (`self._get_variable_index(variable)`)
 * read no value.
 */
function mentions(e: Expr, variable: string, local: Locals, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  switch (e.kind) {
    case 'name': {
      if (e.name === variable) return true;
      const value = local.value(e.name);
      return value !== undefined && mentions(value, variable, local, depth + 1);
    }
    case 'attr':
      if (e.object.kind === 'name' && e.object.name === variable) return VALUE_ATTRIBUTES.has(e.name);
      return mentions(e.object, variable, local, depth + 1);
    case 'call':
      if (e.callee.kind === 'attr' && e.callee.object.kind === 'name' && isSelfName(e.callee.object.name)) return false;
      break;
    default:
      break;
  }
  let found = false;
  forEachChild(e, (c) => {
    if (!found && mentions(c, variable, local, depth + 1)) found = true;
  });
  return found;
}

// ------------------------------------------------------------------ walking

function isName(e: Expr | undefined, name: string): boolean {
  return e?.kind === 'name' && e.name === name;
}

function isSuperCall(e: Expr, method: string): boolean {
  return e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === method && e.callee.object.kind === 'call' && e.callee.object.callee.kind === 'name' && e.callee.object.callee.name === 'super';
}


/** Does any expression of a statement (or of the statements nested in it) pass `test`? */
function stmtSome(s: Stmt, test: (e: Expr) => boolean): boolean {
  return ownStatements([s]).some((x) => stmtExprs(x).some((e) => someExpr(e, test)));
}
