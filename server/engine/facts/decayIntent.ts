// What the code says its coupled decay is for, for NB202: L2 regularization it means to add to the
// gradient (then coupled decay is what it asked for), or weight decay it gets coupled. And the
// reverse, for NB406: a decoupled decay in an adaptive step whose coefficient the code calls an L2
// penalty (a stricter reading, since torch's "weight decay (L2 penalty)" is copied everywhere).
//
// Read by data flow first: where the decay coefficient's value comes from, following variables,
// `self.x` attributes, a function's or constructor's parameter, a param group's key back to the
// constructor argument stored under it (`defaults = dict(weight_decay=weight_decay)`), config
// entries and argparse options. Then what those sources are called (roles.ts) and what their own
// documentation says: the docstring entry of the parameter (of the function, and of the class for
// a constructor) and an argparse option's `help`. A file that builds a decoupled optimizer with the
// same coefficient beside the coupled one compares the two on purpose.
//
// Comments other than docstrings and JSDoc are not read: the parsed file keeps only Nabla's own directives.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { baseExpr, exprKey, lastComponent } from './keys';
import { ifChainAt, someExpr, type Binding, type ClassDef, type FunctionDef, type Scope } from './scope';
import {
  docSaysL2NotDecay, docSaysL2Penalty, isLearningRateName, isParsedArgsName, namesL2NotDecay, saysDecoupledDecay, saysDecoupledDecayFlag, saysDecoupledDecaySwitch, saysL2Penalty, textSaysDecoupledDecay,
  textSaysL2NotDecay, textSaysL2Penalty,
} from './roles';
import { optimizerSteps, squaredBase, stepTerms, type StateUpdate } from './optimizerSteps';
import type { Poly } from '../../math/poly';
import { numberOf } from './analysis';
import { ARITHMETIC_CALLS, arithmeticCall, arithmeticPlacement, isArgumentParse, isDecoupledAdaptive } from './catalogue';
import { programIndex, spanKey } from './program';
import { stmtExprs, subExprs, within } from './loops';
import { frameworkFacts, type Arg, type HandDecayFact, type OptimizerFact } from './frameworks';
import { statementsOf } from './adaptiveDecay';
import { methodOf } from './resolve';
import { sameExpr } from './doubleDecay';

/**
 * Why a coupled decay is deliberate L2: a source named for L2, its documentation, a comparison with
 * a decoupled optimizer, a switch between decoupled and coupled decay set to coupled, or a term
 * written as a squared penalty's gradient (2·λ·w).
 */
export interface L2Intent {
  kind: 'name' | 'doc' | 'comparison' | 'flag' | 'gradient';
  span: Span;
}

interface Trace {
  names: { name: string; span: Span }[];
  docs: { text: string; param?: string; span: Span }[];
}

const MAX_DEPTH = 8;

/** Coupled L2 that a torch optimizer's decay argument says it wants. */
export function optimizerL2Intent(facts: Facts, opt: OptimizerFact, arg: Arg): L2Intent | undefined {
  const trace: Trace = { names: [], docs: [] };
  follow(facts, arg.expr, arg.ctx.scope, arg.ctx.at, 0, trace);
  return judged(trace) ?? comparison(facts, opt, arg);
}

/**
 * Coupled L2 that a hand-written step's decay coefficient says it wants. A step in a class named
 * for decoupled decay (`AdamW`, `SGDW`) means weight decay whatever its docstring copied.
 */
export function handDecayL2Intent(facts: Facts, hand: HandDecayFact): L2Intent | undefined {
  const cls = enclosingClass(facts, hand.span);
  // In a class named for decoupled decay (`GrokFastAdamW`) an L2 name or document says nothing, but a
  // decouple switch turned off around the coupled branch is still the user's choice.
  if (cls && saysDecoupledDecay(cls.name)) return decoupleSwitch(facts, hand, cls);
  // 2·λ·w is the gradient of the penalty λ‖w‖², derived by hand: the code adds an L2 penalty's gradient.
  if (hand.coef && Math.abs(hand.coef.num - 2) < 1e-12 && hand.coef.syms.length > 0) return { kind: 'gradient', span: hand.span };
  const trace: Trace = { names: [], docs: [] };
  for (const f of hand.coefFactors) follow(facts, f.expr, f.scope, f.at, 0, trace);
  return judged(trace) ?? decoupleSwitch(facts, hand, cls);
}

/** A decoupled decay inside an adaptive step whose coefficient the code calls an L2 penalty (NB406). */
export interface DecoupledAsL2 {
  intent: L2Intent;
  /** The step's parameter update, with the second moment it is divided by (√v̂), and its first moment when it has one. */
  update: Span;
  secondMoment: StateUpdate;
  firstMoment?: StateUpdate;
  /** The gradient the moments average, as keyed in the step (`grad`, `p.grad`, `dw`), when one is. */
  gradient?: string;
  /**
   * The moment's statement reads the gradient under that key. Not so for an element of an array
   * (the step keys `g[j]` of `g = grads[i]` as `grads`) or a local alias of it.
   */
  gradientWritten: boolean;
  /** The factors of the decay's coefficient other than the learning rate (`group['weight_decay']`), as written. */
  strength: Expr[];
  /** The learning rate factor, when the decay has one. */
  lr?: Expr;
  /** The family the recognizer named the step (`Adam`, `AdamW`, `RMSprop`), when it did. */
  family?: string;
}

