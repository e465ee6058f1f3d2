// Where a hand-written optimizer step's count moves relative to the loops that run the step
// (NB401): a count incremented once per epoch while the moments and weights are updated once per
// batch. Decided by the loop structure of the step's own function: the loops around each parameter
// update are split into loops that walk the parameters (their variable picks the updated tensor,
// directly, through an inner loop's iterable or through a local set from it) and loops that repeat
// the whole update on the same tensors
// (batches, inner iterations). A count the bias corrections read, incremented outside such a
// repeating loop, keeps one value for all of that loop's updates. The increment may be a call of a
// method of the same object whose body only advances the count (`this.nextEpoch()` in the step,
// `optimizer.nextEpoch()` in an epoch driver that calls the step, `optimizer.step(w)`, per batch):
// it happens where the call is.
import type { Expr, Span, Stmt } from '../ir';
import type { FunctionDef } from './scope';
import { sym, polyEquals } from '../../math/poly';
import { subExprs, within } from './loops';
import { ownStatements } from './program';
import { exprKey } from './keys';
import type { OptimizerStep } from './optimizerSteps';

type Loop = Stmt & ({ kind: 'for' } | { kind: 'block'; label: 'while' });

export interface CountOutsideLoop {
  /** The step count's key, as the corrections read it. */
  counter: string;
  /** The statement that increments it. */
  increment: Span;
  /** The loop whose every iteration updates the moments and the weights, which the increment is outside of. */
  loop: Loop;
  /** The innermost loop around the increment, when there is one (the epoch loop). */
  outer?: Loop;
  /** A correction that reads the count, inside `loop` (in the step, when `through` is set). */
  correction: Span;
  /** The call of the step inside `loop`, when the loop is an epoch driver's rather than the step's own. */
  through?: Span;
  /** The function whose loops these are, when not the step's. */
  driver?: FunctionDef;
}

/** What the program shows about calls around a step: the methods they run. */
export interface StepCalls {
  /** The method a call in the step's body runs (`this.nextEpoch()`), when the program shows it. */
  methodOf(call: Expr & { kind: 'call' }): FunctionDef | undefined;
  /** The calls of a method in its file, each with the function it is written in. */
  callers(fn: FunctionDef): { call: Expr & { kind: 'call' }; fn: FunctionDef }[];
}

const isLoop = (s: Stmt): s is Loop => s.kind === 'for' || (s.kind === 'block' && s.label === 'while');

/** The loops around the statement that holds `span` (outermost first), or undefined when no statement of `body` holds it. */
export function loopsAround(body: Stmt[], span: Span, depth = 0): Loop[] | undefined {
  if (depth > 60) return undefined;
  for (const s of body) {
    if (!within(span, s.span)) continue;
    // A nested function or class runs on its own schedule: not this function's loops.
    if (s.kind === 'function' || s.kind === 'class') return undefined;
    if (s.kind !== 'for' && s.kind !== 'block') return [];
    const inner = loopsAround(s.body, span, depth + 1);
    // A loop's head (its iterable, its condition) is not its body.
    if (inner === undefined) return undefined;
    return isLoop(s) ? [s, ...inner] : inner;
  }
  return undefined;
}

function names(e: Expr): string[] {
  return subExprs(e).flatMap((x) => (x.kind === 'name' ? [x.name] : []));
}

/** The loops and plain assignments of a body, nested functions and classes left out. */
function loopsAndAssignments(body: Stmt[], out: { loops: Loop[]; assigns: (Stmt & { kind: 'assign' })[] } = { loops: [], assigns: [] }, depth = 0): { loops: Loop[]; assigns: (Stmt & { kind: 'assign' })[] } {
  if (depth > 60) return out;
  for (const s of body) {
    if (s.kind === 'assign') out.assigns.push(s);
    else if (s.kind === 'for' || s.kind === 'block') {
      if (isLoop(s)) out.loops.push(s);
      loopsAndAssignments(s.body, out, depth + 1);
    }
  }
  return out;
}

