// Accumulated gradients one optimizer never resets (NB411). Layers that add each sample's gradient
// into buffers (`this.gw[i * n + j] += x[i] * err[j]`) leave emptying them to whoever steps with
// them; here the optimizers do it after their step (`g[k] = 0`, `g.fill(0)`), and one of them does
// not: with it every step reads the sum of every gradient since the start. Read from a call of the
// optimizer's step (`opt.apply(layer.paramsAndGrads(), n)`), by data flow across files:
//  - the argument is a method's list of its instance's fields (`return [this.w, this.gw, this.b, this.gb]`),
//    some of which a method of that class adds into with `+=` (directly or through a local alias) and
//    no method of it but the constructor sets back (an entry set to 0, `fill(0)`, a new array);
//  - the step the call runs takes entries of that list into locals, steps some of them in place with
//    the others (the gradients) and sets none of them to zero (through its locals or the list: `pg[j].fill(0)`),
//    nor hands them or the list to a call that might;
//  - another class beside the optimizer's, with a method of the same name, sets the entries it reads to zero
//    (the project's own convention: the optimizer empties the buffers);
//  - the function that makes the call resets none of those fields, itself (or the entries of the list it
//    hands the step) or in a function it calls (`clearGrads(layer)`, one call deep).
// Fresh gradient arrays each step, a `zero_grad()`-style reset in the loop, and accumulation over k
// micro-batches reset every k steps are other code and stay silent.
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { forEachChild, type ClassDef, type FunctionDef, type Scope } from './scope';
import { programIndex } from './program';
import { numberOf } from './analysis';
import { READING_CALLS } from './catalogue';
import { callArguments, returnsOf } from './resolve';

export interface UnresetGradient {
  /** Where the step takes a gradient from the list it is handed (`g = pg[j + 1]`). */
  span: Span;
  step: FunctionDef;
  /** Where a sibling optimizer sets its gradient entries to zero, and its class. */
  sibling: { cls: string; span: Span };
  /** Where a layer adds into a gradient buffer, and the field. */
  accumulated: { field: string; span: Span };
  /** The call of the step. */
  call: Span;
}

const cache = new WeakMap<Facts, UnresetGradient[]>();

export function unresetGradients(facts: Facts): UnresetGradient[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): UnresetGradient[] {
  const out: UnresetGradient[] = [];
  const seen = new Set<number>();
  const index = programIndex(facts);
  for (const { call, scope, at } of index.calls) {
    if (call.callee.kind !== 'attr' || call.args.length === 0) continue;
    // Cheap first: an argument that is a method's list of its instance's fields, some of them accumulated.
    const lists = call.args.map((a) => ({ a, list: a.kind === 'call' || a.kind === 'name' ? fieldList(facts, a, scope, at) : undefined }));
    const accumulatedLists = lists.map(({ a, list }) => ({ a, list, accumulated: list ? accumulatedOf(list.cls, list.fields) : [] })).filter((x) => x.accumulated.length > 0);
    if (accumulatedLists.length === 0) continue;
    const target = facts.analyzer.callTarget(call, scope, at);
    if (!target || target.constructs || !target.fn.cls || target.candidates) continue;
    const step = target.fn;
    const args = callArguments(call, target);
    for (const { a, accumulated } of accumulatedLists) {
      const position = args.indexOf(a);
      if (position < 0) continue;
      const param = callParams(step)[position];
      if (!param) continue;
      const own = readStep(facts, step, param.name);
      if (!own || own.resets || own.unknown) continue;
      const sibling = resettingSibling(facts, step, step.cls!, position);
      if (!sibling) continue;
      const caller = index.enclosingFunction(scope);
      if (callerResets(facts, caller, accumulated.map((x) => x.field), a.kind === 'name' ? a.name : undefined)) continue;
      if (seen.has(own.gradient.start)) continue;
      seen.add(own.gradient.start);
      out.push({ span: own.gradient, step, sibling, accumulated: accumulated[0], call: call.span });
    }
  }
  return out;
}

