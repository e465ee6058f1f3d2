// A setting an optimizer class copies into a field and decays after each step, while the step reads
// the constructor's value by another path (NB404): `this.lr = options.lr` in the constructor,
// `this.lr = Math.max(this.floor, this.lr * (1 - this.decay))` after `super.step()`, and the update
// scales by `options.lr` handed down from the base class (or by `this.baseLr`, another copy of the
// same argument). The decayed field is read by nothing but its own decay: the schedule is dead.
//
// Decided by data flow over the class and its bases (any module):
// - the class's constructor stores a field from a constructor argument (`lr`), an entry of one
//   (`options.lr`, `kwargs["lr"]`), or either with a fallback (`options.lr ?? 1e-3`);
// - a method other than the constructor rebinds the field from its own value (`this.lr *= gamma`,
//   `this.lr = this.lr * 0.9`, `this.lr = Math.max(min, this.lr - this.lr * d)`);
// - no method of the class or its bases reads the field anywhere else (a getter, the update, a log
//   line, a reset to another field all count), no method of them is an accessor of that name (`get lr()`,
//   a property: the writes go elsewhere), and this file reads no attribute of that name on
//   another object (`opt.lr` in a trainer);
// - a method other than the constructor reads the same value by another path outside the field's
//   own decay: another field stored from the same argument (`this.baseLr`), or the same entry of an
//   options object (`kwargs.lr` in a method handed the options, `this.options.lr`).
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { explicitParams, type ClassDef, type FunctionDef } from './scope';
import { baseClasses, classWithBases } from './resolve';
import { ownStatements, programIndex } from './program';
import { stmtExprs, subExprs } from './loops';
import { CONSTRUCTOR_METHODS } from './catalogue';

export interface UnreadDecayedField {
  cls: ClassDef;
  /** The field (`lr`). */
  field: string;
  /** The decay (`this.lr = Math.max(...)`), the statement. */
  decay: Stmt;
  /** Where the constructor stores it. */
  stored: Stmt;
  /** The read of the constructor's value the step uses instead (`kwargs.lr`, `this.baseLr`). */
  other: Expr;
}

const cache = new WeakMap<Facts, UnreadDecayedField[]>();

export function unreadDecayedFields(facts: Facts): UnreadDecayedField[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

type Origin = { param: string; key?: string };

function receiverField(e: Expr): string | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && e.object.receiver ? e.name : undefined;
}

/** `p`, `p.k`, `p["k"]`, and either with `?? d` / `|| d` / `or d`: the constructor argument (and entry) a value copies. */
function originOf(e: Expr, params: Set<string>): Origin | undefined {
  if (e.kind === 'name' && params.has(e.name)) return { param: e.name };
  if (e.kind === 'attr' && e.object.kind === 'name' && params.has(e.object.name)) return { param: e.object.name, key: e.name };
  if (e.kind === 'index' && e.object.kind === 'name' && params.has(e.object.name) && e.index.length === 1 && e.index[0].kind === 'str') return { param: e.object.name, key: e.index[0].value };
  if (e.kind === 'other' && e.ops?.length === 1 && (e.ops[0] === '??' || e.ops[0] === 'or') && e.children.length === 2) return originOf(e.children[0], params);
  return undefined;
}

function sameOrigin(a: Origin, b: Origin): boolean {
  return a.param === b.param && a.key === b.key;
}

