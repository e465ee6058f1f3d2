// A strength switched off by every caller (NB201): `def train(model, loader, reg): ... loss = ce + reg * Σw²`
// beside `SGD(..., weight_decay=5e-4)`, with `train(model, loader, reg=0.0)` the only call in the file: the
// penalty is never there. A strength that is a parameter of the function it is read in, never rebound in
// it, is 0 when every call of that function in the file (there is at least one) hands it, or leaves it at its
// default, a value that evaluates to 0 or is written None / False, where the call is made; a caller's own
// parameter is followed the same way, one caller up. A call whose target is not that function, a spread
// (`train(**cfg)`), or a value not known at the call (a config's field) leaves the strength unknown: the
// rule then judges it as it judges any unresolved strength (NB201 keeps a penalty whose strength it cannot
// read). Calls from the project's other files count too (`Program.filesMentioning`, then read on their IR:
// `from train import train; train(model, loader, reg=0)` in a script): such a call must hand a literal 0
// (or None / False) or leave the default, and any other read of the name there (`partial(train, …)`, a
// call of that name that resolves elsewhere or nowhere) leaves the strength unknown. A positive call in
// another file keeps the finding that a same-file `reg=0.0` smoke run would otherwise hide.
import type { Expr, Stmt } from '../ir';
import type { Coef } from '../../math/terms';
import type { Facts } from './index';
import type { Program } from '../program';
import type { FunctionDef, Scope } from './scope';
import { forEachChild } from './scope';
import { stmtExprs } from './loops';
import { explicitParams } from './scope';
import { programIndex, definedInFile, startsInFile, walkAll } from './program';
import { callArguments, resolveCall } from './resolve';
import { EMPTY_ARGUMENT_NAMES } from './catalogue';
import { statementQuestion, unionOver } from './statementAnswers';

/** Callers followed through their own parameters (`main → train(reg=reg)`). */
const MAX_HOPS = 1;

/** Evaluates a number where it is written (the framework facts' evaluator). */
export type Evaluate = (e: Expr, scope: Scope, at: number) => number | undefined;

/**
 * Whether the name `name`, read at `scope`/`at`, is a parameter of the function it is read in that every call
 * of that function in this file sets to 0 (or None / False), by argument or by default.
 */
export function zeroAtEveryCall(facts: Facts, name: string, scope: Scope, at: number, evaluate: Evaluate, hops = 0): boolean {
  const b = scope.lookup(name, at);
  if (!b || b.kind !== 'param') return false;
  // Rebound anywhere in the function (`reg = reg or 1e-4`): the parameter is not what the reads see.
  if (b.scope.allBindings(name).some((x) => x.kind !== 'param')) return false;
  const index = programIndex(facts);
  const fn = index.enclosingFunction(b.scope);
  if (!fn || fn.scope !== b.scope || !definedInFile(facts, fn)) return false;
  const params = explicitParams(fn);
  const i = params.findIndex((p) => p.name === name);
  if (i < 0 || params[i].rest) return false;
  const calls = index.callsTo(fn).filter((c) => startsInFile(facts, c.call.span));
  // A decorated function may be called by what decorates it (`@click.command()`, `@hydra.main`) with other values.
  if (fn.decorators.length > 0 || escapes(facts, fn.name)) return false;
  const foreign = otherFileCalls(facts, fn);
  if (foreign === 'unknown' || calls.length + foreign.length === 0) return false;
  for (const call of foreign) {
    const target = resolveCall(facts.program, call.call, call.scope, call.at);
    const args = target ? callArguments(call.call, target) : [];
    if (args.some((a) => a.kind === 'other' && a.spread) || call.call.kwargs.some((k) => !k.name)) return false;
    const kw = call.call.kwargs.find((k) => k.name === name);
    const arg = kw?.value ?? (i < args.length ? args[i] : undefined);
    // Another file's value is read as written: a literal 0, None or False.
    if (arg) {
      if (!literalZero(arg)) return false;
      continue;
    }
    const def = params[i].default;
    if (!def || !isZeroAt(facts, def, fn.scope.parent ?? fn.scope, fn.span.start, evaluate, MAX_HOPS)) return false;
  }
  for (const site of calls) {
    const target = resolveCall(facts.program, site.call, site.scope, site.at);
    if (!target || target.fn !== fn || target.constructs) return false;
    const args = callArguments(site.call, target);
    if (args.some((a) => a.kind === 'other' && a.spread) || site.call.kwargs.some((k) => !k.name)) return false;
    const kw = site.call.kwargs.find((k) => k.name === name);
    // Positional arguments before the parameter may be keyword-only in the signature; a keyword wins.
    const arg = kw?.value ?? (i < args.length ? args[i] : undefined);
    if (arg) {
      if (!isZeroAt(facts, arg, site.scope, site.at, evaluate, hops)) return false;
      continue;
    }
    const def = params[i].default;
    if (!def || !isZeroAt(facts, def, fn.scope.parent ?? fn.scope, fn.span.start, evaluate, MAX_HOPS)) return false;
  }
  return true;
}

