// Penalties that never reach the loss, for NB304: a penalty assigned to a variable that nothing
// reads, a penalty overwritten before anything reads it, and a sum with a penalty computed by an
// operation whose result is thrown away (`loss.add(penalty)`, `tf.add(loss, penalty)` as a
// statement: tensors are immutable). Computed once per Facts object.
//
// Whether a variable is read is decided from the IR and, where the IR keeps no expressions, from
// the source text: statements the lowerers drop (`assert`, `raise`, `global`, `del`, Python 2
// `print`/`exec`, `match`/`case` bodies, decorators), f-string interpolations (a `str` keeps only
// its text), and dynamic lookups (`locals()`, `eval(...)`). A read the IR cannot see must still
// keep a penalty from being reported. These stay text on purpose: lowering the dropped statements
// would hand their calls to every other facts module, and would not reproduce what the text test
// counts (a statement's first line; `del` of several names, not of one).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import type { ClassDef, FunctionDef } from './scope';
import { resolveName, returnsOf } from './resolve';
import { isLossName, isRegularizerKnobName } from './roles';
import { LIST_SUMS } from './catalogue';
import { callName, stmtExprs, subExprs, trainingFacts, within, type StmtInfo, type TrainingFacts } from './loops';
import { isAutodiffClass, mayDifferentiate } from './autodiff';

export type LostPenalty =
  /** `reg = lam * l2` and nothing reads `reg`. */
  | { kind: 'unread'; name: string; target: Span }
  /** `reg = lam * l2` assigned again (by `next`) before anything reads it. */
  | { kind: 'overwritten'; name: string; target: Span; next: Stmt }
  /**
   * `loss.add(reg)` as a statement: `sum` computes a new value that is thrown away. `cls` and
   * `method` name a project class whose method returns a new instance (a micrograd `Value`).
   */
  | { kind: 'discarded'; sum: Expr; penalty: Expr; cls?: string; method?: string; autodiffClass?: boolean }
  /**
   * `error += reg.gradient(layers)` beside `err += reg.call(layers)`: a regularizer's gradient
   * added to a variable that nothing reads afterwards (`next` overwrites it first, or nothing
   * does and the function ends), while its penalty goes into the loss beside it.
   */
  | { kind: 'deadGradient'; name: string; stmt: Stmt; gradient: Expr; penalty: Expr; next?: Stmt };

const cache = new WeakMap<Facts, LostPenalty[]>();

/** The file's penalties that never reach the loss, in statement order. */
export function lostPenalties(facts: Facts): LostPenalty[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(trainingFacts(facts))));
  return found;
}

/** Names of a class's methods and of its members (`_backward` of `this._backward`). */
function classNames(cls: ClassDef): string[] {
  return [...cls.scope.functions.keys(), ...[...cls.scope.members.keys()].map((k) => k.slice(k.indexOf('.') + 1))];
}

/** The file defines or imports a project value class that differentiates itself (micrograd's `Value`). */
function usesAutodiffClass(facts: Facts): boolean {
  const { scopes, program } = facts;
  for (const cls of scopes.root.classes.values()) if (isAutodiffClass(classNames(cls))) return true;
  for (const [name, imported] of scopes.imports) {
    if (imported.name === undefined) continue;
    const def = resolveName(program, name, scopes.root, Infinity);
    if (def?.kind === 'class' && isAutodiffClass(classNames(def.cls))) return true;
  }
  return false;
}

