// A decay gated on a flag nothing sets (NB206), in from-scratch networks: a setter stores the decay
// strength (`net.setDecay(1e-3)`, which the entry file calls with a value), but the update applies
// it only under `if (this.useDecay)`, and no code of the files the entry reaches ever writes
// `useDecay`. The flag is always undefined, so the decay never reaches the weights.
//
// Unknown is silent: the flag's name written anywhere else in those files (a constructor, a
// setter, a caller's `net.useDecay = true`, a comment, a property), writes by a computed name
// (`Object.assign(this, opts)`, `this[k]`, `setattr`, `self.__dict__`), prototypes set up by
// hand, bases the project does not show, an instance the entry hands to other code, and a strength
// read anywhere but its stores, the gates and a reported objective (another method may apply it).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { ParsedFile } from '../document';
import type { Program } from '../program';
import type { ClassDef, FunctionDef } from './scope';
import { explicitParams } from './scope';
import { baseClasses, isSelfName, resolveCall, resolveExpr } from './resolve';
import { CONSTRUCTOR_METHODS, EMPTY_ARGUMENT_NAMES } from './catalogue';
import { isDecayKnobName } from './roles';
import { programIndex, walkAll } from './program';

export interface FlagGatedDecay {
  /** The setter call that asks for decay (in the entry file). */
  call: Span;
  setter: string;
  cls: string;
  /** The instance field the setter stores the strength in. */
  strength: string;
  /** Where the setter stores it. */
  stored: Span;
  /** The field whose truth the decay waits on. */
  flag: string;
  /** The first gate (`this.useDecay` in `if (this.useDecay)`). */
  gate: Span;
}

const MAX_DEPTH = 64;
const MAX_BASES = 8;

const cache = new WeakMap<Facts, FlagGatedDecay[]>();

export function flagGatedDecays(facts: Facts): FlagGatedDecay[] {
  let found = cache.get(facts);
  if (!found) {
    found = find(facts);
    cache.set(facts, found);
  }
  return found;
}

function find(facts: Facts): FlagGatedDecay[] {
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  if (!entry) return [];
  const index = programIndex(facts);
  const out: FlagGatedDecay[] = [];
  const seen = new Set<FunctionDef>();
  let files: ParsedFile[] | undefined;
  for (const site of [...index.calls].sort((a, b) => a.call.span.start - b.call.span.start)) {
    const call = site.call;
    const callee = call.callee;
    if (callee.kind !== 'attr' || callee.object.kind !== 'name' || isSelfName(callee.object.name)) continue;
    if (call.args.length + call.kwargs.length === 0) continue;
    const target = resolveCall(program, call, site.scope, site.at);
    const fn = target && !target.constructs && !target.args ? target.fn : undefined;
    const cls = fn?.cls;
    if (!fn || !cls || CONSTRUCTOR_METHODS.includes(fn.name) || seen.has(fn)) continue;
    const store = storedStrength(fn, call);
    if (!store) continue;
    seen.add(fn);
    if (!basesShown(program, cls, 0)) continue;
    files ??= program.reachable(entry);
    if (files.some(writesDynamically)) return [];
    if (!onlyMethodCalls(entry, callee.object.name)) continue;
    const classes = new Set<ClassDef>([cls, ...baseClasses(program, cls)]);
    const gate = gatedDecay(facts, entry, files, classes, store.field);
    if (!gate) continue;
    out.push({ call: call.span, setter: fn.name, cls: cls.name, strength: store.field, stored: store.span, flag: gate.flag, gate: gate.span });
  }
  return out;
}

const dynamic = new WeakMap<ParsedFile, boolean>();

/**
 * Writes by a computed name, and prototypes set up by hand, anywhere in a file: any of them may set
 * the flag. `Object.assign(this, …)` and the other `Object` and `Reflect` setters, `Object.entries(this)`,
 * `util.inherits(…)`, `__proto__`, `setattr(…)`, `__dict__`, `vars(…)`, `...this`, `$.extend(…)`
 * (any `extend` given a target and a source; not a list's `xs.extend(ys)`, one argument), `this[k]`,
 * `self[k]`. One walk of the file's IR, kept per file.
 */
function writesDynamically(parsed: ParsedFile): boolean {
  let found = dynamic.get(parsed);
  if (found === undefined) {
    found = false;
    walkAll(parsed.module.body, (e) => {
      if (!found && dynamicWrite(e)) found = true;
    });
    dynamic.set(parsed, found);
  }
  return found;
}

const OBJECT_SETTERS = new Set(['assign', 'defineProperty', 'defineProperties', 'create', 'setPrototypeOf']);
const DYNAMIC_CALLS = new Set(['inherits', 'setattr', 'vars']);
/** Merges of sources into a target object (`$.extend(this, opts)`, `_.extend(net, opts)`, `extend(true, this, defaults)`), by their arguments: Python's `xs.extend(ys)` takes one. */
const MERGE_CALLS = new Set(['extend']);

