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
import { TEST_OPERATORS } from '../ir';
import type { FunctionDef } from './scope';
import { mentions, sym, polyEquals } from '../../math/poly';
import { subExprs, within } from './loops';
import { ownStatements } from './program';
import { exprKey } from './keys';
import { powerExponent, type OptimizerStep } from './optimizerSteps';
import { isMapConstructor } from './catalogue';

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
  /**
   * The calls `self.m(...)` of a method `m` that methods of its class's bases make, in any file (a
   * base's `apply_gradients` looping over the weights and calling the `_apply_gradient` a subclass
   * overrides), each with the base's method.
   */
  baseCallers?(fn: FunctionDef): { call: Expr & { kind: 'call' }; fn: FunctionDef }[];
  /**
   * The calls `obj.m(...)` of a method `m` in the project's other files that import the method's file
   * (directly or not), whose call resolves to the method, to a method of its name in a base of its
   * class, or to nothing the program shows (`self.optimizer.update_params(layer)` on an optimizer
   * handed to a model), each with the function it is written in.
   */
  projectCallers?(fn: FunctionDef): { call: Expr & { kind: 'call' }; fn: FunctionDef }[];
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
export function advancedKey(s: Stmt): string | undefined {
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
    else if (at >= 0 && at < call.args.length) picked.push(...entriesOf(call.args[at]));
    else return [...receiver, ...call.args.flatMap(entriesOf)];
  }
  return picked;
}

/**
 * What an argument built in place hands over: the keys and values of a map written out in the call
 * (`new Map([[id, layer.W[r][c]]])`, a one-entry map per weight), or the argument itself.
 */