/** `self.layer` of `self.layer.W`, `layer['W']` of `layer['W'][i]`. */
function isPathPrefix(part: string, whole: string): boolean {
  return whole.startsWith(part + '.') || whole.startsWith(part + '[');
}

/**
 * The names an update's target is picked by: the target's own, then, transitively, the iterable of
 * a loop that binds one (`p` of `for p in group['params']` → group) and the value of a local that
 * holds one (`layer = layers[l]` → l). The update's own writes (`W = W - …`) are left out.
 */
export function pickedBy(body: Stmt[], target: Expr, updateSpans: Span[], source: (s: Span) => string): Set<string> {
  const { loops, assigns } = loopsAndAssignments(body);
  // Paths by their keys (`self.layer.W`); the source text only where the IR gives no key.
  const pathOf = (e: Expr): string => {
    const key = exprKey(e);
    return key !== undefined && !key.includes('?') ? key : source(e.span);
  };
  const targetText = pathOf(target);
  const picked = new Set(names(target));
  for (let changed = true, rounds = 0; changed && rounds < 20; rounds++) {
    changed = false;
    const add = (n: string): void => {
      if (picked.has(n)) return;
      picked.add(n);
      changed = true;
    };
    for (const l of loops) if (l.kind === 'for' && names(l.target).some((n) => picked.has(n))) names(l.iter).forEach(add);
    for (const a of assigns) {
      if (updateSpans.some((u) => within(u, a.span) || within(a.span, u))) continue;
      const set = a.targets.flatMap((t) => (t.kind === 'name' || t.kind === 'seq' ? names(t) : []));
      const reads = names(a.value);
      // `self.layer = self.layers[i]` before `self.layer.W -= …`: a part of the target's path set afresh.
      const path = a.targets.some((t) => (t.kind === 'attr' || t.kind === 'index') && isPathPrefix(pathOf(t), targetText));
      if (path || set.some((n) => picked.has(n) && !reads.includes(n))) reads.forEach(add);
    }
  }
  return picked;
}

/**
 * The loops around an update that repeat it on the same tensor: loops whose variable picks none of
 * the tensors it updates (`for xb, yb in batches` around `W -= …`, unlike `for p in params` or
 * `for group in param_groups` around `for p in group['params']`), and while loops that test none.
 */
function repeatingLoops(body: Stmt[], loops: Loop[], target: Expr, updateSpans: Span[], source: (s: Span) => string): Loop[] {
  const picked = pickedBy(body, target, updateSpans, source);
  return loops.filter((l) => (l.kind === 'for' ? !names(l.target).some((n) => picked.has(n)) : !l.heads.some((h) => names(h).some((n) => picked.has(n)))));
}

/** Statements that are a call (`this.nextEpoch()`), with the call. */
function callStatements(body: Stmt[]): { stmt: Stmt; call: Expr & { kind: 'call' } }[] {
  return ownStatements(body).flatMap((stmt) => (stmt.kind === 'expr' && stmt.expr.kind === 'call' ? [{ stmt, call: stmt.expr }] : []));
}

/** The key a statement advances by one: `t++`, `++t`, `t += 1`, `t = t + 1`. */
function advancedKey(s: Stmt): string | undefined {
  const one = (e: Expr): boolean => e.kind === 'num' && e.value === 1;
  if (s.kind === 'expr' && s.expr.kind === 'other' && s.expr.ops?.[0] === '++' && s.expr.children.length === 1) return exprKey(s.expr.children[0]);
  if (s.kind !== 'assign' || s.targets.length !== 1) return undefined;
  const key = exprKey(s.targets[0]);
  if (key === undefined) return undefined;
  if (s.op === '+') return one(s.value) ? key : undefined;
  if (s.op) return undefined;
  const v = s.value;
  return v.kind === 'binary' && v.op === '+' && ((exprKey(v.left) === key && one(v.right)) || (one(v.left) && exprKey(v.right) === key)) ? key : undefined;
}