/**
 * A coefficient with a factor every caller switches off (`lam * W` in `adam_train(X, y, lam)` called only with
 * `lam=0.0`): the term is 0, as `FrameworkFacts.evaluateCoef` reads a loss penalty's. NB202 drops such a
 * hand decay, whose penalty beside it in the loss was dropped the same way.
 */
export function coefSwitchedOff(facts: Facts, c: Coef, scope: Scope, at: number, evaluate: Evaluate): boolean {
  return c.syms.some((s) => s.pow > 0 && /^[A-Za-z_$][\w$]*$/.test(s.name) && zeroAtEveryCall(facts, s.name, scope, at, evaluate));
}

function isZeroAt(facts: Facts, e: Expr, scope: Scope, at: number, evaluate: Evaluate, hops: number): boolean {
  if (e.kind === 'name' && EMPTY_ARGUMENT_NAMES.has(e.name)) return true;
  // The caller's own parameter: what the caller's calls hand it, when the file calls the caller (else its default).
  if (e.kind === 'name' && hops < MAX_HOPS && scope.lookup(e.name, at)?.kind === 'param' && hasCalls(facts, e.name, scope, at)) return zeroAtEveryCall(facts, e.name, scope, at, evaluate, hops + 1);
  return evaluate(e, scope, at) === 0;
}

function hasCalls(facts: Facts, name: string, scope: Scope, at: number): boolean {
  const b = scope.lookup(name, at);
  const index = programIndex(facts);
  const fn = b && index.enclosingFunction(b.scope);
  return !!fn && fn.scope === b!.scope && index.callsTo(fn).some((c) => startsInFile(facts, c.call.span));
}

/** Per facts: the names the file reads other than to call them (`escapes`), the union of its statements' sets. */
const escapeMemo = new WeakMap<Facts, Set<string>>();

/**
 * Whether the file reads the function's name other than to call it (`fit = train`, `partial(train, reg=1e-4)`,
 * `Process(target=train, kwargs=…)`, `{'train': train}`, a decorator `@train`): calls the index does not
 * see may hand the strength another value.
 */
function escapes(facts: Facts, name: string): boolean {
  let names = escapeMemo.get(facts);
  if (!names) escapeMemo.set(facts, (names = unionOver(escapingNames, facts.module.body)));
  return names.has(name);
}

/**
 * The names one top-level statement reads (a name, or an attribute's name) other than as a call's callee. A callee
 * is a child of its call, so it lies in the statement of the read: the answer is the statement's own
 * (statementAnswers.ts).
 */
const escapingNames = statementQuestion('escapes', (stmt: Stmt): readonly string[] => {
  const callees = new Set<number>();
  const reads: Expr[] = [];
  walkAll([stmt], (e) => {
    if (e.kind === 'call') callees.add(e.callee.span.start * 1e7 + e.callee.span.end);
    else if (e.kind === 'name' || e.kind === 'attr') reads.push(e);
  });
  const out = new Set<string>();
  for (const e of reads) if (!callees.has(e.span.start * 1e7 + e.span.end)) out.add((e as Expr & { name: string }).name);
  return [...out];
});