function collect(t: TrainingFacts): LostPenalty[] {
  const out: LostPenalty[] = [];
  // Every finding here means "the penalty never reaches the loss that is differentiated". In a file
  // that differentiates nothing and imports no autodiff framework (hand-written NumPy gradients),
  // there is no such loss: the penalty's place is the hand-written gradient, and the loss is only
  // reported. A project value class with its own `backward()` (micrograd) still counts.
  const differentiable = mayDifferentiate(t.diffs.length > 0, [...t.facts.scopes.imports.values()].map((i) => i.module)) || usesAutodiffClass(t.facts);
  const reported = new Set<number>();
  const unread = new Set<string>();
  const infoOf = new Map<Stmt, StmtInfo>(t.infos.map((i) => [i.stmt, i]));
  for (const info of t.infos) {
    const s = info.stmt;
    const dead = deadGradient(t, info, infoOf);
    if (dead) {
      out.push(dead);
      continue;
    }
    if (s.kind === 'expr') {
      const lost = discarded(t, info, s.expr);
      if (lost && (differentiable || lost.autodiffClass)) out.push(lost);
      continue;
    }
    if (!differentiable) continue;
    const name = candidate(t, info);
    if (!name || s.kind !== 'assign') continue;
    const region = info.scope.span;
    const regionKey = `${region.start}:${name}`;
    // What is reported of a penalty is decided first, the penalty last: most assignments are read
    // and not overwritten unread, and whether a value is a penalty is the costly question.
    const unreadHere = !unread.has(regionKey) && !isRead(t, name, region, info) && trainingContext(t, region);
    let next: Stmt | undefined;
    if (!unreadHere) {
      if (s.op || reported.has(s.targets[0].span.start) || !assignedAfter(info, name)) continue;
      next = overwrite(t, info, name);
      if (!next) continue;
    }
    if (!t.penalty(s.value, info.scope, s.span.start)) continue;
    reported.add(s.targets[0].span.start);
    if (unreadHere) {
      unread.add(regionKey);
      out.push({ kind: 'unread', name, target: s.targets[0].span });
    } else out.push({ kind: 'overwritten', name, target: s.targets[0].span, next: next! });
  }
  return out;
}

/** Per statement list: the positions of its plain assignments to each name (`overwrite` can only stop at one). */
const plainAssignments = new WeakMap<Stmt[], Map<string, number[]>>();

/** A later statement of the same list assigns `name` plainly (`reg = …`): a necessary condition of `overwrite`. */
function assignedAfter(info: StmtInfo, name: string): boolean {
  let byName = plainAssignments.get(info.list);
  if (!byName) {
    byName = new Map();
    info.list.forEach((s, j) => {
      if (s.kind !== 'assign' || s.op) return;
      for (const x of s.targets) {
        if (x.kind !== 'name') continue;
        const list = byName!.get(x.name);
        if (list) list.push(j);
        else byName!.set(x.name, [j]);
      }
    });
    plainAssignments.set(info.list, byName);
  }
  return byName.get(name)?.some((j) => j > info.index) ?? false;
}

/** A single-name assignment that may be of a penalty (`reg = lam * l2`, `reg += p.pow(2).sum()`), outside class bodies; whether its value is a penalty is asked last. */
function candidate(t: TrainingFacts, info: StmtInfo): string | undefined {
  const s = info.stmt;
  if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name' || info.unit.kind === 'class') return undefined;
  const name = s.targets[0].name;
  if (name.startsWith('_') || (s.op && s.op !== '+')) return undefined;
  // `dW2 += ...` on a parameter (or a name bound outside) mutates the caller's array in place.
  if (s.op) {
    const binding = info.scope.lookup(name, s.span.start);
    if (!binding || binding.kind === 'param' || binding.scope !== info.scope) return undefined;
  }
  if (s.exported) return undefined;
  return name;
}

