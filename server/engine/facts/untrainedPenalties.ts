// A loss penalty over a collection of weights that the step of that collection never trains: a
// training function adds λ·Σ‖W‖² over the weights to the loss it reports (folded with
// `functools.reduce`, a `sum` over a generator, a loop, directly or through a helper handed the
// collection), and steps the same collection item by item along gradients a call returns
// (`ws = [w - lr * g for w, g in zip(ws, grads)]`, collectionSteps.ts), while nothing adds λ·W to
// those gradients: the call that makes them is not handed λ (nor anything λ is read from), the step
// reads no λ, and λ is read nowhere else in the function but in the penalty. The penalty shapes the
// number printed, never the weights.
//
// By data flow, whatever the names: the collection is the one the penalty sums over (its key, a
// generator or loop over it, or the argument a penalty helper is handed), λ a variable of the
// function (a parameter or a local computed from its own variables, so no other function reads it
// unless handed it), no autodiff in the function, and no framework optimizer in the file that could
// add a decay.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { forEachChild, type FunctionDef } from './scope';
import { ownStatements, programIndex, spanKey, walkAll } from './program';
import { lossFacts, type LossPenalty } from './losses';
import { loopCollectionKey } from './gradients';
import { comprehensionStep, loopStep, type ItemStep } from './collectionSteps';
import { frameworkFacts } from './frameworks';
import { trainingFacts } from './loops';
import { zeroValue } from './catalogue';

export interface UntrainedPenalty {
  fn: FunctionDef;
  penalty: LossPenalty;
  /** The collection's step. */
  step: ItemStep;
  /** The call whose result holds the gradients (`backprop(layers)`). */
  producer: Expr & { kind: 'call' };
  /** The strength's names, as the function holds them. */
  strengths: string[];
}

const cache = new WeakMap<Facts, UntrainedPenalty[]>();

export function untrainedPenalties(facts: Facts): UntrainedPenalty[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  cache.set(facts, found);
  if (facts.language !== 'python') return found;
  const byFn = new Map<FunctionDef, LossPenalty[]>();
  for (const p of lossFacts(facts).penalties) {
    const s = p.site;
    if (!s.fn || s.autodiff || s.penaltyMethod || s.sign !== 1 || p.coef.num <= 0 || (p.kind !== 'sumsq' && p.kind !== 'l1')) continue;
    byFn.set(s.fn, [...(byFn.get(s.fn) ?? []), p]);
  }
  if (byFn.size === 0 || frameworkFacts(facts).optimizers.some((o) => !o.decayOff)) return found;
  for (const [fn, penalties] of byFn) {
    const stmts = ownStatements(fn.body);
    if (differentiates(facts, fn, stmts)) continue;
    const steps = itemSteps(stmts);
    if (steps.length === 0) continue;
    const seen = new Set<string>();
    for (const p of penalties) {
      const strengths = [...new Set(p.coef.syms.filter((x) => x.pow > 0).map((x) => x.name))];
      if (strengths.length === 0 || strengths.some((x) => !/^[A-Za-z_]\w*$/.test(x))) continue;
      for (const { step, stmt } of steps) {
        if (seen.has(step.key) || !covers(facts, fn, p, step.key)) continue;
        const producer = gradientSource(facts, fn, stmts, step, stmt);
        if (!producer) continue;
        if (!strengthsLocal(facts, fn, strengths, producer)) continue;
        if (readsStrengthElsewhere(facts, fn, p, strengths)) continue;
        seen.add(step.key);
        found.push({ fn, penalty: p, step, producer, strengths });
      }
    }
  }
  return found;
}

/** Whether the function runs autodiff (facts/autodiff.ts, through the training facts) or reads a framework's gradient (`W.grad`). */
function differentiates(facts: Facts, fn: FunctionDef, stmts: Stmt[]): boolean {
  if (trainingFacts(facts).diffs.some((d) => d.call.span.start >= fn.span.start && d.call.span.end <= fn.span.end)) return true;
  let found = false;
  walkAll(stmts, (e) => {
    if (!found && e.kind === 'attr' && e.name === 'grad') found = true;
  });
  return found;
}

/** The function's own steps of a collection, item by item (collectionSteps.ts). */
function itemSteps(stmts: Stmt[]): { step: ItemStep; stmt: Stmt }[] {
  const out: { step: ItemStep; stmt: Stmt }[] = [];
  for (const s of stmts) {
    if (s.kind === 'assign' && !s.op && s.targets.length === 1) {
      const key = exprKey(s.targets[0]);
      const step = key !== undefined ? comprehensionStep(s.value, key) : undefined;
      if (step) out.push({ step, stmt: s });
    } else if (s.kind === 'for') {
      const step = loopStep(s);
      if (step) out.push({ step, stmt: s });
    }
  }
  return out;
}

/**
 * Does the penalty sum over the stepped collection? Its weight is the collection (a fold's items), an
 * item of it (a generator or loop over it in the function), or, read inside a helper, the helper's call in
 * the loss is handed the collection.
 */
function covers(facts: Facts, fn: FunctionDef, p: LossPenalty, key: string): boolean {
  const base = p.param.base;
  const inside = base.span.start >= fn.span.start && base.span.end <= fn.span.end;
  if (inside) {
    if (exprKey(base) === key) return true;
    const scope = programIndex(facts).scopeAt(base.span.start);
    return base.kind === 'name' && loopCollectionKey(facts, base.name, scope, base.span.start) === key;
  }
  if (p.site.fn !== fn) return false;
  // Read through a helper: the summand of the loss holds a call handed the collection.
  let handed = false;
  const visit = (e: Expr): void => {
    if (handed) return;
    if (e.kind === 'call' && e.args.some((a) => exprKey(a) === key)) handed = true;
    else forEachChild(e, visit);
  };
  for (const x of lossFacts(facts).summands) if (x.site === p.site && spanKey(x.summand.site) === spanKey(p.span)) for (const f of x.summand.num) visit(f.expr);
  return handed;
}