/** The count a method only advances (its body is one statement that advances it by one): the count's key. */
export function advancedCount(fn: FunctionDef): string | undefined {
  const body = fn.body.filter((s) => !(s.kind === 'expr' && s.expr.kind === 'str'));
  return body.length === 1 ? advancedKey(body[0]) : undefined;
}

/**
 * `this.nextEpoch()` in the step's body, whose method only advances the count the evaluation saw
 * incremented at `increment` (inside that method): the call's statement, the increment's place.
 */
function advancingCallIn(step: OptimizerStep, counter: string, increment: Span, calls: StepCalls): Span | undefined {
  for (const { stmt, call } of callStatements(step.fn.body)) {
    if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name' || !['this', 'self'].includes(call.callee.object.name)) continue;
    const method = calls.methodOf(call);
    if (method && within(increment, method.span) && advancedCount(method) === counter) return stmt.span;
  }
  return undefined;
}

/** How a method names its instance: a Python method's first parameter, `this` in TS/JS. */
function instanceOf(fn: FunctionDef): string {
  const first = fn.params[0]?.name;
  return first === 'self' ? first : 'this';
}

/**
 * The step's count (`this.t`) a driver's statement advances on the object it calls the step on:
 * `optimizer.nextEpoch()`, a method of the step's class that only advances the count, or
 * `optimizer.t++` itself.
 */
function driverIncrement(stmt: Stmt, receiver: string, step: FunctionDef, cls: NonNullable<FunctionDef['cls']>): string | undefined {
  if (stmt.kind === 'expr' && stmt.expr.kind === 'call') {
    const callee = stmt.expr.callee;
    if (callee.kind !== 'attr' || stmt.expr.args.length > 0 || callee.name === step.name || exprKey(callee.object) !== receiver) return undefined;
    const method = cls.scope.functions.get(callee.name);
    return method ? advancedCount(method) : undefined;
  }
  const key = advancedKey(stmt);
  return key !== undefined && key.startsWith(receiver + '.') && !key.slice(receiver.length + 1).includes('.') ? `${instanceOf(step)}.${key.slice(receiver.length + 1)}` : undefined;
}

/**
 * What a call of the step hands it that picks the tensors it updates: the argument of each parameter
 * an update's target starts from (`weight` of `weight.value -= …`), the object it is called on for
 * its own fields (`this.W -= …`), every argument and the object when a target starts elsewhere.
 */
function handedTensors(step: OptimizerStep, call: Expr & { kind: 'call' }): Expr[] {
  const receiver = call.callee.kind === 'attr' ? [call.callee.object] : [];
  const params = step.fn.params.filter((p) => p.name !== 'self');
  const picked: Expr[] = [];
  for (const p of step.params) {
    let root: Expr = p.eq.target;
    while (root.kind === 'attr' || root.kind === 'index') root = root.object;
    const name = root.kind === 'name' ? root.name : undefined;
    const at = name === undefined ? -1 : params.findIndex((q) => q.name === name);
    if (name === 'this' || name === 'self') picked.push(...receiver);
    else if (at >= 0 && at < call.args.length) picked.push(call.args[at]);
    else return [...receiver, ...call.args];
  }
  return picked;
}

/**
 * A step method whose count an epoch driver advances through a method of the same object:
 * `for (…epochs) { for (…batches) { for (c of cells) stepper.apply(c) } stepper.nextEpoch() }`, where
 * `nextEpoch` is a method of the step's class that only advances the count the corrections read,
 * and the step does not advance it itself. The driver's loops around the step's call that do not
 * pick what the call is handed (`for c of cells` does) repeat the step on the same tensors.
 */
