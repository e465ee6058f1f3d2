// Hand-written optimizer objects built anew for every step (NB208): a class of the project whose
// step method keeps its optimizer state in the instance (`self.m`, `self.v`, `self.t` read and
// written back by the step, optimizerSteps.ts), instantiated inside a loop into a local that steps
// once in the same iteration and is then dropped (`for k in range(L): rule = Adam(lr);
// W[k] = rule.step(W[k], dW[k])`). Each object's state starts from the constructor's values, so
// every step is the optimizer's first: its moments never average anything, its count is always 1.
// By data flow: the class the construction resolves to, the one call of its step method through that
// local, and no other use of the local (not stored, returned or handed on, so no later step reaches
// the object). Silent when the construction is under an `if` inside the loop (a restart on a
// condition), or when the step runs in a loop nested inside that one (the object then steps many times).
// Also silent when one call is many steps (the method updates its state inside its own loop:
// `opt.minimize(f, x0, iters)`), when the constructor takes the state from its caller (`Momentum(v[k])`,
// whose in-place updates outlive the object), and when the stepped weights do not outlive the
// iteration (`out = opt.update(w.copy(), g)` in a test of the first step, a table of first steps).
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { explicitParams, type ClassDef, type Scope } from './scope';
import { exprKey } from './keys';
import { subExprs } from './loops';
import { optimizerSteps, type OptimizerStep } from './optimizerSteps';
import { ownStatements, programIndex, walkAll } from './program';
import { resolveCall } from './resolve';

export interface RebuiltStepObject {
  /** The construction (`Adam(lr, b1, b2, eps)`). */
  construction: Expr & { kind: 'call' };
  /** The local it is bound to. */
  local: string;
  /** The class it builds, and its step. */
  cls: ClassDef;
  step: OptimizerStep;
  /** The step's one call through the local (`optim.step(W, b, dW, db)`). */
  call: Expr & { kind: 'call' };
  /** The loop that builds it again on every iteration. */
  loop: Stmt;
  /** The state the step carries in the instance, as the step writes it (`self.m`, `self.t`). */
  state: string[];
}

const cache = new WeakMap<Facts, RebuiltStepObject[]>();

export function rebuiltStepObjects(facts: Facts): RebuiltStepObject[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

/** A `while` loop inside `loop` around `span` (loopsAround lists `for` loops only). */
function whileInside(loop: Stmt, span: { start: number; end: number }): boolean {
  return ownStatements(loop.kind === 'for' || loop.kind === 'block' ? loop.body : []).some((x) => x.kind === 'block' && x.label === 'while' && x.span.start <= span.start && span.end <= x.span.end);
}
const INSTANCE_STATE = /^(?:self|this)\.[A-Za-z_$][\w$]*$/;

function collect(facts: Facts): RebuiltStepObject[] {
  // Steps that are methods keeping state in their instance: written back from its old value on each call.
  const byClass = new Map<ClassDef, OptimizerStep[]>();
  for (const step of optimizerSteps(facts)) {
    const cls = step.fn.cls;
    if (!cls || !step.fn.isMethod || step.params.length === 0) continue;
    const state = [...step.states.keys(), ...step.counters.keys()].filter((k) => INSTANCE_STATE.test(k));
    if (state.length === 0) continue;
    byClass.set(cls, [...(byClass.get(cls) ?? []), step]);
  }
  if (byClass.size === 0) return [];
  const index = programIndex(facts);
  const out: RebuiltStepObject[] = [];
  const inFile = (start: number): boolean => start >= facts.file.base && start <= facts.file.base + facts.text.length;
  const bodies: Stmt[][] = [facts.module.body, ...index.functions.filter((f) => f.body.length > 0 && inFile(f.span.start)).map((f) => f.body)];
  for (const body of bodies) {
    for (const s of ownStatements(body)) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'name' || s.value.kind !== 'call') continue;
      const local = s.targets[0].name;
      const scope = index.scopeAt(s.span.start);
      const target = resolveCall(facts.program, s.value, scope, s.span.start);
      const steps = target?.constructs ? byClass.get(target.constructs) : undefined;
      if (!steps || target?.candidates) continue;
      // The innermost loop around the construction, with no `if` between them.
      const loops = index.loopsAround(s.span);
      const loop = loops[loops.length - 1];
      if (!loop) continue;
      // The local bound only here in its function, and every later read of it the receiver of one step call.
      const bindings = scope.allBindings(local).filter((b) => b.kind !== 'param');
      if (bindings.length !== 1 || bindings[0].branches?.some((p) => p.chain.start >= loop.span.start)) continue;
      const reads: Expr[] = [];
      const calls: (Expr & { kind: 'call' })[] = [];
      walkAll(body, (e) => {
        if (e.span.start < s.span.end) return;
        if (e.kind === 'name' && e.name === local) reads.push(e);
        if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.object.kind === 'name' && e.callee.object.name === local) calls.push(e);
      });
      if (calls.length !== 1 || reads.length !== 1 || reads[0] !== (calls[0].callee as Expr & { kind: 'attr' }).object) continue;
      const call = calls[0];
      const method = (call.callee as Expr & { kind: 'attr' }).name;
      const step = steps.find((x) => x.fn.name === method);
      if (!step || call.span.start < loop.span.start || call.span.end > loop.span.end) continue;
      // Stepped once per construction: no loop between the construction's loop and the call.
      const callLoops = index.loopsAround(call.span);
      if (callLoops[callLoops.length - 1] !== loop || whileInside(loop, call.span)) continue;
      const state = [...step.states.keys(), ...step.counters.keys()].filter((k) => INSTANCE_STATE.test(k));
      if (manyStepsPerCall(step) || stateHandedIn(target!.constructs!, state) || !outlivesIteration(body, call, step, loop, scope)) continue;
      out.push({ construction: s.value, local, cls: target!.constructs!, step, call, loop, state });
    }
  }
  return out;
}