/** A method call (or a local bound once to one) whose one return is a list of its instance's fields: `[this.w, this.gw]`. */
function fieldList(facts: Facts, e: Expr, scope: Scope, at: number): { cls: ClassDef; fields: string[] } | undefined {
  if (e.kind === 'name') {
    const b = scope.lookup(e.name, at);
    if (!b || b.kind !== 'assign' || b.op || !b.value || b.value.kind !== 'call' || b.scope.allBindings(e.name).length !== 1) return undefined;
    return fieldList(facts, b.value, b.scope, b.at);
  }
  // A getter: `layer.paramsAndGrads()`.
  if (e.kind !== 'call' || e.callee.kind !== 'attr' || e.args.length > 0 || e.kwargs.length > 0) return undefined;
  const target = facts.analyzer.callTarget(e, scope, at);
  const cls = target?.fn.cls;
  if (!target || !cls || target.constructs) return undefined;
  const returns = returnsOf(facts.program, target.fn);
  if (returns.length !== 1 || returns[0].expr.kind !== 'seq') return undefined;
  const fields: string[] = [];
  for (const item of returns[0].expr.items) {
    const field = ownField(item);
    if (field === undefined) return undefined;
    fields.push(field);
  }
  return fields.length >= 2 ? { cls, fields } : undefined;
}

const accumulatedCache = new WeakMap<ClassDef, Map<string, { field: string; span: Span }[]>>();

function accumulatedOf(cls: ClassDef, fields: string[]): { field: string; span: Span }[] {
  let byList = accumulatedCache.get(cls);
  if (!byList) accumulatedCache.set(cls, (byList = new Map()));
  const key = fields.join(',');
  let found = byList.get(key);
  if (!found) byList.set(key, (found = accumulatedFields(cls, fields)));
  return found;
}

function methodsOf(cls: ClassDef): FunctionDef[] {
  return [...cls.scope.functions.values()];
}

function isConstructor(fn: FunctionDef): boolean {
  return fn.name === 'constructor' || fn.name === '__init__';
}

/** The fields a method of the class adds into with `+=` (through an alias local too), that no method but the constructor sets back. */
function accumulatedFields(cls: ClassDef, fields: string[]): { field: string; span: Span }[] {
  const added = new Map<string, Span>();
  const reset = new Set<string>();
  for (const fn of methodsOf(cls)) {
    if (isConstructor(fn)) continue;
    const alias = new Map<string, string>();
    walk(fn.body, (st) => {
      if (st.kind !== 'assign' && st.kind !== 'expr') return;
      if (st.kind === 'assign' && st.targets.length === 1) {
        const t = st.targets[0];
        const field = fieldOf(t, alias);
        // `const wg = this.gw`: an alias of the buffer.
        if (t.kind === 'name' && !st.op && field === undefined) {
          const f = fieldOf(st.value, alias);
          if (f !== undefined && (st.value.kind === 'attr')) alias.set(t.name, f);
        }
        // `self.dW += np.outer(x, delta)` (Python adds into the array in place); `self.dW = …` or `*= 0` sets it back.
        if (t.kind === 'attr' && field !== undefined && fields.includes(field)) {
          if (st.op === '+' || st.op === '-') {
            if (!added.has(field)) added.set(field, st.span);
          } else if (!st.op || (st.op === '*' && numberOf(st.value) === 0)) reset.add(field);
        }
        if (t.kind === 'index') {
          const f = fieldOf(baseOf(t), alias);
          if (f === undefined || !fields.includes(f)) return;
          if (st.op === '+' || st.op === '-') {
            if (!added.has(f)) added.set(f, st.span);
          } else if (!st.op && numberOf(st.value) === 0) reset.add(f);
          else if (st.op === '*' && numberOf(st.value) === 0) reset.add(f);
        }
      }
      const e = st.kind === 'expr' ? st.expr : undefined;
      if (e && zeroFill(e)) {
        const f = fieldOf((e as Expr & { kind: 'call' } & { callee: { object: Expr } }).callee.object, alias);
        if (f !== undefined) reset.add(f);
      }
    });
  }
  return [...added].filter(([f]) => !reset.has(f)).map(([field, span]) => ({ field, span }));
}

/** `this.gw` (or an alias of it) → `gw`. */
function fieldOf(e: Expr, alias: Map<string, string>): string | undefined {
  if (e.kind === 'name') return alias.get(e.name);
  return ownField(e);
}

/** A field of the method's own instance (`this.gw`, `self.dW`, whatever the receiver is named: the IR's mark). */
function ownField(e: Expr): string | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && e.object.receiver ? e.name : undefined;
}

/**
 * The parameters a call's arguments fill: a Python method's receiver (its first parameter, whatever
 * its name, known by the IR's mark on its uses; undecorated methods' first parameter when unused) left out.
 */
function callParams(fn: FunctionDef): readonly Param[] {
  const first = fn.params[0];
  if (!fn.isMethod || !first || first.rest || fn.scope.file.language !== 'python') return fn.params;
  let marked = false;
  walk(fn.body, (st) => {
    if (marked) return;
    const roots = st.kind === 'assign' ? [...st.targets, st.value] : st.kind === 'expr' ? [st.expr] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'for' ? [st.iter] : st.kind === 'block' ? st.heads : [];
    for (const r of roots) visit(r, (e) => {
      if (e.kind === 'name' && e.receiver && e.name === first.name) marked = true;
    });
  });
  return marked || fn.decorators.length === 0 ? fn.params.slice(1) : fn.params;
}