/**
 * Decoupled decay (`p.mul_(1 - lr * wd)`, `w -= lr * wd * w`) where coupled L2 was meant: the weight
 * is shrunk outside the adaptive ratio of a step that divides by the root of a second moment, and
 * the coefficient traces (the same data flow as NB202's intent) to a source named for an L2 penalty
 * and not for a decay (`l2`, `l2_reg`), or documented as L2 regularization and not as a decay. The
 * PyTorch docstring `weight decay (L2 penalty)` is copied onto classes that decouple on purpose and
 * does not count. Nothing may say decoupled: the class or function named for it (`AdamW`), a switch
 * turned on around the decay (`if self.weight_decouple:`, `if group['adamw']:`, or any flag other
 * than the coefficient itself, `if self.shrink:`), or a docstring on the way (the class's or
 * function's: `decoupled weight decay`, `AdamW-style`).
 *
 * Plain SGD is left out (the two forms are the same update there), and so is heavy-ball momentum: at
 * rest, v = g/(1 − μ), so decoupled decay λ is L2 of strength λ(1 − μ), the same regularizer on
 * another scale. Only an adaptive denominator makes the two different regularizers.
 */
export function handDecayDecoupledAsL2(facts: Facts, hand: HandDecayFact): DecoupledAsL2 | undefined {
  if (hand.kind !== 'decoupled' || hand.coefFactors.length === 0) return undefined;
  const own = facts.program.factsAt(hand.span) ?? facts;
  const cls = enclosingClass(facts, hand.span);
  if (cls && saysDecoupledDecay(cls.name)) return undefined;
  const fn = programIndex(own).enclosingFunction(hand.ctx.scope);
  if (fn && saysDecoupledDecay(fn.name)) return undefined;
  const adaptive = adaptiveStepOf(own, hand);
  if (!adaptive) return undefined;
  // Which factor is the learning rate: the one the adaptive term is also scaled by (data flow), else by name.
  const termSyms = new Set(adaptive.scalars);
  const isLr = (e: Expr): boolean => {
    const key = exprKey(e);
    return (key !== undefined && termSyms.has(key)) || ((e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && isLearningRateName(lastComponent(e) ?? ''));
  };
  const factors = hand.coefFactors.flatMap((f) => localDecayFactors(facts, f, hand.target) ?? [f]);
  const lr = factors.find((f) => isLr(f.expr));
  const strength = factors.filter((f) => f !== lr);
  if (strength.length === 0) return undefined;
  const trace: Trace = { names: [], docs: [] };
  for (const f of strength) follow(facts, f.expr, f.scope, f.at, 0, trace);
  // The documentation on the way, and the class's and function's own, must not say decoupled.
  const docs = [...trace.docs.map((d) => d.text), ...ownDocs(own, fn, cls)];
  if (docs.some(textSaysDecoupledDecay) || trace.names.some((n) => saysDecoupledDecaySwitch(n.name))) return undefined;
  if (guardsOf(own, hand.span).some((g) => g.on && switchNames(g.expr, g.scope, g.at).some(saysDecoupledDecaySwitch))) return undefined;
  if (decoupledOnSwitch(own, hand, cls)) return undefined;
  // Any other switch turned on around the shrink (`if self.shrink:`, `if group['direct']:`) is a form
  // the user opts into; the coefficient itself (`if wd:`) and a switch named for L2 are not.
  const coefNames = new Set(trace.names.map((n) => n.name));
  const optIn = (g: Guard): boolean =>
    g.on && (g.expr.kind === 'name' || g.expr.kind === 'attr' || g.expr.kind === 'index') && !switchNames(g.expr, g.scope, g.at).some((n) => coefNames.has(n) || saysL2Penalty(n));
  if (guardsOf(own, hand.span).some(optIn)) return undefined;
  const intent = strictJudged(trace);
  if (!intent) return undefined;
  return { intent, update: adaptive.update, secondMoment: adaptive.second, firstMoment: adaptive.first, gradient: adaptive.gradient, gradientWritten: adaptive.written, strength: strength.map((f) => f.expr), lr: lr?.expr, family: adaptive.family };
}

type CoefFactor = HandDecayFact['coefFactors'][number];

/**
 * The factors of a local that holds the whole decay term (`shrink = -(lr * l2) * p`,
 * `const shrink = p.mul(this.l2 * this.lr).neg()`): its value is bound once, a negated product whose
 * one operand is the decayed parameter; the other operands are the coefficient's factors.
 */
function localDecayFactors(facts: Facts, f: CoefFactor, target: Expr): CoefFactor[] | undefined {
  if (f.expr.kind !== 'name') return undefined;
  const b = f.scope.lookup(f.expr.name, f.at);
  if (b?.kind !== 'assign' || b.op || !b.value || b.unpacked || (b.scope.bindings.get(f.expr.name) ?? []).length !== 1) return undefined;
  const param = exprKey(baseExpr(target));
  if (param === undefined) return undefined;
  const isModule = (x: Expr): boolean => facts.analyzer.isModule(x);
  const operands: Expr[] = [];
  const collect = (x: Expr, depth: number): boolean => {
    if (depth > 12) return false;
    if (x.kind === 'unary' && (x.op === '-' || x.op === '+')) return collect(x.arg, depth + 1);
    if (x.kind === 'binary' && x.op === '*') return collect(x.left, depth + 1) && collect(x.right, depth + 1);
    if (x.kind === 'call') {
      const arith = arithmeticCall(x, isModule);
      if (arith?.op === '*' && !arith.inPlace) return collect(arith.left, depth + 1) && collect(arith.right, depth + 1);
      // `x.neg()`: the catalogue's negation as a method.
      if (x.callee.kind === 'attr' && x.args.length === 0 && x.kwargs.length === 0 && arithmeticPlacement(x) === 'out-of-place' && ARITHMETIC_CALLS[x.callee.name] === 'neg') return collect(x.callee.object, depth + 1);
    }
    operands.push(x);
    return true;
  };
  if (!collect(b.value, 0)) return undefined;
  const own = operands.filter((x) => exprKey(baseExpr(x)) === param);
  if (own.length !== 1) return undefined;
  const rest = operands.filter((x) => x !== own[0]);
  return rest.length > 0 ? rest.map((expr) => ({ expr, scope: b.scope, at: b.at })) : undefined;
}

/**
 * A framework optimizer that decays decoupled and adaptively (`torch.optim.AdamW`, `optax.adamw`,
 * Keras 3 `Adam(weight_decay=…)`), given a coefficient named for an L2 penalty and not a decay, or
 * documented as L2 regularization and not as a decay (the same trace and judgement as a hand-written
 * step's). Silent when anything on the way says decoupled, and when the same coefficient also goes
 * to a coupled optimizer in the file (an L2-versus-decoupled comparison).
 */
export function optimizerDecoupledAsL2(facts: Facts, opt: OptimizerFact, arg: Arg): L2Intent | undefined {
  if (!opt.decoupled || !isDecoupledAdaptive(opt.framework, opt.name)) return undefined;
  const trace: Trace = { names: [], docs: [] };
  follow(facts, arg.expr, arg.ctx.scope, arg.ctx.at, 0, trace);
  if (trace.docs.some((d) => textSaysDecoupledDecay(d.text)) || trace.names.some((n) => saysDecoupledDecaySwitch(n.name))) return undefined;
  const intent = strictJudged(trace);
  if (!intent) return undefined;
  // The same knob given to a coupled optimizer too: the file compares the two forms on purpose.
  const isScale = (e: Expr): boolean => numberOf(e) !== undefined || ((e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && isLearningRateName(lastComponent(e) ?? ''));
  const mine = knobSources(arg.expr, arg.ctx.scope, arg.ctx.at, isScale);
  for (const other of frameworkFacts(facts).optimizers) {
    if (other === opt || other.decoupled || other.decayOff) continue;
    if (other.decay.some((x) => x.arg && knobSources(x.arg.expr, x.arg.ctx.scope, x.arg.ctx.at, isScale).some((k) => mine.some((m) => sameKnob(m, k))))) return undefined;
  }
  return intent;
}

/** A source named for an L2 penalty and not for a decay (`l2`, `l2_reg`), or documented as L2 regularization and not as a decay. */
function strictJudged(trace: Trace): L2Intent | undefined {
  const named = trace.names.find((n) => namesL2NotDecay(n.name));
  if (named) return { kind: 'name', span: named.span };
  const doc = trace.docs.find((d) => (d.param !== undefined ? docSaysL2NotDecay(d.text, d.param) : textSaysL2NotDecay(d.text)));
  return doc ? { kind: 'doc', span: doc.span } : undefined;
}

/** The docstrings of the function a decay is in and of its class. */
function ownDocs(facts: Facts, fn: FunctionDef | undefined, cls: ClassDef | undefined): string[] {
  const out: string[] = [];
  const fnDoc = fn && (fn.doc ?? docstring(fn.body));
  if (fnDoc) out.push(fnDoc.value);
  if (cls) {
    const stmt = programIndex(facts).stmtBySpan.get(spanKey(cls.span));
    const doc = stmt?.kind === 'class' ? (stmt.doc ?? docstring(stmt.body)) : undefined;
    if (doc) out.push(doc.value);
  }
  return out;
}

/**
 * A decoupled decay under a switch that, turned off, guards a coupled decay in the same class or
 * function (`if wd and group['mode']: p.mul_(…)` / `if wd and not group['mode']: grad += wd * p`): the
 * code offers both forms, so the decoupled one is chosen.
 */
function decoupledOnSwitch(facts: Facts, hand: HandDecayFact, cls: ClassDef | undefined): boolean {
  const on = guardsOf(facts, hand.span).filter((g) => g.on && exprKey(g.expr) !== undefined);
  if (on.length === 0) return false;
  const home = (h: HandDecayFact): Span | undefined => (cls ? enclosingClass(facts, h.span)?.span : programIndex(facts).functionOfScope(h.ctx.scope)?.span);
  const here = home(hand);
  if (!here) return false;
  return frameworkFacts(facts).handDecays.some((h) => {
    if (h.kind !== 'coupled') return false;
    const there = home(h);
    return there !== undefined && there.start === here.start && there.end === here.end && guardsOf(facts, h.span).some((x) => !x.on && on.some((g) => exprKey(g.expr) === exprKey(x.expr)));
  });
}

/**
 * The adaptive step a decoupled decay shrinks the parameter of: an optimizer step (optimizerSteps.ts)
 * in the same function whose update of that parameter divides by the root of a second moment (a
 * state that averages or sums a squared gradient), or by the max of an Adamax-style state.
 */
function adaptiveStepOf(facts: Facts, hand: HandDecayFact): { update: Span; second: StateUpdate; first?: StateUpdate; gradient?: string; written: boolean; scalars: string[]; family?: string } | undefined {
  const key = exprKey(baseExpr(hand.target));
  if (key === undefined) return undefined;
  for (const step of optimizerSteps(facts)) {
    if (!within(hand.span, step.fn.span)) continue;
    for (const p of step.params) {
      if (p.eq.branched || (p.eq.key !== key && p.eq.key !== exprKey(hand.target))) continue;
      for (const term of stepTerms(step, p)) {
        const den = term.denominator.find((d) => {
          const s = step.states.get(d.key);
          return s !== undefined && ((d.sqrt && s.adds.some((a) => squaredBase(a.x) !== undefined)) || s.max);
        });
        if (!den) continue;
        const second = step.states.get(den.key)!;
        const first = term.numerator.map((n) => step.states.get(n.key)).find((s): s is StateUpdate => s !== undefined && s !== second);
        const gradient = first?.adds.length === 1 ? singleSymbol(first.adds[0].x) : second.adds.map((a) => squaredBase(a.x)).find((g) => g !== undefined);
        const scalars = term.mono.fs.filter((f) => f.atom.k === 'sym' && f.n > 0 && !step.states.has(f.atom.key)).map((f) => (f.atom as { key: string }).key);
        const written = gradient !== undefined && readsKey(facts, (first ?? second).eq.spans[0], gradient);
        return { update: p.eq.spans[p.eq.spans.length - 1], second, first, gradient, written, scalars, family: step.family };
      }
    }
  }
  return undefined;
}

/** Whether the statement at `span` reads `key` as written (`g` in `m = b1 * m + (1 - b1) * g`). */
function readsKey(facts: Facts, span: Span, key: string): boolean {
  const stmt = programIndex(facts).stmtBySpan.get(spanKey(span));
  if (!stmt) return false;
  return stmtExprs(stmt).some((root) => subExprs(root).some((x) => (x.kind === 'name' || x.kind === 'attr' || x.kind === 'index') && exprKey(x) === key));
}

/** The one symbol of a one-factor tensor part (`g` of (1 − β₁)·g). */
function singleSymbol(x: Poly): string | undefined {
  const tensor = x.length === 1 ? x[0].fs.filter((f) => f.atom.k === 'sym') : [];
  return tensor.length === 1 && tensor[0].n === 1 && tensor[0].atom.k === 'sym' ? tensor[0].atom.key : undefined;
}

/**
 * A coupled decay that runs only when a decoupled-decay switch is off: `if not self.weight_decouple:`,
 * the `else` of `if self.decoupled:`, `if wd != 0 and not group['decouple']:`. The switch is one the
 * same class (or function) also turns on to guard a decoupled decay, or one named for decoupled
 * decay (roles.ts). Choosing the coupled form with such a switch asks for L2.
 */
function decoupleSwitch(facts: Facts, hand: HandDecayFact, cls: ClassDef | undefined): L2Intent | undefined {
  const own = facts.program.factsAt(hand.span) ?? facts;
  const off = guardsOf(own, hand.span).filter((g) => !g.on && exprKey(g.expr) !== undefined && (g.expr.kind === 'name' || g.expr.kind === 'attr' || g.expr.kind === 'index'));
  if (off.length === 0) return undefined;
  const home = (h: HandDecayFact): Span | undefined => (cls ? enclosingClass(facts, h.span)?.span : programIndex(own).functionOfScope(h.ctx.scope)?.span);
  const here = home(hand);
  for (const g of off) {
    const key = exprKey(g.expr);
    // The same switch turned on around a decoupled decay in the same class or function.
    const pairs = frameworkFacts(own).handDecays.some((h) => {
      if (h.kind !== 'decoupled' || !here) return false;
      const there = home(h);
      return there !== undefined && there.start === here.start && there.end === here.end && guardsOf(own, h.span).some((x) => x.on && exprKey(x.expr) === key);
    });
    if (pairs || switchNames(g.expr, g.scope, g.at).some(saysDecoupledDecayFlag)) return { kind: 'flag', span: g.expr.span };
    if (sameTermOnSwitch(own, hand, key!)) return { kind: 'flag', span: g.expr.span };
  }
  return undefined;
}

/**
 * The same decay term (the coefficient's factors times the parameter) written again in the same
 * function, outside the gradient, under the switch turned on: `if (!o.adamW && wd !== 0) g += wd * p[i]`
 * beside `if (o.adamW && wd !== 0) update += lr * wd * p[i]` (a reference that offers both forms and
 * folds the decoupled decay into the update it subtracts). Read only for a coupled decay already
 * behind the switch turned off.
 */
function sameTermOnSwitch(facts: Facts, hand: HandDecayFact, key: string): boolean {
  const fn = programIndex(facts).functionOfScope(hand.ctx.scope);
  if (!fn) return false;
  const term = termAt(fn.body, hand.span);
  if (!term) return false;
  const factorKeys = productKeys(term);
  const targetKey = exprKey(hand.target);
  if (factorKeys.length < 2 || factorKeys.some((k) => k === undefined) || targetKey === undefined) return false;
  for (const s of statementsOf(fn.body)) {
    if (s.kind === 'block' || s.kind === 'for' || within(hand.span, s.span)) continue;
    const writes = s.kind === 'assign' ? s.targets.map((t) => exprKey(t)) : [];
    if (writes.includes(targetKey)) continue;
    const found = stmtExprs(s).some((root) => subExprs(root).some((x) => x.kind === 'binary' && x.op === '*' && (() => {
      const keys = productKeys(x);
      return factorKeys.every((k) => keys.includes(k));
    })()));
    if (found && guardsOf(facts, s.span).some((g) => g.on && exprKey(g.expr) === key)) return true;
  }
  return false;
}

/** The expression written exactly at `span` among a function's statements. */
function termAt(body: Stmt[], span: Span): Expr | undefined {
  for (const s of statementsOf(body)) {
    if (!within(span, s.span)) continue;
    for (const root of stmtExprs(s)) for (const x of subExprs(root)) if (x.span.start === span.start && x.span.end === span.end) return x;
  }
  return undefined;
}

/** The keys of a product's factors (`lr * wd * p[i]`: lr, wd, p[i]). */
function productKeys(e: Expr, depth = 0): (string | undefined)[] {
  if (depth < 20 && e.kind === 'binary' && e.op === '*') return [...productKeys(e.left, depth + 1), ...productKeys(e.right, depth + 1)];
  return [exprKey(e)];
}

/** The names a switch's value is read through: `self.weight_decouple`, the local it is copied to, the parameter it comes from. */
function switchNames(e: Expr, scope: Scope, at: number, depth = 0): string[] {
  if (depth > MAX_DEPTH || (e.kind !== 'name' && e.kind !== 'attr' && e.kind !== 'index')) return [];
  const own = lastComponent(e);
  const key = exprKey(e);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  const further = b?.kind === 'assign' && b.value && !b.op && !b.unpacked ? switchNames(b.value, b.scope, b.at, depth + 1) : [];
  return own !== undefined ? [own, ...further] : further;
}

/** One condition a statement runs under: `expr` is true (`on`) or false. */
interface Guard {
  expr: Expr;
  on: boolean;
  scope: Scope;
  at: number;
}

/**
 * The conditions a span runs under, from the `if` chains around it in its file: an `if` clause's
 * condition holds, an `elif`/`else` clause's earlier conditions do not. A condition splits into its
 * parts where that is exact (`not a` is `a` off, `a and b` both on, `not (a or b)` both off).
 */
function guardsOf(facts: Facts, span: Span): Guard[] {
  const out: Guard[] = [];
  const scopeAt = (s: Stmt): Scope => facts.scopes.stmtScopes.get(s) ?? facts.scopes.root;
  const visit = (list: Stmt[], depth: number): void => {
    if (depth > 200) return;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (!within(span, s.span)) {
        // An `elif`/`else` clause is lowered as a sibling block inside the `if` statement's span.
        continue;
      }
      if (s.kind === 'block' && s.label === 'if' && s.heads.length > 0) {
        const members = ifChainAt(list, i);
        i += members.length - 1;
        const clause = members.findIndex((m) => m.body.some((b) => within(span, b.span)));
        if (clause < 0) return;
        const held = members[clause].heads.flatMap((h) => conjunctsOf(h, 0));
        members.slice(0, clause).forEach((m) =>
          m.heads.forEach((h) => {
            parts(h, false, scopeAt(m), m.span.start, out);
            // `if a and flag: … elif a:` — a holds here, so the earlier clause failed on flag.
            const failed = conjunctsOf(h, 0);
            const rest = failed.filter((c) => !held.some((x) => sameExpr(c, x)));
            if (failed.length > 1 && rest.length === 1) parts(rest[0], false, scopeAt(m), m.span.start, out);
          }),
        );
        members[clause].heads.forEach((h) => parts(h, true, scopeAt(members[clause]), members[clause].span.start, out));
        return visit(members[clause].body, depth + 1);
      }
      if (s.kind === 'function' || s.kind === 'class' || s.kind === 'for' || s.kind === 'block') return visit(s.body, depth + 1);
      // A callback's body (`tf.tidy(() => { ... })`): the statements of the lambda around the span.
      let inner: Stmt[] | undefined;
      for (const root of stmtExprs(s)) {
        someExpr(root, (x) => {
          if (x.kind === 'lambda' && x.stmts.length > 0 && within(span, x.span)) inner = x.stmts;
          return false;
        });
      }
      if (inner) visit(inner, depth + 1);
      return;
    }
  };
  visit(facts.module.body, 0);
  return out;
}

/** The parts of `a and b and c`; the condition itself when it is not a conjunction. */
function conjunctsOf(e: Expr, depth: number): Expr[] {
  if (depth < 50 && e.kind === 'other' && e.ops && e.ops.length > 0 && e.ops.every((o) => o === 'and')) return e.children.flatMap((c) => conjunctsOf(c, depth + 1));
  return [e];
}

function parts(e: Expr, on: boolean, scope: Scope, at: number, out: Guard[]): void {
  if (e.kind === 'unary' && e.op === 'not') return parts(e.arg, !on, scope, at, out);
  // `a and b` holds: both hold; `a or b` fails: both fail.
  if (e.kind === 'other' && e.ops && e.ops.length > 0 && e.ops.every((o) => o === (on ? 'and' : 'or'))) {
    for (const c of e.children) parts(c, on, scope, at, out);
    return;
  }
  out.push({ expr: e, on, scope, at });
}

function judged(trace: Trace): L2Intent | undefined {
  const named = trace.names.find((n) => saysL2Penalty(n.name));
  if (named) return { kind: 'name', span: named.span };
  const doc = trace.docs.find((d) => (d.param !== undefined ? docSaysL2Penalty(d.text, d.param) : textSaysL2Penalty(d.text)));
  return doc ? { kind: 'doc', span: doc.span } : undefined;
}

/** Where a coefficient's value comes from: the names met on the way and the documentation of its sources. */
function follow(facts: Facts, e: Expr, scope: Scope, at: number, depth: number, out: Trace): void {
  if (depth > MAX_DEPTH) return;
  const d = depth + 1;
  switch (e.kind) {
    case 'binary':
      follow(facts, e.left, scope, at, d, out);
      follow(facts, e.right, scope, at, d, out);
      return;
    case 'unary':
      follow(facts, e.arg, scope, at, d, out);
      return;
    case 'call':
      // `float(args.l2)`, `float(cfg['l2'])`: a conversion keeps the source.
      if (e.callee.kind === 'name' && e.args.length === 1 && ['float', 'int', 'Number', 'parseFloat'].includes(e.callee.name)) follow(facts, e.args[0], scope, at, d, out);
      // `p.mul(l2 * lr).neg()`, `tf.mul(l2, w)`: arithmetic written as calls (the catalogue's), read as its operator form is.
      else if (e.callee.kind === 'attr' && arithmeticPlacement(e) === 'out-of-place') {
        if (!facts.analyzer.isModule(e.callee.object)) follow(facts, e.callee.object, scope, at, d, out);
        for (const a of e.args) follow(facts, a, scope, at, d, out);
      }
      return;
    case 'name':
    case 'attr':
    case 'index':
      break;
    default:
      return;
  }
  const field = e.kind === 'name' ? e.name : e.kind === 'attr' ? e.name : e.index.length === 1 && e.index[0].kind === 'str' ? e.index[0].value : undefined;
  if (field !== undefined) out.names.push({ name: field, span: e.span });
  const key = exprKey(e);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  if (b?.kind === 'assign' && b.value && !b.op) return follow(facts, b.value, b.scope, b.at, d, out);
  if (b?.kind === 'param') {
    parameterDocs(facts, b.scope, b.key, b.span, out);
    return callerArguments(facts, b.scope, b.key, b.span, d, out);
  }
  if (e.kind === 'attr' && parsedArgs(e.object, scope, at)) {
    const option = frameworkFacts(facts).argparseOption(e.name);
    if (option) {
      for (const a of option.args) if (a.kind === 'str') out.names.push({ name: a.value.replace(/^-+/, '').replace(/-/g, '_'), span: a.span });
      const help = option.kwargs.find((k) => k.name === 'help')?.value;
      if (help?.kind === 'str') out.docs.push({ text: help.value, span: help.span });
    }
    return;
  }
  // `group['weight_decay']` in an optimizer's step: the constructor argument stored under that key.
  if (e.kind === 'index' && field !== undefined && !b) {
    const cls = enclosingClass(facts, e.span);
    const init = cls && (methodOf(facts.program, cls, '__init__') ?? methodOf(facts.program, cls, 'constructor'));
    const param = init && storedUnder(init, field);
    if (init && param) {
      out.names.push({ name: param, span: init.span });
      parameterDocs(facts, init.scope, param, init.span, out);
    }
  }
}

/**
 * A parameter's value comes from its callers: a functional kernel (`radam(params, ..., weight_decay=
 * group['weight_decay'])`) is documented by the optimizer class that calls it. Callers in the
 * function's own file; depth-bounded with the rest of the trace.
 */
function callerArguments(facts: Facts, scope: Scope, param: string, span: Span, depth: number, out: Trace): void {
  const own = facts.program.factsAt(span);
  if (!own) return;
  const index = programIndex(own);
  const fn = index.functionOfScope(scope);
  const position = fn ? fn.params.findIndex((p) => p.name === param) : -1;
  if (!fn || position < 0) return;
  const offset = fn.isMethod ? 1 : 0;
  for (const { call, scope: s, at } of index.callsTo(fn)) {
    if (call.args.some((a) => a.kind === 'other')) continue;
    const arg = call.kwargs.find((k) => k.name === param)?.value ?? (position - offset >= 0 ? call.args[position - offset] : undefined);
    if (arg) follow(own, arg, s, at, depth, out);
  }
}

/** `args` of `args = parser.parse_args()`, or a name that reads like parsed arguments. */
function parsedArgs(object: Expr, scope: Scope, at: number): boolean {
  const key = exprKey(object);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  if (b?.kind === 'assign' && b.value?.kind === 'call' && b.value.callee.kind === 'attr' && isArgumentParse(b.value.callee.name)) return true;
  return isParsedArgsName(lastComponent(object) ?? '');
}

/** The constructor parameter stored under `key` in a dict the constructor builds (`dict(weight_decay=weight_decay)`, `{'weight_decay': wd}`). */
function storedUnder(init: FunctionDef, key: string): string | undefined {
  const params = new Set(init.params.map((p) => p.name));
  for (const s of allStmts(init.body)) {
    for (const root of stmtExprs(s)) {
      for (const x of subExprs(root)) {
        const entries = x.kind === 'object' ? x.entries : x.kind === 'call' && x.callee.kind === 'name' && x.callee.name === 'dict' ? x.kwargs : [];
        const entry = entries.find((k) => k.name === key);
        if (entry?.value.kind === 'name' && params.has(entry.value.name)) return entry.value.name;
        // `super().__init__(params, lr, betas, eps, weight_decay)`: handed on to the base optimizer,
        // whose param groups keep each constructor argument under its own name.
        if (params.has(key) && superInit(x) && [...x.args, ...x.kwargs.map((k) => k.value)].some((a) => a.kind === 'name' && a.name === key)) return key;
      }
    }
  }
  return undefined;
}

/** `super().__init__(...)` or `super(Cls, self).__init__(...)`. */
function superInit(x: Expr): x is Expr & { kind: 'call' } {
  return x.kind === 'call' && x.callee.kind === 'attr' && x.callee.name === '__init__' && x.callee.object.kind === 'call' && x.callee.object.callee.kind === 'name' && x.callee.object.callee.name === 'super';
}

function allStmts(body: Stmt[], depth = 0): Stmt[] {
  if (depth > 20) return [];
  return body.flatMap((s) => [s, ...(s.kind === 'block' || s.kind === 'for' ? allStmts(s.body, depth + 1) : [])]);
}

/** The docstrings (JSDoc in TS/JS) that document a function's parameter: the function's, and its class's for a constructor. */
function parameterDocs(facts: Facts, scope: Scope, param: string, span: Span, out: Trace): void {
  const parsedFacts = facts.program.factsAt(span);
  if (!parsedFacts) return;
  const fn = programIndex(parsedFacts).functionOfScope(scope);
  if (!fn) return;
  const own = fn.doc ?? docstring(fn.body);
  if (own) out.docs.push({ text: own.value, param, span: own.span });
  if (fn.cls && fn.scope.parent === fn.cls.scope) {
    const stmt = programIndex(parsedFacts).stmtBySpan.get(spanKey(fn.cls.span));
    const doc = stmt?.kind === 'class' ? (stmt.doc ?? docstring(stmt.body)) : undefined;
    if (doc) out.docs.push({ text: doc.value, param, span: doc.span });
  }
}

export function docstring(body: Stmt[]): (Expr & { kind: 'str' }) | undefined {
  const first = body[0];
  return first?.kind === 'expr' && first.expr.kind === 'str' ? first.expr : undefined;
}

function enclosingClass(facts: Facts, span: Span): ClassDef | undefined {
  const parsedFacts = facts.program.factsAt(span) ?? facts;
  let best: ClassDef | undefined;
  for (const s of programIndex(parsedFacts).scopes) {
    const c = s.classDef;
    if (c && within(span, c.span) && (!best || within(c.span, best.span))) best = c;
  }
  return best;
}

/**
 * The same file builds a decoupled optimizer with the same coefficient variable
 * (`Adam(..., weight_decay=WD)` beside `AdamW(..., weight_decay=WD)`): an Adam-versus-AdamW
 * comparison wants the coupled form. Equal literals are not a comparison: the variable must be
 * the same one at both places. The value is followed to its sources, through assignments and
 * through scaling by a learning rate or a constant, so a coefficient converted for the decoupled
 * form (`args.weight_decay = args.weight_decay / args.lr` before `AdamW`) is still the same knob.
 */
function comparison(facts: Facts, opt: OptimizerFact, arg: Arg): L2Intent | undefined {
  const fw = frameworkFacts(facts);
  const lr = opt.arg('lr');
  const isScale = (e: Expr, scope: Scope, at: number): boolean =>
    numberOf(e) !== undefined ||
    (lr !== undefined && sameVariable(lr.expr, lr.ctx.scope, lr.ctx.at, e, scope, at)) ||
    ((e.kind === 'name' || e.kind === 'attr' || e.kind === 'index') && isLearningRateName(lastComponent(e) ?? ''));
  const mine = knobSources(arg.expr, arg.ctx.scope, arg.ctx.at, isScale);
  if (mine.length === 0) return undefined;
  const same = (e: Expr, scope: Scope, at: number): boolean => knobSources(e, scope, at, isScale).some((k) => mine.some((m) => sameKnob(m, k)));
  for (const other of fw.optimizers) {
    if (other === opt || !other.decoupled || other.decayOff) continue;
    if (other.decay.some((x) => x.arg && same(x.arg.expr, x.arg.ctx.scope, x.arg.ctx.at))) return { kind: 'comparison', span: other.call.span };
  }
  for (const site of programIndex(facts).calls) {
    if (fw.optimizers.some((o) => o.call === site.call)) continue;
    if (![...site.call.args, ...site.call.kwargs.map((k) => k.value)].some((a) => same(a, site.scope, site.at))) continue;
    const target = facts.analyzer.callTarget(site.call, site.scope, site.at);
    const cls = target?.constructs;
    // A class the program cannot see (a notebook's `from adamW import AdamW`) is judged by its name.
    const callee = site.call.callee.kind === 'name' ? site.call.callee.name : site.call.callee.kind === 'attr' ? site.call.callee.name : undefined;
    if (cls ? decoupledClass(facts, cls) : !target && callee !== undefined && saysDecoupledDecay(callee)) return { kind: 'comparison', span: site.call.span };
  }
  return undefined;
}

/** A variable a coefficient reads: its key, the binding it reads, and the binding of its root object (`args` of `args.wd`). */
interface Knob {
  key: string;
  binding?: Binding;
  root?: Binding;
}

/**
 * The variables a coefficient's value comes from: the variable written at the place, then the
 * values assigned to it, through conversions (`float(x)`) and scaling by a learning rate or a
 * constant (`wd / lr`, `wd * lr`, `0.1 * wd`). Any other arithmetic (`wd + extra`, `wd * other`)
 * makes a new value and ends the trail; a literal has no source.
 */
function knobSources(e: Expr, scope: Scope, at: number, isScale: (e: Expr, scope: Scope, at: number) => boolean, depth = 0, out: Knob[] = []): Knob[] {
  if (depth > MAX_DEPTH) return out;
  const d = depth + 1;
  switch (e.kind) {
    case 'binary':
      if (e.op === '*' && isScale(e.left, scope, at)) knobSources(e.right, scope, at, isScale, d, out);
      else if ((e.op === '*' || e.op === '/') && isScale(e.right, scope, at)) knobSources(e.left, scope, at, isScale, d, out);
      return out;
    case 'call':
      if (e.callee.kind === 'name' && e.args.length === 1 && ['float', 'int', 'Number', 'parseFloat'].includes(e.callee.name)) knobSources(e.args[0], scope, at, isScale, d, out);
      return out;
    case 'name':
    case 'attr':
    case 'index':
      break;
    default:
      return out;
  }
  const key = exprKey(e);
  if (key === undefined) return out;
  let root: Expr = e;
  while (root.kind === 'attr' || root.kind === 'index') root = root.object;
  const rootKey = exprKey(root);
  const binding = scope.lookup(key, at);
  out.push({ key, binding, root: rootKey !== undefined ? scope.lookup(rootKey, at) : undefined });
  if (binding?.kind === 'assign' && binding.value && !binding.op && !binding.unpacked) knobSources(binding.value, binding.scope, binding.at, isScale, d, out);
  return out;
}

/** Two reads of one variable: the same binding of it, or, unbound both, the same binding of its root object. */
function sameKnob(a: Knob, b: Knob): boolean {
  if (a.key !== b.key) return false;
  if (a.binding || b.binding) return a.binding === b.binding;
  return a.root !== undefined && a.root === b.root;
}

/** `WD` at two places that read the same variable (the same binding of it, or of its root object). */
function sameVariable(a: Expr, sa: Scope, ata: number, b: Expr, sb: Scope, atb: number): boolean {
  const key = exprKey(a);
  if (key === undefined || (a.kind !== 'name' && a.kind !== 'attr' && a.kind !== 'index') || exprKey(b) !== key) return false;
  const ba = sa.lookup(key, ata);
  const bb = sb.lookup(key, atb);
  if (ba || bb) return ba === bb;
  let root: Expr = a;
  while (root.kind === 'attr' || root.kind === 'index') root = root.object;
  const rootKey = exprKey(root);
  return rootKey !== undefined && sa.lookup(rootKey, ata) === sb.lookup(rootKey, atb) && sa.lookup(rootKey, ata) !== undefined;
}

/** A project optimizer class that decays decoupled: a step that shrinks the weight itself, or a name that says so. */
function decoupledClass(facts: Facts, cls: ClassDef): boolean {
  const own = facts.program.factsAt(cls.span);
  if (own && frameworkFacts(own).handDecays.some((h) => h.kind === 'decoupled' && within(h.span, cls.span))) return true;
  return saysDecoupledDecay(cls.name);
}