function entriesOf(arg: Expr): Expr[] {
  if (arg.kind !== 'call' || arg.callee.kind !== 'name' || !isMapConstructor(arg.callee.name) || arg.args.length !== 1 || arg.kwargs.length > 0) return [arg];
  const list = arg.args[0];
  if (list.kind !== 'seq' || list.items.length === 0 || !list.items.every((x) => x.kind === 'seq' && x.items.length === 2)) return [arg];
  return list.items.flatMap((x) => (x.kind === 'seq' ? x.items : []));
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

export interface CountInsideLoop {
  /** The step count's key, or the running power's (`self.p1` of `self.p1 *= self.b1`). */
  counter: string;
  kind: 'count' | 'power';
  /** The statement that advances it, or the step's call of the helper that does. */
  increment: Span;
  /** Where it is advanced: the increment, or the statement in the helper. */
  advance: Span;
  /** The loop around it whose every iteration updates another parameter. */
  loop: Loop;
  /** A correction that reads it. */
  correction: Span;
  /** The function whose loop calls the step once per parameter, when the loop is not the step's own. */
  driver?: FunctionDef;
  /** The local holding the count (`state` of `state["k"]`), which the loop never rebinds: one object for every parameter. */
  holder?: string;
  /** `correction` is a parameter's update that reads the count (a schedule computed from it), not a bias correction. */
  readBy?: 'update';
}

/** The statement of the step's body that holds `span`, or the call statement of a method that holds it (`w -= self._delta(g, i)`). */
function statementOrCallHolding(step: OptimizerStep, span: Span, calls: StepCalls | undefined): Span | undefined {
  if (within(span, step.fn.span)) return span;
  if (!calls) return undefined;
  for (const stmt of ownStatements(step.fn.body)) {
    if (stmt.kind === 'function' || stmt.kind === 'class') continue;
    for (const root of stmt.kind === 'assign' ? [stmt.value] : stmt.kind === 'expr' ? [stmt.expr] : stmt.kind === 'return' && stmt.value ? [stmt.value] : []) {
      for (const x of subExprs(root)) {
        if (x.kind !== 'call') continue;
        const method = calls.methodOf(x);
        if (method && method !== step.fn && within(span, method.span)) return stmt.span;
      }
    }
  }
  return undefined;
}

/**
 * Step counts and running β powers the corrections read that advance once per parameter: inside the
 * loop that walks the parameters (`for p, g in zip(params, grads): self.t += 1`), directly or in a
 * helper that loop calls (`w -= self._delta(g, i)` with `self.p1 *= self.b1` in `_delta`). Each
 * parameter then sees another count, and the count runs K times faster than the steps for K
 * parameters. A count kept per parameter (`state["step"]`, `layer.t`, `self.t[i]`) is picked by the
 * loop like the tensors are, and is not one of these: only a count of the object or a plain name is.
 */
export function countsInsideParameterLoops(step: OptimizerStep, source: (s: Span) => string, calls?: StepCalls): CountInsideLoop[] {
  const found: CountInsideLoop[] = [];
  if (step.params.length === 0) return found;
  const body = step.fn.body;
  const writes = [...[...step.states.values()].flatMap((s) => s.eq.spans), ...step.params.flatMap((p) => p.eq.spans)];
  const advances: { counter: string; kind: 'count' | 'power'; at: Span; exponent: string }[] = [];
  for (const [counter, at] of step.counterSpans ?? []) advances.push({ counter, kind: 'count', at, exponent: counter });
  for (const [power, { span }] of step.powers ?? []) advances.push({ counter: power, kind: 'power', at: span, exponent: powerExponent(power) });
  if (advances.length === 0) return found;
  // The loops around each update that walk its tensor, and the names that pick it.
  const updates: { walking: Loop[]; picked: Set<string> }[] = [];
  for (const p of step.params) {
    if (p.eq.spans.length === 0 || !p.eq.spans.every((s) => within(s, step.fn.span))) return found;
    const own = loopsAround(body, p.eq.spans[0]);
    if (!own) return found;
    updates.push({ walking: own.filter((l) => walks(l, p.eq.target)), picked: pickedBy(body, p.eq.target, writes, source) });
  }
  for (const a of advances) {
    // Only a count of the object (`self.t`, `this.p1`) or a plain name: anything else may be kept per
    // parameter. Or an entry of a local's constant path (`state["k"]`) that the loop never rebinds
    // the local of: it is the same entry for every parameter (`state` left over from an earlier loop).
    const path = /^(?:(self|this)\.)?([A-Za-z_$][\w$]*)$/.exec(a.counter);
    const entry = path ? undefined : /^([A-Za-z_$][\w$]*)(?:\.[A-Za-z_$][\w$]*|\[(?:"[^"]*"|'[^']*'|\d+)\])+$/.exec(a.counter);
    if (entry && (entry[1] === 'self' || entry[1] === 'this')) continue;
    if (!path && !entry) continue;
    if (path && !path[1] && updates.some((u) => u.picked.has(path[2]))) continue;
    // A count kept per key (`self.t[key] += 1` with `key = id(layer)`, `this.t[name]++`): an entry whose
    // index reads a local or an argument is each parameter's own count, not the object's one.
    if (path && keptPerKey(body, a.at, a.counter)) continue;
    const readers: { span: Span }[] = step.corrections.filter((c) => c.exp !== undefined && polyEquals(c.exp, sym(a.exponent)));
    // A left-over entry read by the step some other way (a schedule computed from the count) is as wrong.
    const schedule = entry && a.kind === 'count' && readers.length === 0 ? step.params.find((u) => mentions(u.step, a.counter)) : undefined;
    if (schedule) readers.push({ span: schedule.eq.spans[0] });
    if (readers.length === 0) continue;
    const increment = statementOrCallHolding(step, a.at, calls);
    if (!increment) continue;
    const around = loopsAround(body, increment);
    if (!around) continue;
    if (around.length === 0) {
      // Advanced only on the calls a parameter of the step selects (`if first: self.t += 1`, the caller
      // passing `k == 0`): once per step, whatever the caller's loop.
      if (selectedBy(body, increment, new Set(step.fn.params.map((q) => q.name)))) continue;
      // Advanced once per call of a method that a caller runs once per parameter.
      const caller = path?.[1] && calls ? perParameterCaller(step, calls, source) : undefined;
      if (caller) found.push({ counter: a.counter, kind: a.kind, increment, advance: a.at, loop: caller.loop, correction: readers[0].span, driver: caller.driver });
      continue;
    }
    // The innermost loop around the increment that walks the parameters of every update, with no
    // other such loop inside it (`for group in groups: self.t += 1; for p in group["params"]` counts groups).
    const loop = around[around.length - 1];
    const perParameter = updates.every((u) => u.walking.length > 0 && u.walking[u.walking.length - 1] === loop);
    if (!perParameter) continue;
    // Advanced only on the iterations the loop's variable selects (`if i == 0: self.t += 1`): once per step.
    if (loop.kind === 'for' && selectedBy(loop.body, increment, new Set(names(loop.target)))) continue;
    if (entry && bindsInside(loop, entry[1])) continue;
    // Advanced in a method called through an object the loop builds anew (`rule = Moments(lr)`, `rule.apply(w, g)`,
    // inlined into this step): each parameter's own, fresh (NB208).
    if (path?.[1] && calls && freshReceiverAt(body, increment, loop, calls)) continue;
    const correction = readers.find((c) => within(c.span, loop.span)) ?? readers[0];
    found.push({ counter: a.counter, kind: a.kind, increment, advance: a.at, loop, correction: correction.span, ...(entry ? { holder: entry[1] } : {}), ...(schedule ? { readBy: 'update' as const } : {}) });
  }
  return found;
}

/** Is the advance at `at` a write of an entry of `counter` whose index reads a local or an argument (`self.t[key] += 1`)? */
function keptPerKey(body: Stmt[], at: Span, counter: string): boolean {
  const st = ownStatements(body).find((x) => x.kind === 'assign' && within(at, x.span));
  if (st?.kind !== 'assign' || st.targets.length !== 1) return false;
  const t = st.targets[0];
  if (t.kind !== 'index' || exprKey(t.object) !== counter) return false;
  return t.index.some((i) => subExprs(i).some((x) => x.kind === 'name' && x.name !== 'self' && x.name !== 'this'));
}

/**
 * Is the statement at `span` inside an `if` (within `body`) whose condition picks particular iterations
 * or calls by one of `vars` itself: the name alone (`if first:`) or compared as a whole (`i == 0`,
 * `layer is layers[0]`)? A condition on what the variable holds (`layer.grads is not None`) is not one.
 */
function selectedBy(body: Stmt[], span: Span, vars: Set<string>, depth = 0): boolean {
  if (depth > 60) return false;
  const picks = (e: Expr): boolean => {
    if (e.kind === 'name') return vars.has(e.name);
    if (e.kind === 'unary' && e.op === 'not') return picks(e.arg);
    if (e.kind !== 'other' || !e.ops) return false;
    if (e.ops.every((o) => o === 'and' || o === 'or')) return e.children.some(picks);
    return e.ops.some((o) => TEST_OPERATORS.has(o)) && e.children.some((c) => c.kind === 'name' && vars.has(c.name));
  };
  for (const s of body) {
    if (!within(span, s.span) || (s.span.start === span.start && s.span.end === span.end)) continue;
    if (s.kind === 'function' || s.kind === 'class') return false;
    if (s.kind === 'block' && s.label === 'if' && s.heads.some(picks)) return true;
    if (s.kind === 'block' || s.kind === 'for') return selectedBy(s.body, span, vars, depth + 1);
  }
  return false;
}

/** Whether the loop binds `name` anywhere: its own target, a nested loop's, an assignment, a `with … as`. */
function bindsInside(loop: Loop, name: string): boolean {
  const binds = (e: Expr | undefined): boolean => e !== undefined && names(e).includes(name);
  if (loop.kind === 'for' && binds(loop.target)) return true;
  const visit = (body: Stmt[], depth: number): boolean => depth < 60 && body.some((s) => {
    if (s.kind === 'assign') return s.targets.some((t) => t.kind === 'name' ? t.name === name : t.kind === 'seq' && binds(t));
    if (s.kind === 'for') return binds(s.target) || visit(s.body, depth + 1);
    if (s.kind === 'block') return (s.aliases ?? []).some(binds) || visit(s.body, depth + 1);
    return false;
  });
  return visit(loop.body, 0);
}

/**
 * A `for` loop that walks the tensors `target` names: its variable is the tensor or the object or
 * index that holds it (`p` of `for p in params`, `layer` of `layer.W`, `i` of `self.params[i]`),
 * directly or through a plain local the loop's body sets from one (`w = params[name]`). A value the
 * loop computes from its variable (a batch's gradients) is not walked.
 */
function walks(loop: Loop, target: Expr): loop is Loop & { kind: 'for' } {
  if (loop.kind !== 'for') return false;
  const vars = new Set(names(loop.target));
  const paths = target.kind === 'seq' ? target.items : [target];
  const holds = (e: Expr): boolean => pathNames(e).some((n) => vars.has(n));
  if (paths.some(holds)) return true;
  const roots = new Set(paths.flatMap((e) => pathNames(e).slice(0, 1)));
  // (A map built from one, `const wm = new Map([[key, w[r][c]]])`, holds it too.)
  // So does what a method of the loop's element hands out (`w, b = layer.get_params()`, or `params =
  // layer.get_params()` then `w, b = params`): the element's own tensors, read through its getter (and
  // written back through its setter).
  const handedOut = (v: Expr): boolean => v.kind === 'call' && v.callee.kind === 'attr' && holds(v.callee.object);
  const bound = (t: Expr): string[] => (t.kind === 'name' ? [t.name] : t.kind === 'seq' ? t.items.flatMap((x) => (x.kind === 'name' ? [x.name] : [])) : []);
  const statements = ownStatements(loop.body);
  const held = new Set<string>();
  for (let changed = true, rounds = 0; changed && rounds < 5; rounds++) {
    changed = false;
    for (const st of statements) {
      if (st.kind !== 'assign' || st.op || st.targets.length !== 1) continue;
      if (!(handedOut(st.value) || (st.value.kind === 'name' && held.has(st.value.name)))) continue;
      for (const n of bound(st.targets[0])) if (!held.has(n)) (held.add(n), (changed = true));
    }
  }
  if ([...roots].some((r) => held.has(r))) return true;
  return statements.some((st) => st.kind === 'assign' && !st.op && st.targets.length === 1 && st.targets[0].kind === 'name' && roots.has(st.targets[0].name) && entriesOf(st.value).some(holds));
}

/** The names of a place's path, its root first: `layer`, `i` of `layer.W[i]`; none for a computed value. */
function pathNames(e: Expr): string[] {
  if (e.kind === 'name') return [e.name];
  if (e.kind === 'attr') return pathNames(e.object);
  if (e.kind === 'index') {
    const base = pathNames(e.object);
    return base.length === 0 ? [] : [...base, ...e.index.flatMap((i) => (i.kind === 'name' ? [i.name] : []))];
  }
  return [];
}

/**
 * A loop of another function that calls the step method once per parameter, `for w, g in
 * zip(params, grads): self.update(w, g)`: the innermost loop around every call of the step in that
 * function picks what the call hands it. Undefined when some call of the step is not in such a loop.
 */
function perParameterCaller(step: OptimizerStep, calls: StepCalls, source: (s: Span) => string): { loop: Loop; driver: FunctionDef } | undefined {
  if (!step.fn.isMethod) return undefined;
  let found: { loop: Loop; driver: FunctionDef } | undefined;
  // Callers in other modules only for a method handed the tensors it updates (`update_params(self, layer)`
  // stepping `layer.weights`): a step over the object's own fields cannot be called once per parameter.
  const own = new Set(['self', 'this']);
  const params = new Set(step.fn.params.map((p) => p.name).filter((n) => !own.has(n)));
  const handed = step.params.every((p) => {
    const root = pathNames(p.eq.target)[0];
    return root !== undefined && params.has(root);
  });
  const elsewhere = handed && calls.projectCallers ? calls.projectCallers(step.fn) : [];
  for (const { call, fn: driver } of [...calls.callers(step.fn), ...(calls.baseCallers?.(step.fn) ?? []), ...elsewhere]) {
    if (driver === step.fn || call.callee.kind !== 'attr') return undefined;
    const own = loopsAround(driver.body, call.span);
    if (!own || own.length === 0) return undefined;
    const handed: Expr = { kind: 'seq', items: handedTensors(step, call), span: call.span };
    const loop = own[own.length - 1];
    if (!walks(loop, handed)) return undefined;
    // An object per parameter (`for opt, p in zip(opts, params): opt.update(p)`) keeps a count per parameter.
    const receiver = pickedBy(driver.body, call.callee.object, [], source);
    if (names(loop.target).some((n) => receiver.has(n))) return undefined;
    // An object built anew in the loop (`rule = Adam(lr)` then `rule.step(...)`): each parameter's own, fresh (NB208).
    if (call.callee.object.kind === 'name' && step.fn.cls && constructedIn(loop, call.callee.object.name, step.fn.cls.name)) return undefined;
    found ??= { loop, driver };
  }
  return found;
}

/** Does the statement at `span` call a method through a local the loop binds to a construction of the method's class? */
function freshReceiverAt(body: Stmt[], span: Span, loop: Loop, calls: StepCalls): boolean {
  const stmt = ownStatements(body).find((x) => x.span.start === span.start && x.span.end === span.end);
  const roots = !stmt ? [] : stmt.kind === 'assign' ? [stmt.value] : stmt.kind === 'expr' ? [stmt.expr] : stmt.kind === 'return' && stmt.value ? [stmt.value] : [];
  return roots.some((root) =>
    subExprs(root).some((x) => {
      if (x.kind !== 'call' || x.callee.kind !== 'attr' || x.callee.object.kind !== 'name') return false;
      const cls = calls.methodOf(x)?.cls;
      return cls !== undefined && constructedIn(loop, x.callee.object.name, cls.name);
    }),
  );
}

/** Does the loop bind `name` to a construction of the class `cls` (`rule = Moments(lr)`)? */
function constructedIn(loop: Loop, name: string, cls: string): boolean {
  return ownStatements(loop.body).some(
    (s) => s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name && s.value.kind === 'call' && s.value.callee.kind === 'name' && s.value.callee.name === cls,
  );
}

export interface PowerRestartedPerCall {
  /** The local (`p1`) and the β it is multiplied by. */
  name: string;
  beta: string;
  /** Where it is started before the loop, on every call, when the step's own statement shows it. */
  start?: Span;
  /** Started at 1 (else at β). */
  startsAtOne: boolean;
  /** Where the loop multiplies it by β. */
  advance: Span;
  /** The loop that walks the parameters. */
  loop: Loop;
  /** A correction that reads it. */
  correction: Span;
}

/**
 * Local β powers the corrections read that the step starts again on every call (`p1 = b1`) and
 * advances in the loop that walks the parameters (`p1 = p1 * b1` once per parameter): no step count
 * reaches them, so the k-th parameter is corrected by 1 − β^(k+1) on every step. A local advanced in
 * a loop that repeats the update on the same tensors (a loop over steps) is a correct running power.
 */
export function powersRestartedPerCall(step: OptimizerStep): PowerRestartedPerCall[] {
  const found: PowerRestartedPerCall[] = [];
  if (!step.localPowers || step.params.length === 0) return found;
  const body = step.fn.body;
  for (const [exponent, p] of step.localPowers) {
    if (!within(p.advance, step.fn.span) || (p.loop.kind !== 'for' && !(p.loop.kind === 'block' && p.loop.label === 'while'))) continue;
    const loop = p.loop as Loop;
    const readers = step.corrections.filter((c) => c.exp !== undefined && polyEquals(c.exp, sym(exponent)) && within(c.span, loop.span));
    if (readers.length === 0) continue;
    const around = loopsAround(body, p.advance);
    if (!around || around[around.length - 1] !== loop) continue;
    // The loop walks every parameter the step updates, and is the innermost loop that does.
    const perParameter = step.params.every((u) => {
      if (u.eq.spans.length === 0 || !u.eq.spans.every((s) => within(s, loop.span))) return false;
      const own = loopsAround(body, u.eq.spans[0]);
      const walking = own?.filter((l) => walks(l, u.eq.target)) ?? [];
      return walking.length > 0 && walking[walking.length - 1] === loop;
    });
    if (!perParameter) continue;
    found.push({ name: p.name, beta: p.beta, ...(p.start ? { start: p.start } : {}), startsAtOne: p.startsAtOne, advance: p.advance, loop, correction: readers[0].span });
  }
  return found;
}