/**
 * The call the gradients come from: the gradient collection is a variable of the function whose every
 * binding is a call's result (`grads = backprop(...)`, `loss, grads = forward_backward(...)`), the one
 * reaching the step among them, and nothing writes into it (`grads[i] += …`).
 */
function gradientSource(facts: Facts, fn: FunctionDef, stmts: Stmt[], step: ItemStep, stmt: Stmt): (Expr & { kind: 'call' }) | undefined {
  if (step.gradients.kind !== 'name') return undefined;
  const name = step.gradients.name;
  const scope = facts.scopes.stmtScopes.get(stmt) ?? fn.scope;
  const all = fn.scope.allBindings(name);
  if (all.length === 0 || all.some((b) => b.scope !== fn.scope || b.kind !== 'assign' || b.op !== undefined || callOf(b.value ?? b.unpacked?.value) === undefined)) return undefined;
  const reaching = scope.lookup(name, stmt.span.start);
  const call = reaching?.scope === fn.scope ? callOf(reaching.value ?? reaching.unpacked?.value) : undefined;
  if (!call) return undefined;
  // Written into after it is made: a term may be added there.
  for (const s of stmts) {
    if (s.kind !== 'assign') continue;
    for (const t of s.targets) if (t.kind !== 'name' && rootName(t) === name) return undefined;
  }
  return call;
}

function callOf(e: Expr | undefined): (Expr & { kind: 'call' }) | undefined {
  return e?.kind === 'call' ? e : undefined;
}

function rootName(e: Expr): string | undefined {
  let x = e;
  for (let hops = 0; hops < 16; hops++) {
    if (x.kind === 'name') return x.name;
    if (x.kind === 'index' || x.kind === 'attr') x = x.object;
    else return undefined;
  }
  return undefined;
}

/**
 * The strength is the function's own: a parameter (its default no variable) or a local computed from
 * the function's own variables and literals, so another function reads it only when handed it; and the
 * call the gradients come from is handed none of those variables.
 */
function strengthsLocal(facts: Facts, fn: FunctionDef, strengths: string[], producer: Expr & { kind: 'call' }): boolean {
  const sources = new Set<string>();
  const stack = [...strengths];
  while (stack.length > 0 && sources.size < 32) {
    const name = stack.pop()!;
    if (sources.has(name)) continue;
    sources.add(name);
    const bindings = fn.scope.allBindings(name);
    if (bindings.length === 0) return false; // a global or an enclosing function's variable
    for (const b of bindings) {
      if (b.scope !== fn.scope) return false;
      if (b.kind === 'param') {
        const param = fn.params.find((x) => x.name === name);
        if (param?.default && namesRead(param.default).length > 0) return false;
        continue;
      }
      if (b.kind !== 'assign') return false;
      const value = b.value ?? b.unpacked?.value;
      if (!value) return false;
      for (const n of namesRead(value)) if (!facts.scopes.imports.has(n)) stack.push(n);
    }
  }
  return !namesRead(producer).some((n) => sources.has(n));
}

function namesRead(e: Expr): string[] {
  const out: string[] = [];
  const visit = (x: Expr): void => {
    if (x.kind === 'name') out.push(x.name);
    if (x.kind === 'attr') return visit(x.object);
    forEachChild(x, visit);
  };
  if (e.kind === 'attr') visit(e.object);
  else visit(e);
  return out;
}

/**
 * λ read anywhere in the function (nested functions and lambdas included) outside the penalty: the
 * summand of the loss that holds it, and the statements of the variables the loss reads it through
 * (`reg += 0.5 * lam * np.sum(w * w)`). Such a read may add λ·W to the gradients.
 */
function readsStrengthElsewhere(facts: Facts, fn: FunctionDef, p: LossPenalty, strengths: string[]): boolean {
  const allowed: Span[] = [p.span, ...p.defs.map((d) => d.span)];
  // The variables the summand reads (`reg` of `loss = data + reg`, summed in a loop): their values.
  const within = (a: Span, e: Expr): boolean => a.start <= e.span.start && e.span.end <= a.end;
  const carriers = new Set<string>(p.through);
  walkAll(fn.body, (e) => {
    if (e.kind === 'name' && within(p.span, e)) carriers.add(e.name);
  });
  for (const key of carriers) {
    // A variable holding the sum: assigned only (a loop variable or an argument is an item or data, not a carrier).
    const bindings = fn.scope.allBindings(key);
    if (bindings.length === 0 || bindings.some((b) => b.kind !== 'assign')) continue;
    if (!p.through.includes(key) && !bindings.some((b) => !b.op && b.value && zeroValue(b.value) === 'scalar')) continue;
    for (const b of bindings) if (b.value) allowed.push(b.value.span);
  }
  const names = new Set(strengths);
  const targets = new Set<Expr>();
  for (const s of ownStatements(fn.body)) if (s.kind === 'assign') for (const t of s.targets) collectTargets(t, targets);
  let elsewhere = false;
  walkAll(fn.body, (e) => {
    if (elsewhere || e.kind !== 'name' || !names.has(e.name) || targets.has(e)) return;
    if (!allowed.some((a) => a.start <= e.span.start && e.span.end <= a.end)) elsewhere = true;
  });
  return elsewhere;
}

function collectTargets(t: Expr, out: Set<Expr>): void {
  if (t.kind === 'seq') for (const i of t.items) collectTargets(i, out);
  else if (t.kind === 'name') out.add(t);
}

