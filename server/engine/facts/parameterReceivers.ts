// The class of an object a JavaScript class or function is handed and never sees built: a
// constructor parameter stored in a field (`constructor(connector) { this.net = connector; }`) or a
// function's parameter, on which it calls project methods (`this.net.features(x)`,
// `this.net.logits(f)`) that nothing else resolves. When exactly one class the file can see (its
// own, those of the files it imports, those of the scripts a browser page loads with it) defines
// every method called on that receiver there, and there are at least two of them, the call runs that
// class's method: in JavaScript a method is found by its name on whatever object arrives, so the
// methods asked for are the only type the code states.
//
// Cheap: one pass over the file's calls (programIndex) for the methods called on each receiver, and
// one list of visible classes, both per program and file; asked only where a call resolves to nothing.
import type { Expr } from '../ir';
import type { Program } from '../program';
import type { ParsedFile } from '../document';
import type { Facts } from './index';
import type { ClassDef, FunctionDef, Scope } from './scope';
import { exprKey } from './keys';
import { enclosingClass, methodOf } from './resolve';
import { programIndex } from './program';

/** Fewest distinct methods called on a receiver before they are read as its type. */
const MIN_METHODS = 2;
/** Most classes looked at per file. */
const MAX_CLASSES = 400;

interface Receivers {
  /** Per enclosing class (or function, for a parameter), per receiver key: the methods called on it. */
  methods: Map<ClassDef | FunctionDef, Map<string, Set<string>>>;
  classes?: ClassDef[];
  answers: Map<string, ClassDef | null>;
}

const perFacts = new WeakMap<Facts, Receivers>();

/**
 * The method a call on a parameter-held receiver runs (`this.net.features(x)` with `this.net` a
 * constructor parameter), read through the one visible class that defines every method called on
 * that receiver; undefined when the receiver is built anywhere the code shows, or the class is not one.
 */
export function parameterReceiverMethod(program: Program, facts: Facts, call: Expr & { kind: 'call' }, scope: Scope, at: number): FunctionDef | undefined {
  if (facts.language !== 'javascript' && facts.language !== 'typescript' && facts.language !== 'tsx') return undefined;
  if (call.callee.kind !== 'attr') return undefined;
  const recv = call.callee.object;
  const key = exprKey(recv);
  if (key === undefined) return undefined;
  const owner = parameterOwner(facts, recv, key, scope, at);
  if (!owner) return undefined;
  const r = receivers(facts);
  const memo = `${owner.span.start}:${key}`;
  let cls = r.answers.get(memo);
  if (cls === undefined) {
    cls = soleClass(program, facts, r, owner, key) ?? null;
    r.answers.set(memo, cls);
  }
  return cls ? methodOf(program, cls, call.callee.name) : undefined;
}

/**
 * The class (for `this.f`) or function (for a parameter `p`) whose code the receiver's methods are
 * read in, when the receiver only ever holds a parameter with no default: every store of `this.f` in
 * the class copies one, or `p` is one.
 */
function parameterOwner(facts: Facts, recv: Expr, key: string, scope: Scope, at: number): ClassDef | FunctionDef | undefined {
  if (isThisField(recv)) {
    const cls = enclosingClass(scope);
    const stores = cls?.scope.members.get(key);
    if (!cls || !stores || stores.length === 0) return undefined;
    for (const b of stores) {
      if (b.kind !== 'assign' || b.op || !b.value || b.value.kind !== 'name') return undefined;
      const src = b.scope.lookup(b.value.name, b.at);
      if (src?.kind !== 'param' || src.value) return undefined;
    }
    return cls;
  }
  if (recv.kind !== 'name') return undefined;
  const b = scope.lookup(recv.name, at);
  if (b?.kind !== 'param' || b.value) return undefined;
  return programIndex(facts).functionOfScope(b.scope);
}

/**
 * `this.f`: a field of the instance a JavaScript method runs on. The IR has no kind of its own for
 * `this`: the TS/JS lowering writes the keyword as the name `this`, and no JavaScript identifier can
 * be called so, so the name is the keyword (only TS/JS files get here). `self` is deliberately not
 * `isSelfName`'s: in JavaScript it is an ordinary variable (`const self = this`, `window.self`).
 */
function isThisField(recv: Expr): recv is Expr & { kind: 'attr' } {
  return recv.kind === 'attr' && recv.object.kind === 'name' && recv.object.name === 'this';
}

function receivers(facts: Facts): Receivers {
  let r = perFacts.get(facts);
  if (r) return r;
  r = { methods: new Map(), answers: new Map() };
  const index = programIndex(facts);
  for (const site of index.calls) {
    const callee = site.call.callee;
    if (callee.kind !== 'attr') continue;
    const recv = callee.object;
    let owner: ClassDef | FunctionDef | undefined;
    if (isThisField(recv)) owner = enclosingClass(site.scope);
    else if (recv.kind === 'name') {
      const b = site.scope.lookup(recv.name, site.at);
      owner = b?.kind === 'param' && !b.value ? index.functionOfScope(b.scope) : undefined;
    }
    const key = owner && exprKey(recv);
    if (!owner || key === undefined) continue;
    let byKey = r.methods.get(owner);
    if (!byKey) r.methods.set(owner, (byKey = new Map()));
    let names = byKey.get(key);
    if (!names) byKey.set(key, (names = new Set()));
    names.add(callee.name);
  }
  perFacts.set(facts, r);
  return r;
}

function soleClass(program: Program, facts: Facts, r: Receivers, owner: ClassDef | FunctionDef, key: string): ClassDef | undefined {
  const names = r.methods.get(owner)?.get(key);
  if (!names || names.size < MIN_METHODS) return undefined;
  const parsed = program.parsedOf(facts.scopes.root.span);
  if (!parsed) return undefined;
  r.classes ??= visibleClasses(program, parsed);
  let found: ClassDef | undefined;
  for (const cls of r.classes) {
    if (cls === owner) continue;
    if (![...names].every((n) => methodOf(program, cls, n))) continue;
    if (found) return undefined;
    found = cls;
  }
  return found;
}

/** The top-level classes of the file, of the files it imports, and of the scripts a page loads with it. */
function visibleClasses(program: Program, parsed: ParsedFile): ClassDef[] {
  const files = new Set<ParsedFile>(program.reachable(parsed, 32));
  for (const mate of program.pageMates(parsed)) files.add(mate);
  const out: ClassDef[] = [];
  for (const f of files) {
    for (const cls of f.scopes.root.classes.values()) {
      if (out.length >= MAX_CLASSES) return out;
      out.push(cls);
    }
  }
  return out;
}