function collect(facts: Facts): UnreadDecayedField[] {
  const out: UnreadDecayedField[] = [];
  const index = programIndex(facts);
  const classes = new Set<ClassDef>();
  for (const fn of index.functions) if (fn.cls && fn.isMethod && fn.span.start >= facts.scopes.root.span.start && fn.span.end <= facts.scopes.root.span.end) classes.add(fn.cls);
  if (classes.size === 0) return out;
  // Attribute names this file reads on objects other than a receiver (`opt.lr` in a trainer).
  let foreign: Map<string, Set<string>> | undefined;
  for (const cls of classes) {
    const ctor = CONSTRUCTOR_METHODS.map((m) => cls.scope.functions.get(m)).find((f) => f !== undefined);
    if (!ctor) continue;
    // Its parameters, with the names a destructured one binds (`constructor(ps, { ...kwargs })`).
    const params = new Set(explicitParams(ctor).map((p) => p.name).filter((n) => n !== ''));
    for (const [key, list] of ctor.scope.bindings) if (!key.includes('.') && list.some((b) => b.kind === 'param')) params.add(key);
    // A destructured parameter's names may be bound nowhere: a name the constructor reads that nothing binds is one of them.
    const destructured = explicitParams(ctor).some((p) => p.name === '');
    // Fields the constructor stores from an argument.
    const stored = new Map<string, { origin: Origin; stmt: Stmt }>();
    for (const s of ownStatements(ctor.body)) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
      const field = receiverField(s.targets[0]);
      const origin = field ? originOf(s.value, destructured ? new Set([...params, ...unbound(s.value, ctor, s.span.start)]) : params) : undefined;
      if (field && origin && !stored.has(field)) stored.set(field, { origin, stmt: s });
    }
    if (stored.size === 0) continue;
    const chain = classWithBases(facts.program, cls);
    // A base the program cannot read might read the field: every base must be seen.
    if (chain.some((c) => c.bases.length > baseClasses(facts.program, c).length)) continue;
    const methods: FunctionDef[] = [];
    for (const c of chain) for (const fn of c.scope.functions.values()) methods.push(fn);
    for (const [field, { origin, stmt }] of stored) {
      // An accessor of that name (`get lr()` / `set lr(v)`, a Python property) routes the writes elsewhere.
      if (methods.some((fn) => fn.name === field)) continue;
      // Its decays: a non-constructor method of this class rebinds it from its own value.
      const decays: Stmt[] = [];
      for (const fn of cls.scope.functions.values()) {
        if (fn === ctor) continue;
        for (const s of ownStatements(fn.body)) if (s.kind === 'assign' && s.targets.length === 1 && receiverField(s.targets[0]) === field && (s.op || readsField(s.value, field))) decays.push(s);
      }
      if (decays.length === 0) continue;
      // A running power of a setting (`self.prod2 = self.prod2 * self.beta2`, started at beta2) is no copy of a
      // rate but a product the decay builds from the other copy: not this shape (NB401 reads bias corrections).
      if (decays.some((d) => d.kind === 'assign' && subExprs(d.value, true).some((x) => { const g = receiverField(x); return g !== undefined && g !== field && !!stored.get(g) && sameOrigin(stored.get(g)!.origin, origin); }))) continue;
      // Read nowhere but in its own assignments' values.
      let read = false;
      let other: Expr | undefined;
      for (const fn of methods) {
        for (const s of ownStatements(fn.body)) {
          const ownWrite = s.kind === 'assign' && s.targets.some((t) => receiverField(t) === field);
          for (const e of stmtExprs(s)) {
            if (s.kind === 'assign' && s.targets.includes(e)) continue;
            for (const x of subExprs(e, true)) {
              if (!ownWrite && receiverField(x) === field) read = true;
              if (ownWrite || fn === ctor || other) continue;
              // The same value by another path.
              const g = receiverField(x);
              if (g !== undefined && g !== field && stored.get(g) && sameOrigin(stored.get(g)!.origin, origin)) other = x;
              else if (origin.key !== undefined && x.kind === 'attr' && x.name === origin.key && !(x.object.kind === 'name' && x.object.receiver) && (x.object.kind === 'name' ? isParamOf(fn, x.object.name) : receiverField(x.object) !== undefined)) other = x;
              else if (origin.key !== undefined && x.kind === 'index' && x.index.length === 1 && x.index[0].kind === 'str' && x.index[0].value === origin.key && (x.object.kind === 'name' ? isParamOf(fn, x.object.name) : receiverField(x.object) !== undefined)) other = x;
            }
          }
          if (read) break;
        }
        if (read) break;
      }
      if (read || !other) continue;
      // This file's instances of the class (`opt = new DecayingSGD(...)`) reading the field (`opt.lr`).
      foreign ??= instanceReads(facts);
      if (foreign.get(cls.name)?.has(field)) continue;
      out.push({ cls, field, decay: decays[0], stored: stmt, other });
    }
  }
  return out;
}

function readsField(e: Expr, field: string): boolean {
  return subExprs(e, true).some((x) => receiverField(x) === field);
}

function isParamOf(fn: FunctionDef, name: string): boolean {
  return fn.params.some((p) => p.name === name);
}

/** For each class name this file builds into a variable (`opt = new C(...)`, `opt = C(...)`), the attributes read on that variable. */
function instanceReads(facts: Facts): Map<string, Set<string>> {
  const index = programIndex(facts);
  const bodies: Stmt[][] = [facts.module.body, ...index.functions.map((fn) => fn.body)];
  const built = new Map<string, string>();
  for (const body of bodies) {
    for (const s of ownStatements(body)) {
      if (s.kind !== 'assign' || s.targets.length !== 1 || s.targets[0].kind !== 'name' || s.value.kind !== 'call') continue;
      const callee = s.value.callee;
      const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
      if (name) built.set(s.targets[0].name, name);
    }
  }
  const out = new Map<string, Set<string>>();
  if (built.size === 0) return out;
  for (const body of bodies) {
    for (const s of ownStatements(body)) {
      for (const e of stmtExprs(s)) {
        for (const x of subExprs(e)) {
          if (x.kind !== 'attr' || x.object.kind !== 'name') continue;
          const cls = built.get(x.object.name);
          if (!cls) continue;
          let set = out.get(cls);
          if (!set) out.set(cls, (set = new Set()));
          set.add(x.name);
        }
      }
    }
  }
  return out;
}

/** Names a value reads that no scope binds (a destructured parameter's, as the scopes record them). */
function unbound(e: Expr, fn: FunctionDef, at: number): string[] {
  const out: string[] = [];
  for (const x of subExprs(e)) if (x.kind === 'name' && !x.receiver && !fn.scope.lookup(x.name, at)) out.push(x.name);
  return out;
}