function baseOf(e: Expr): Expr {
  while (e.kind === 'index') e = e.object;
  return e;
}

/** `x.fill(0)`, `x.zero_()`. */
function zeroFill(e: Expr): boolean {
  if (e.kind !== 'call' || e.callee.kind !== 'attr') return false;
  if (e.callee.name === 'fill') return e.args.length >= 1 && numberOf(e.args[0]) === 0;
  return e.callee.name === 'zero_' && e.args.length === 0;
}

/**
 * How a step reads the list it is handed as `param`: its locals bound to entries of it (`p = pg[j]`,
 * `g = pg[j + 1]`), the ones it steps in place (`p[k] += …`), a gradient among the others, whether it
 * sets any of them to zero, and whether it hands one to a call (which might).
 */
function readStep(facts: Facts, fn: FunctionDef, param: string): { gradient: Span; resets: boolean; unknown: boolean } | undefined {
  const entries = new Map<string, Span>();
  walk(fn.body, (st) => {
    if (st.kind !== 'assign' || st.op || st.targets.length !== 1 || st.targets[0].kind !== 'name') return;
    const v = st.value;
    if (v.kind === 'index' && v.object.kind === 'name' && v.object.name === param) entries.set(st.targets[0].name, st.span);
  });
  if (entries.size < 2) return undefined;
  const stepped = new Set<string>();
  const ofEntry = (x: Expr): boolean => x.kind === 'name' && entries.has(x.name);
  const ofList = (x: Expr): boolean => {
    const b = baseOf(x);
    return b.kind === 'name' && b.name === param;
  };
  let resets = false;
  let unknown = false;
  const read = new Set<string>();
  walk(fn.body, (st) => {
    if (st.kind === 'assign' && st.targets.length === 1) {
      const t = st.targets[0];
      const b = baseOf(t);
      // An entry's element (`g[k]`), or an element of an entry written through the list (`pg[j + 1][k]`);
      // `pg[j] = …` itself only replaces the list's entry, not the layer's buffer.
      const name = b.kind === 'name' && entries.has(b.name) ? b.name : t.kind === 'index' && t.object.kind === 'index' && b.kind === 'name' && b.name === param ? param : undefined;
      if (t.kind === 'index' && name !== undefined) {
        if ((!st.op && numberOf(st.value) === 0) || (st.op === '*' && numberOf(st.value) === 0)) resets = true;
        else if (name !== param) stepped.add(name);
      }
      // Python's in-place operators on a whole array: `w -= lr * g` steps it, `g *= 0` empties it.
      if (t.kind === 'name' && entries.has(t.name) && st.op) {
        if (st.op === '*' && numberOf(st.value) === 0) resets = true;
        else if (st.op === '+' || st.op === '-') stepped.add(t.name);
      }
    }
    const roots = st.kind === 'assign' ? [st.value, ...st.targets.filter((t) => t.kind === 'index')] : st.kind === 'expr' ? [st.expr] : st.kind === 'return' && st.value ? [st.value] : st.kind === 'block' || st.kind === 'for' ? (st.kind === 'for' ? [st.iter] : st.heads) : [];
    for (const r of roots) visit(r, (e) => {
      if (e.kind === 'index' && e.object.kind === 'name' && entries.has(e.object.name)) read.add(e.object.name);
      else if (e.kind === 'name' && entries.has(e.name)) read.add(e.name);
      if (e.kind === 'call') {
        if (zeroFill(e) && e.callee.kind === 'attr' && (ofEntry(e.callee.object) || (e.callee.object.kind === 'index' && ofList(e.callee.object)))) resets = true;
        // An entry, or the list itself (`this.clip(pg)`), handed to a call that might empty it (not a builtin that only reads: `len(pg)`).
        else if (!(e.callee.kind === 'name' && READING_CALLS.has(e.callee.name)) && e.args.some((x) => ofEntry(x) || ofList(x))) unknown = true;
      }
    });
  });
  void facts;
  const gradients = [...entries.keys()].filter((n) => !stepped.has(n) && read.has(n));
  if (stepped.size === 0 || gradients.length === 0) return undefined;
  return { gradient: entries.get(gradients[0])!, resets, unknown };
}