function countsOutsideDriverLoops(step: OptimizerStep, source: (s: Span) => string, calls: StepCalls): CountOutsideLoop[] {
  const found: CountOutsideLoop[] = [];
  const cls = step.fn.cls;
  if (!cls || !step.fn.isMethod) return found;
  for (const { call, fn: driver } of calls.callers(step.fn)) {
    if (driver === step.fn || call.callee.kind !== 'attr') continue;
    const receiver = exprKey(call.callee.object);
    if (receiver === undefined) continue;
    for (const stmt of ownStatements(driver.body)) {
      const counter = driverIncrement(stmt, receiver, step.fn, cls);
      // A count the step advances itself is the step's own (checked below).
      if (counter === undefined || step.counterSpans?.has(counter)) continue;
      const readers = step.corrections.filter((c) => c.exp !== undefined && polyEquals(c.exp, sym(counter)) && within(c.span, step.fn.span));
      if (readers.length === 0) continue;
      const around = loopsAround(driver.body, stmt.span);
      const own = loopsAround(driver.body, call.span);
      if (around === undefined || own === undefined) continue;
      const handed: Expr = { kind: 'seq', items: handedTensors(step, call), span: call.span };
      const repeating = repeatingLoops(driver.body, own, handed, [], source).filter((l) => !around.includes(l) && !within(stmt.span, l.span));
      if (repeating.length === 0) continue;
      found.push({ counter, increment: stmt.span, loop: repeating[0], outer: around[around.length - 1], correction: readers[0].span, through: call.span, driver });
    }
  }
  return found;
}

/** Step counts read by the step's bias corrections that are incremented outside a loop repeating the step's updates. */
export function countsOutsideLoops(step: OptimizerStep, source: (s: Span) => string, calls?: StepCalls): CountOutsideLoop[] {
  const found: CountOutsideLoop[] = [];
  if (step.params.length === 0) return found;
  if (calls) found.push(...countsOutsideDriverLoops(step, source, calls));
  if (!step.counterSpans) return found;
  const body = step.fn.body;
  // The step's own writes (moments, parameters) are not locals that pick a tensor.
  const writes = [...[...step.states.values()].flatMap((s) => s.eq.spans), ...step.params.flatMap((p) => p.eq.spans)];
  for (const [counter, counted] of step.counterSpans) {
    // An increment in a method the step calls is made where the call is.
    const increment = within(counted, step.fn.span) ? counted : calls ? advancingCallIn(step, counter, counted, calls) : undefined;
    if (increment === undefined) continue;
    const readers = step.corrections.filter((c) => c.exp !== undefined && polyEquals(c.exp, sym(counter)) && within(c.span, step.fn.span));
    if (readers.length === 0) continue;
    const around = loopsAround(body, increment);
    if (around === undefined) continue;
    // Every parameter update is repeated by a loop the increment is outside of: the outermost such loop is reported.
    let loop: Loop | undefined;
    let all = true;
    for (const p of step.params) {
      const spans = p.eq.spans;
      if (spans.length === 0 || !spans.every((s) => within(s, step.fn.span))) {
        all = false;
        break;
      }
      const own = loopsAround(body, spans[0]);
      if (own === undefined || !spans.every((s) => loopsAround(body, s)?.length === own.length && loopsAround(body, s)!.every((l, i) => l === own[i]))) {
        all = false;
        break;
      }
      const repeating = repeatingLoops(body, own, p.eq.target, writes, source).filter((l) => !around.includes(l) && !within(increment, l.span));
      if (repeating.length === 0) {
        all = false;
        break;
      }
      const outermost = repeating[0];
      if (loop === undefined) loop = outermost;
      else if (loop !== outermost) {
        all = false;
        break;
      }
    }
    if (!all || loop === undefined) continue;
    const l = loop;
    const correction = readers.find((c) => within(c.span, l.span));
    if (!correction) continue;
    found.push({ counter, increment, loop: l, outer: around[around.length - 1], correction: correction.span });
  }
  return found;
}