function dynamicWrite(e: Expr): boolean {
  switch (e.kind) {
    case 'attr':
      if (e.name === '__proto__' || e.name === '__dict__') return true;
      if (e.object.kind !== 'name') return false;
      return (e.object.name === 'Object' && OBJECT_SETTERS.has(e.name)) || (e.object.name === 'Reflect' && e.name.startsWith('set'));
    case 'call': {
      const callee = e.callee;
      const name = callee.kind === 'name' ? callee.name : callee.kind === 'attr' ? callee.name : undefined;
      if (name !== undefined && DYNAMIC_CALLS.has(name)) return true;
      if (name !== undefined && MERGE_CALLS.has(name) && e.args.length >= 2) return true;
      return callee.kind === 'attr' && callee.name === 'entries' && callee.object.kind === 'name' && callee.object.name === 'Object' && e.args.length > 0 && rootIsThis(e.args[0]);
    }
    case 'index':
      return e.object.kind === 'name' && isSelfName(e.object.name);
    case 'name':
      return e.name === '__proto__' || e.name === '__dict__';
    case 'str':
      return e.value === '__proto__' || e.value === '__dict__';
    case 'object':
      return e.entries.some((k) => k.name === '__proto__') || (e.spreads?.some(rootIsThis) ?? false);
    case 'other':
      return e.spread !== undefined && e.children.length === 1 && rootIsThis(e.children[0]);
    default:
      return false;
  }
}

/** `this`, `this.opts`, `this[k]`: an expression rooted at `this`. */
function rootIsThis(e: Expr): boolean {
  for (let depth = 0; (e.kind === 'attr' || e.kind === 'index') && depth < 20; depth++) e = e.object;
  return e.kind === 'name' && e.name === 'this';
}

function walkStatements(stmts: Stmt[], depth: number, visit: (s: Stmt) => void): void {
  if (depth > MAX_DEPTH) return;
  for (const s of stmts) {
    visit(s);
    if (s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') walkStatements(s.body, depth + 1, visit);
  }
}

/** `this.decay = decay` at the setter's top level, for a parameter the call gives a nonzero value. */
function storedStrength(fn: FunctionDef, call: Expr & { kind: 'call' }): { field: string; span: Span } | undefined {
  const params = explicitParams(fn);
  for (const s of fn.body) {
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind !== 'attr' || t.object.kind !== 'name' || !isSelfName(t.object.name) || !isDecayKnobName(t.name)) continue;
    if (s.value.kind !== 'name') continue;
    const name = s.value.name;
    const position = params.findIndex((p) => p.name === name);
    if (position < 0) continue;
    const given = call.kwargs.find((k) => k.name === name)?.value ?? (call.args.slice(0, position + 1).some((a) => a.kind === 'other') ? undefined : call.args[position]);
    if (!given || !asksForSome(given)) continue;
    return { field: t.name, span: s.span };
  }
  return undefined;
}

/** A value that asks for some decay: not `0`, `null`, `undefined`, `None`, `false`. */
function asksForSome(e: Expr): boolean {
  if (e.kind === 'num') return e.value !== 0;
  if (e.kind === 'name') return !EMPTY_ARGUMENT_NAMES.has(e.name);
  return true;
}

/** Every base a class of the project (a library's base may set the flag). */
function basesShown(program: Program, cls: ClassDef, depth: number): boolean {
  if (depth > MAX_BASES) return false;
  for (const b of cls.bases) {
    const def = resolveExpr(program, b, cls.outer, cls.span.start);
    if (def?.kind !== 'class' || !basesShown(program, def.cls, depth + 1)) return false;
  }
  return true;
}

/** The entry uses the instance only through its members (`net.train(...)`): not handed to other code. */
function onlyMethodCalls(entry: ParsedFile, name: string): boolean {
  const objects = new Set<Expr>();
  const targets = new Set<Expr>();
  walkStatements(entry.module.body, 0, (s) => {
    if (s.kind === 'assign') s.targets.forEach((t) => targets.add(t));
  });
  let handedOn = false;
  walkAll(entry.module.body, (e) => {
    if (e.kind === 'attr' && e.object.kind === 'name') objects.add(e.object);
    else if (e.kind === 'name' && e.name === name && !objects.has(e) && !targets.has(e)) handedOn = true;
  });
  return !handedOn;
}

/**
 * The first `if (this.F)` in the classes' methods whose body multiplies `this.<strength>` into an
 * assignment, when `F` is written nowhere: every word `F` in the files is such a gate's test.
 */