function literalZero(e: Expr): boolean {
  if (e.kind === 'name') return EMPTY_ARGUMENT_NAMES.has(e.name);
  if (e.kind === 'num') return e.value === 0;
  return e.kind === 'unary' && e.arg.kind === 'num' && e.arg.value === 0;
}

interface ForeignCall {
  call: Expr & { kind: 'call' };
  scope: Scope;
  at: number;
}

/**
 * Per program, then function. The program is part of the key: the editor reuses an unchanged file's parse (its
 * FunctionDefs) in the program it builds after ANOTHER file changed, and that file's calls must be read again.
 */
const foreignMemo = new WeakMap<Program, WeakMap<FunctionDef, ForeignCall[] | 'unknown'>>();

/**
 * The calls of `fn` in the project's other files that mention its name, or `unknown` when one of them reads
 * the name otherwise: a call of that name that does not resolve to `fn`, or a read that is no call (a
 * callback, `partial(train, …)`). Import statements are no reads.
 */
function otherFileCalls(facts: Facts, fn: FunctionDef): ForeignCall[] | 'unknown' {
  const program = facts.program;
  const known = foreignMemo.get(program)?.get(fn);
  if (known) return known;
  const here = program.parsedOf(fn.span);
  if (!here) return [];
  const word = new RegExp(`\\b${fn.name.replace(/[$]/g, '\\$')}\\b`);
  let out: ForeignCall[] | 'unknown' = [];
  for (const parsed of program.filesMentioning(here.file, word)) {
    if (parsed.file.id === here.file.id) continue;
    const callees = new Set<Expr>();
    const reads: Expr[] = [];
    const found: ForeignCall[] = [];
    for (const stmt of allStatements(parsed.module.body)) {
      const scope = parsed.scopes.stmtScopes.get(stmt) ?? parsed.scopes.root;
      for (const root of stmtExprs(stmt))
        walkExpr(root, (e) => {
          if (e.kind === 'call') {
            callees.add(e.callee);
            const name = e.callee.kind === 'name' || e.callee.kind === 'attr' ? e.callee.name : undefined;
            if (name === fn.name) found.push({ call: e, scope, at: stmt.span.start });
          } else if ((e.kind === 'name' || e.kind === 'attr') && e.name === fn.name) reads.push(e);
        });
    }
    if (reads.some((e) => !callees.has(e))) return remember(program, fn, 'unknown');
    for (const c of found) {
      const target = resolveCall(program, c.call, c.scope, c.at);
      if (!target || target.constructs || target.candidates || target.fn.span.start !== fn.span.start) {
        out = 'unknown';
        break;
      }
      out.push(c);
    }
    if (out === 'unknown') break;
  }
  return remember(program, fn, out);
}

function remember(program: Program, fn: FunctionDef, v: ForeignCall[] | 'unknown'): ForeignCall[] | 'unknown' {
  let memo = foreignMemo.get(program);
  if (!memo) foreignMemo.set(program, (memo = new WeakMap()));
  memo.set(fn, v);
  return v;
}

/** Every statement of a body, those of nested functions, classes and blocks included. */
function allStatements(body: Stmt[], out: Stmt[] = [], depth = 0): Stmt[] {
  if (depth > 60) return out;
  for (const s of body) {
    out.push(s);
    if (s.kind === 'block' || s.kind === 'for' || s.kind === 'function' || s.kind === 'class') allStatements(s.body, out, depth + 1);
  }
  return out;
}

/** An expression and its parts, lambda bodies' expressions included. */
function walkExpr(e: Expr, visit: (x: Expr) => void, depth = 0): void {
  if (depth > 200) return;
  visit(e);
  if (e.kind === 'lambda') {
    if (e.body) walkExpr(e.body, visit, depth + 1);
    for (const s of allStatements(e.stmts)) for (const x of stmtExprs(s)) walkExpr(x, visit, depth + 1);
  }
  if (e.kind === 'comprehension') e.conditions?.forEach((c) => walkExpr(c, visit, depth + 1));
  forEachChild(e, (c) => walkExpr(c, visit, depth + 1));
}