/** Another class beside `cls` whose method of the same name sets to zero the gradient entries of the list it gets at the same position. */
function resettingSibling(facts: Facts, step: FunctionDef, cls: ClassDef, position: number): { cls: string; span: Span } | undefined {
  for (const other of cls.outer.classes.values()) {
    if (other === cls) continue;
    const fn = other.scope.functions.get(step.name);
    if (!fn) continue;
    const param = callParams(fn)[position];
    if (!param) continue;
    const read = readStep(facts, fn, param.name);
    if (read?.resets) return { cls: other.name, span: resetSpan(fn, param.name) ?? fn.span };
  }
  return undefined;
}

function resetSpan(fn: FunctionDef, param: string): Span | undefined {
  const entries = new Set<string>([param]);
  let found: Span | undefined;
  walk(fn.body, (st) => {
    if (found) return;
    if (st.kind === 'assign' && st.targets.length === 1 && st.targets[0].kind === 'name' && st.value.kind === 'index' && st.value.object.kind === 'name' && st.value.object.name === param) entries.add(st.targets[0].name);
    // `g[k] = 0`, `g[:] = 0`, and Python's `g *= 0` on the whole array.
    if (st.kind === 'assign' && st.targets.length === 1 && st.targets[0].kind === 'name' && st.op === '*' && numberOf(st.value) === 0 && entries.has(st.targets[0].name)) found = st.span;
    if (st.kind === 'assign' && st.targets.length === 1 && st.targets[0].kind === 'index' && !st.op && numberOf(st.value) === 0) {
      const b = baseOf(st.targets[0]);
      if (b.kind === 'name' && entries.has(b.name)) found = st.span;
    }
    if (st.kind === 'expr' && zeroFill(st.expr) && st.expr.kind === 'call' && st.expr.callee.kind === 'attr') {
      const b = baseOf(st.expr.callee.object);
      if (b.kind === 'name' && entries.has(b.name)) found = st.span;
    }
  });
  return found;
}

/**
 * Does the function that calls the step reset any of the fields, itself or in a function it calls
 * (`clearGrads(layer)`, `net.zeroGrad()`; one call deep, constructors aside)?
 */
function callerResets(facts: Facts, caller: FunctionDef | undefined, fields: string[], list: string | undefined): boolean {
  if (resetsFields(caller ? caller.body : facts.module.body, fields, list)) return true;
  for (const { call, scope, at } of programIndex(facts).calls) {
    if (caller && (call.span.start < caller.span.start || call.span.end > caller.span.end)) continue;
    const target = facts.analyzer.callTarget(call, scope, at);
    if (!target || target.constructs || target.fn === caller) continue;
    for (const fn of target.candidates ?? [target.fn]) if (!isConstructor(fn) && resetsFields(fn.body, fields, undefined)) return true;
  }
  return false;
}

/**
 * Does a body reset any of the fields (`layer.gw.fill(0)`, `layer.gw[k] = 0`, `layer.gw = new …`), or an
 * entry of the list handed to the step (`pg[j].fill(0)`, `pg[j][k] = 0`)?
 */
function resetsFields(body: readonly Stmt[], fields: string[], list: string | undefined): boolean {
  let found = false;
  const last = (e: Expr): string | undefined => (e.kind === 'attr' ? e.name : undefined);
  const ofList = (e: Expr): boolean => list !== undefined && e.kind === 'index' && baseOf(e).kind === 'name' && (baseOf(e) as Expr & { kind: 'name' }).name === list;
  walk(body, (st) => {
    if (found) return;
    if (st.kind === 'assign') {
      for (const t of st.targets) {
        const b = baseOf(t);
        const f = last(b);
        // `layer.gw = new …` or `layer.dW *= 0` sets it back; `layer.dW += …` (a layer's backward) adds into it.
        const zeroed = (!st.op && numberOf(st.value) === 0) || (st.op === '*' && numberOf(st.value) === 0);
        if (f && fields.includes(f) && ((t.kind === 'attr' && !st.op) || zeroed)) found = true;
        if (t.kind === 'index' && ofList(t.object) && !st.op && numberOf(st.value) === 0) found = true;
      }
    }
    if (st.kind === 'expr') visit(st.expr, (e) => {
      if (zeroFill(e) && e.kind === 'call' && e.callee.kind === 'attr') {
        const f = last(baseOf(e.callee.object));
        if ((f && fields.includes(f)) || ofList(e.callee.object)) found = true;
      }
    });
  });
  return found;
}

function walk(body: readonly Stmt[], f: (st: Stmt) => void): void {
  for (const st of body) {
    f(st);
    if (st.kind === 'for' || st.kind === 'block') walk(st.body, f);
  }
}

function visit(e: Expr, f: (e: Expr) => void): void {
  f(e);
  forEachChild(e, (c) => visit(c, f));
}