function gatedDecay(entryFacts: Facts, entry: ParsedFile, files: ParsedFile[], classes: Set<ClassDef>, strength: string): { flag: string; span: Span } | undefined {
  const gates = new Map<string, { span: Span; block: Span; decays: boolean }[]>();
  for (const parsed of files) {
    const facts = parsed === entry ? entryFacts : entryFacts.program.facts(parsed);
    for (const fn of programIndex(facts).functions) {
      if (!fn.cls || !classes.has(fn.cls)) continue;
      visitIfs(fn.body, 0, (test, body, block) => {
        if (test.kind !== 'attr' || test.object.kind !== 'name' || !isSelfName(test.object.name) || !/^\w+$/.test(test.name)) return;
        const list = gates.get(test.name) ?? [];
        list.push({ span: test.span, block, decays: multipliesInto(body, strength) });
        gates.set(test.name, list);
      });
    }
  }
  for (const [flag, list] of gates) {
    if (flag === strength || !list.some((g) => g.decays)) continue;
    const word = new RegExp(`(?<![\\w$])${flag}(?![\\w$])`, 'g');
    const mentions = files.reduce((n, f) => n + (f.text.match(word)?.length ?? 0), 0);
    if (mentions !== list.length) continue;
    if (readElsewhere(files, strength, list.map((g) => g.block))) return undefined;
    return { flag, span: list.find((g) => g.decays)!.span };
  }
  return undefined;
}

/** Every `if` whose one test is the whole condition, with its body (nested functions left out). */
function visitIfs(stmts: Stmt[], depth: number, visit: (test: Expr, body: Stmt[], block: Span) => void): void {
  if (depth > MAX_DEPTH) return;
  for (const s of stmts) {
    if (s.kind === 'block') {
      if (s.label === 'if' && s.heads.length === 1) visit(s.heads[0], s.body, s.span);
      visitIfs(s.body, depth + 1, visit);
    } else if (s.kind === 'for') visitIfs(s.body, depth + 1, visit);
  }
}

/** An assignment in the body whose value multiplies `this.<strength>` by something. */
function multipliesInto(body: Stmt[], strength: string): boolean {
  let found = false;
  const isStrength = (e: Expr): boolean => e.kind === 'attr' && e.name === strength && e.object.kind === 'name' && isSelfName(e.object.name);
  for (const s of body) {
    if (s.kind !== 'assign') continue;
    walkAll([{ kind: 'expr', expr: s.value, span: s.value.span }], (e) => {
      if (e.kind === 'binary' && e.op === '*' && (isStrength(e.left) || isStrength(e.right))) found = true;
    });
  }
  return found;
}

/**
 * Whether the strength is read anywhere but its stores, the gated blocks, and a reported objective
 * (`total += (this.decay / 2) * this.sumSquares()`): any other read may apply it after all.
 */
function readElsewhere(files: ParsedFile[], strength: string, gated: Span[]): boolean {
  const allowed = new Set<Expr>();
  const isStrength = (e: Expr): boolean => e.kind === 'attr' && e.name === strength && e.object.kind === 'name' && isSelfName(e.object.name);
  // The strength, or half of it, times a method's result.
  const penaltyFactor = (e: Expr): Expr | undefined => (isStrength(e) ? e : e.kind === 'binary' && e.op === '/' && e.right.kind === 'num' && isStrength(e.left) ? e.left : undefined);
  const lists: Stmt[][] = [];
  for (const parsed of files) {
    lists.push(parsed.module.body);
    // Function expressions' bodies too (`C.prototype.m = function (…) {…}`).
    walkAll(parsed.module.body, (e) => {
      if (e.kind === 'lambda') lists.push(e.stmts);
    });
  }
  for (const list of lists) {
    walkStatements(list, 0, (st) => {
      if (st.kind !== 'assign') return;
      for (const t of st.targets) if (isStrength(t)) allowed.add(t);
      if (st.op !== '+' || st.targets.length !== 1 || st.targets[0].kind !== 'name') return;
      walkAll([{ kind: 'expr', expr: st.value, span: st.value.span }], (e) => {
        if (e.kind !== 'binary' || e.op !== '*') return;
        const factor = e.right.kind === 'call' ? penaltyFactor(e.left) : e.left.kind === 'call' ? penaltyFactor(e.right) : undefined;
        if (factor) allowed.add(factor);
      });
    });
  }
  let other = false;
  for (const parsed of files) {
    walkAll(parsed.module.body, (e) => {
      if (other || e.kind !== 'attr' || e.name !== strength || allowed.has(e)) return;
      if (isStrength(e) && gated.some((g) => e.span.start >= g.start && e.span.end <= g.end)) return;
      other = true;
    });
  }
  return other;
}