/** Lines of statements the IR drops, whose reads only the text shows (see the header). */
const hiddenStatement = /^\s*(assert|raise|global|nonlocal|match|case|print|exec|yield|await|del\s+\w+\s*,|@)\b/;
/** Lookups by a name the code computes: any variable may be read through them. */
const dynamic = /\b(locals|vars|eval|exec|globals)\s*\(/;

/**
 * Whether a region reads `name` where the IR cannot show it: a dynamic lookup (`locals()`), a
 * statement the IR drops, or an f-string (`f"{reg}"`, whose text only the IR keeps) among `strings`.
 */
export function textReads(facts: Facts, name: string, region: Span, strings: string[]): boolean {
  const text = facts.source(region);
  if (dynamic.test(text)) return true;
  const word = wordPattern(name);
  for (const line of text.split('\n')) if (hiddenStatement.test(line) && word.test(line)) return true;
  return strings.some((s) => /[{}]/.test(s) && word.test(s));
}

/** `name` as a whole word (not an attribute `x.name`, not part of `name_2`). */
function wordPattern(name: string): RegExp {
  return new RegExp(`(?<![\\w.$])${name.replace(/\$/g, '\\$')}(?![\\w$])`);
}

/** Any use of `name` in the region other than assignments to it and the statements that rebind it from itself. */
function isRead(t: TrainingFacts, name: string, region: Span, self: StmtInfo): boolean {
  if (namesReadIn(t, region).has(name)) return true;
  const text = t.facts.source(region);
  if (dynamic.test(text)) return true;
  const word = wordPattern(name);
  for (const line of text.split('\n')) if (hiddenStatement.test(line) && word.test(line)) return true;
  for (const info of t.infosIn(region)) if (readsIn(info.stmt, name, word)) return true;
  return self.unit.kind === 'module' && t.facts.scopes.root.bindings.has('__all__');
}

const namesRead = new WeakMap<TrainingFacts, Map<string, Set<string>>>();

/**
 * The names the region's statements read as `readsIn` finds them (its f-strings aside), once per
 * region: the name of a statement that rebinds it from its old value (`reg = reg * lam`) is not
 * read by that statement's value. `readsIn(s, n, …)` holds for any `n` in this set.
 */
function namesReadIn(t: TrainingFacts, region: Span): Set<string> {
  let byRegion = namesRead.get(t);
  if (!byRegion) namesRead.set(t, (byRegion = new Map()));
  const key = `${region.start}:${region.end}`;
  let names = byRegion.get(key);
  if (names) return names;
  names = new Set();
  for (const info of t.infosIn(region)) {
    const s = info.stmt;
    const rebound = s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' ? s.targets[0].name : undefined;
    const exprs = s.kind === 'assign' ? [...s.targets.flatMap(targetReads), s.value] : stmtExprs(s);
    for (const root of exprs) {
      const value = s.kind === 'assign' && root === s.value;
      for (const x of subExprs(root, true)) if (x.kind === 'name' && !(value && x.name === rebound)) names.add(x.name);
    }
  }
  byRegion.set(key, names);
  return names;
}

/**
 * Whether a statement's own expressions read `name`. A statement that rebinds `name` from its old
 * value (`reg += p.pow(2).sum()`, `reg = reg * lam`) does not: what it reads only feeds `name` again.
 */
function readsIn(s: Stmt, name: string, word: RegExp): boolean {
  const rebinding = s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name;
  const exprs = s.kind === 'assign' ? [...s.targets.flatMap(targetReads), s.value] : stmtExprs(s);
  for (const root of exprs) {
    for (const x of subExprs(root, true)) {
      if (x.kind === 'name' && x.name === name && !(rebinding && root === (s as { value: Expr }).value)) return true;
      if (x.kind === 'str' && /[{}]/.test(x.value) && word.test(x.value)) return true; // f-strings: the IR keeps their text only
    }
  }
  return false;
}

/** What an assignment target reads: not the names it binds (`a, b = f()` included), but `x` of `x.w = …` and `i` of `v[i] = …`. */
function targetReads(target: Expr): Expr[] {
  if (target.kind === 'name') return [];
  if (target.kind === 'seq') return target.items.flatMap(targetReads);
  return [target];
}

/** The function (or script) computes a loss or trains: a backward/gradient call, or a loss variable. */
function trainingContext(t: TrainingFacts, region: Span): boolean {
  if (t.diffs.some((d) => within(d.call.span, region))) return true;
  return t.infosIn(region).some((i) => {
    if (i.stmt.kind === 'assign') return i.stmt.targets.some((x) => isLossName(exprKey(x) ?? ''));
    return i.stmt.kind === 'return' && !!i.stmt.value && isLossName(t.text(i.stmt.value));
  });
}

/**
 * The next statement in the same list that overwrites `name` before anything reads it. Read from
 * the text between and of the statements (comments left out), which holds what the IR drops.
 */
function overwrite(t: TrainingFacts, info: StmtInfo, name: string): Stmt | undefined {
  const word = new RegExp(`(?<![\\w.$])${name}(?![\\w$])`);
  for (let j = info.index + 1; j < info.list.length; j++) {
    const s = info.list[j];
    const between = t.facts.source({ start: info.stmt.span.end, end: s.span.start }).replace(/(#|\/\/)[^\n]*/g, '');
    if (s.kind === 'assign' && !s.op && s.targets.some((x) => x.kind === 'name' && x.name === name)) {
      if (word.test(between) || word.test(t.text(s.value))) return undefined;
      return s;
    }
    if (word.test(between + t.text(s))) return undefined;
  }
  return undefined;
}

/** A method that leaves its instance as it was and returns a value: `return Value(self.data + other.data, ...)`. */
function returnsNewValue(t: TrainingFacts, fn: FunctionDef): boolean {
  const members = fn.scope.classScope?.members;
  const writes = members ? [...members.values()].flat().some((b) => b.scope === fn.scope || within(b.span, fn.span)) : false;
  if (writes) return false;
  const returns = returnsOf(t.facts.program, fn);
  return returns.length > 0 && returns.every((r) => !(r.expr.kind === 'name' && /^(self|this)$/.test(r.expr.name)));
}

/** `loss.add(reg)`, `tf.add(loss, reg)`, `loss + reg` as a statement: the sum is thrown away. */
function discarded(t: TrainingFacts, info: StmtInfo, e: Expr): (LostPenalty & { kind: 'discarded' }) | undefined {
  const at = info.stmt.span.start;
  let parts: Expr[] | undefined;
  if (e.kind === 'binary' && e.op === '+') parts = t.addends(e);
  else if (e.kind === 'call') {
    if (e.kwargs.some((k) => k.name === 'out')) return undefined;
    const arith = t.facts.analyzer.arithmeticCall(e);
    const name = callName(e);
    if (arith?.op === '+' && arith.operands[1]) {
      const methodForm = e.callee.kind === 'attr' && !t.facts.analyzer.isModule(e.callee.object);
      // A project class's `add` (a micrograd `Value`) is read: one that updates its instance keeps the sum.
      const own = methodForm ? t.facts.analyzer.callTarget(e, info.scope, at) : undefined;
      if (own && !own.constructs && !returnsNewValue(t, own.fn)) return undefined;
      // `seen.add(x)` on a Python set is not arithmetic: the receiver must be a loss or a penalty.
      if (!own && methodForm && t.facts.language === 'python' && e.callee.kind === 'attr') {
        const receiver = e.callee.object;
        if (!isLossName(t.text(receiver)) && !t.penalty(receiver, info.scope, at)) return undefined;
      }
      parts = t.addends(e);
    } else if (name && LIST_SUMS.has(name) && e.args[0]?.kind === 'seq') parts = e.args[0].items;
  }
  if (!parts || parts.length < 2) return undefined;
  const penalty = parts.find((p) => t.penalty(p, info.scope, at));
  if (!penalty) return undefined;
  const own = e.kind === 'call' ? t.facts.analyzer.callTarget(e, info.scope, at) : undefined;
  const autodiffClass = own?.cls ? isAutodiffClass(classNames(own.cls)) : undefined;
  return { kind: 'discarded', sum: e, penalty, cls: own?.cls?.name, method: own?.cls ? own.fn.name : undefined, autodiffClass };
}

// ------------------------------------------------------------------ regularizer gradients nothing reads

/**
 * `error += self.regularizer.gradient(self.layers)` where the same object's other method with the
 * same arguments is added to another accumulator in the same statement list (`err +=
 * self.regularizer.call(self.layers)`, the penalty into the loss), and the accumulated name is dead
 * afterwards: every path from the statement overwrites it before reading it, or reads it nowhere.
 */
function deadGradient(t: TrainingFacts, info: StmtInfo, infoOf: Map<Stmt, StmtInfo>): (LostPenalty & { kind: 'deadGradient' }) | undefined {
  const s = info.stmt;
  if (s.kind !== 'assign' || (s.op !== '+' && s.op !== '-') || s.targets.length !== 1 || s.targets[0].kind !== 'name' || info.unit.kind === 'class') return undefined;
  const name = s.targets[0].name;
  const gradient = s.value;
  const receiver = methodReceiver(gradient);
  if (!receiver) return undefined;
  const penalty = info.list
    .map((other) => (other !== s && other.kind === 'assign' && other.op === '+' && other.targets.length === 1 && other.targets[0].kind === 'name' && other.targets[0].name !== name ? other.value : undefined))
    .find((v) => {
      const r = v && methodReceiver(v);
      return !!r && r.key === receiver.key && r.method !== receiver.method && r.args === receiver.args;
    });
  if (!penalty) return undefined;
  // The pair is a regularizer's: its penalty reads as one by data flow, or the object is named as one.
  const last = receiver.key.replace(/^.*\./, '');
  if (!t.penalty(penalty, info.scope, s.span.start) && !isRegularizerKnobName(last)) return undefined;
  // A name bound outside the function (a parameter, a global) is the caller's array: `+=` writes it in place.
  const binding = info.scope.lookup(name, s.span.start);
  if (!binding || binding.kind === 'param' || binding.scope !== info.scope) return undefined;
  const next = deadAfter(t, info, name, infoOf);
  return next === false ? undefined : { kind: 'deadGradient', name, stmt: s, gradient, penalty, next: next === true ? undefined : next };
}

/** `o.m(args)`: the receiver's key, the method and the arguments' text. */
function methodReceiver(e: Expr): { key: string; method: string; args: string } | undefined {
  if (e.kind !== 'call' || e.callee.kind !== 'attr') return undefined;
  const key = exprKey(e.callee.object);
  if (key === undefined) return undefined;
  return { key, method: e.callee.name, args: e.args.map((a) => exprKey(a) ?? `#${a.span.start}`).join(',') + (e.kwargs.length > 0 ? '|kw' : '') };
}

type FirstUse = { kind: 'write'; stmt: Stmt } | { kind: 'read' } | { kind: 'none' };

/**
 * After `info`'s statement, is `name` dead? Walks out through the enclosing statement lists: the
 * statements after it, and for a loop the statements before it in the body (the next iteration).
 * The statement that overwrites it first, true when nothing mentions it again, false when something
 * may read it. Mentions are read from the text (comments left out), which holds what the IR drops;
 * a loop's body is taken to run; a branch (`if`, `while`, `try`) that overwrites it first leaves the
 * path that skips it to what follows.
 */
function deadAfter(t: TrainingFacts, info: StmtInfo, name: string, infoOf: Map<Stmt, StmtInfo>): Stmt | boolean {
  const word = wordPattern(name);
  const inExpr = (root: Expr): boolean => subExprs(root, true).some((x) => (x.kind === 'name' && x.name === name) || (x.kind === 'str' && /[{}]/.test(x.value) && word.test(x.value)));
  // What the IR shows, and the statements it drops (and dynamic lookups), from the text.
  const mentions = (x: Stmt): boolean => {
    const text = t.facts.source(x.span);
    if (dynamic.test(text) || text.split('\n').some((line) => hiddenStatement.test(line) && word.test(line))) return true;
    const visit = (st: Stmt): boolean => stmtExprs(st).some(inExpr) || ((st.kind === 'for' || st.kind === 'block' || st.kind === 'function' || st.kind === 'class') && st.body.some(visit));
    return visit(x);
  };
  const firstUse = (stmts: readonly Stmt[], from: number, to: number): FirstUse => {
    for (let i = from; i < to; i++) {
      const x = stmts[i];
      if (!mentions(x)) continue;
      if (x.kind === 'assign' && !x.op && x.targets.length === 1 && x.targets[0].kind === 'name' && x.targets[0].name === name && !inExpr(x.value)) return { kind: 'write', stmt: x };
      // A loop's or a `with`'s body is taken to run: its first use is the statement's.
      if ((x.kind === 'for' && !inExpr(x.iter) && !inExpr(x.target)) || (x.kind === 'block' && x.label === 'with' && !x.heads.some(inExpr))) {
        const inner = firstUse(x.body, 0, x.body.length);
        return inner.kind === 'write' ? inner : { kind: 'read' };
      }
      // A branch may not run: one that overwrites first leaves the other path to what follows.
      if (x.kind === 'block' && x.label !== 'with' && x.label !== 'other' && !x.heads.some(inExpr)) {
        if (firstUse(x.body, 0, x.body.length).kind === 'write') continue;
      }
      return { kind: 'read' };
    }
    return { kind: 'none' };
  };
  // The chain of statement lists from the unit's body down to the statement's own.
  const levels: { list: Stmt[]; index: number; owner?: Stmt }[] = [];
  const ancestors = info.ancestors;
  if (ancestors.length > 0) {
    const first = infoOf.get(ancestors[0]);
    if (!first) return false;
    levels.push({ list: first.list, index: first.index });
    for (let k = 1; k < ancestors.length; k++) {
      const owner = ancestors[k - 1];
      const body = (owner as { body?: Stmt[] }).body;
      const index = body ? body.indexOf(ancestors[k]) : -1;
      if (!body || index < 0) return false;
      levels.push({ list: body, index, owner });
    }
  }
  levels.push({ list: info.list, index: info.index, owner: ancestors[ancestors.length - 1] });
  let overwritten: Stmt | undefined;
  for (let k = levels.length - 1; k >= 0; k--) {
    const { list, index, owner } = levels[k];
    const after = firstUse(list, index + 1, list.length);
    if (after.kind === 'write') return overwritten ?? after.stmt;
    if (after.kind === 'read') return false;
    const loops = owner && (owner.kind === 'for' || (owner.kind === 'block' && owner.label === 'while'));
    if (loops) {
      // The next iteration: the body's statements before this one (reaching this one, its `+=` reads),
      // and when the loop ends, what follows it.
      const before = firstUse(list, 0, index);
      if (before.kind !== 'write') return false;
      overwritten ??= before.stmt;
      continue;
    }
    if (owner && owner.kind === 'block' && owner.label !== 'if' && owner.label !== 'with') return false;
  }
  return overwritten ?? true;
}