/** Loops and `while` blocks among a body's own statements. */
function ownLoops(body: Stmt[]): Stmt[] {
  return ownStatements(body).filter((x) => x.kind === 'for' || (x.kind === 'block' && x.label === 'while'));
}

/**
 * The step writes a whole state of the instance inside a loop of its own (`self.m = b1 * self.m + …`,
 * `self.t += 1`): one call is many steps (`minimize(f, x0, iters)`, a line search). A loop over the
 * parameters writes an entry of it per parameter (`self.m[i] = …`), which is one step.
 */
function manyStepsPerCall(step: OptimizerStep): boolean {
  const keys = [...step.states.keys(), ...step.counters.keys()].filter((k) => INSTANCE_STATE.test(k));
  const whole = ownStatements(step.fn.body).filter((x) => x.kind === 'assign' && x.targets.some((t) => keys.includes(exprKey(t) ?? '')));
  return ownLoops(step.fn.body).some((l) => whole.some((x) => l.span.start <= x.span.start && x.span.end <= l.span.end));
}

/**
 * The constructor stores a state from its own parameters (`self.velocity = velocity`, `self.m = m if m is not
 * None else 0`): the caller hands the state in, and it may outlive the object. A value built from them
 * (`np.zeros_like(w)`, `[np.zeros_like(p) for p in params]`) is the object's own.
 */
function stateHandedIn(cls: ClassDef, state: string[]): boolean {
  const init = cls.scope.functions.get('__init__') ?? cls.scope.functions.get('constructor');
  if (!init) return false;
  const params = new Set(explicitParams(init).map((p) => p.name));
  // The value is a parameter itself, a part of one, or one of them chosen (`m if m is not None else 0`, `m or 0`).
  const handed = (e: Expr): boolean => {
    if (e.kind === 'name') return params.has(e.name);
    if (e.kind === 'attr' || e.kind === 'index') return handed(e.object);
    if (e.kind === 'cond') return handed(e.then) || handed(e.else);
    if (e.kind === 'other' && e.ops?.every((o) => o === 'or' || o === '??')) return e.children.some(handed);
    return false;
  };
  return ownStatements(init.body).some((x) => x.kind === 'assign' && x.targets.some((t) => state.includes(exprKey(t) ?? '')) && handed(x.value));
}

/**
 * Do the weights the call steps outlive the iteration? Its result stored into an attribute or an
 * element (`self.params[k] = opt.step(...)`, `layer.W = ...`), or into a name the loop carries or that
 * was bound before it (`W = opt.step(W, dW)`); or, called for its effect, a weight handed in as it is
 * (not a copy: `opt.step(w.copy(), g)`). A result kept only in the iteration (`out = opt.update(...)`,
 * an argument of another call) is a first step looked at, not a training step.
 */
function outlivesIteration(body: Stmt[], call: Expr & { kind: 'call' }, step: OptimizerStep, loop: Stmt, scope: Scope): boolean {
  const stmt = ownStatements(body).find((x) => (x.kind === 'assign' && x.value === call) || (x.kind === 'expr' && x.expr === call));
  if (!stmt) return false;
  if (stmt.kind === 'assign') {
    const kept = (t: Expr): boolean => {
      if (t.kind === 'seq') return t.items.length > 0 && t.items.some(kept);
      if (t.kind === 'attr' || t.kind === 'index') return true;
      if (t.kind !== 'name') return false;
      if (argumentsOf(call).some((a) => subExprs(a).some((e) => e.kind === 'name' && e.name === t.name))) return true;
      return scope.allBindings(t.name).some((b) => b.kind === 'param' || b.at < loop.span.start);
    };
    return stmt.targets.every(kept);
  }
  const weights = weightArguments(call, step);
  return weights.length === 0 || weights.every((a) => a.kind !== 'call');
}

function argumentsOf(call: Expr & { kind: 'call' }): Expr[] {
  return [...call.args, ...call.kwargs.map((k) => k.value)];
}

/** The call's arguments that fill the step's parameters (`w` of `step(self, w, g)` when the step updates `w`). */
function weightArguments(call: Expr & { kind: 'call' }, step: OptimizerStep): Expr[] {
  const params = explicitParams(step.fn);
  const out: Expr[] = [];
  for (const p of step.params) {
    const i = params.findIndex((x) => x.name === p.eq.key);
    if (i < 0) continue;
    const arg = call.kwargs.find((k) => k.name === p.eq.key)?.value ?? call.args[i];
    if (arg) out.push(arg);
  }
  return out;
}
