// A learning rate decayed after the optimizer that took it was built, into a value nothing reads
// (NB404): `opt = torch.optim.SGD(params, lr=lr)`, then in the epoch loop `lr = lr * 0.1` and nothing
// else; or TF1's `train_op = make_adam_op(loss, alpha, …)` then `alpha = decay(alpha, …)` each
// epoch while `sess.run(train_op)` keeps the rate the op was built with. A framework optimizer reads
// its rate once, when it is built: rebinding the variable changes nothing it reads.
//
// Decided by data flow in one function (or the module's own statements):
// - a framework optimizer is built with a bare name `lr` as its learning-rate argument (catalogue.ts
//   `optimizerRateArgument`), directly or through a helper of the program that hands one of its
//   parameters, never rebound, to such a constructor (`def make_op(loss, alpha): return
//   tf.train.AdamOptimizer(alpha).minimize(loss)`);
// - later, inside a loop that does not hold the build (a new optimizer each epoch reads the new rate),
//   `lr` is rebound from its own value (`lr = lr * 0.1`, `lr *= gamma`, `lr = decay(lr, …)`), and
//   the same loop uses what the build made (`opt.step()`, `sess.run(train_op)`, `model.fit` after
//   `model.compile(optimizer=…)`): training goes on after the decay;
// - nothing else in the function reads `lr`: not a `param_groups` write, a `tf.Variable`'s `assign`,
//   a feed dict, a log line, a return, a nested function or lambda (a scheduler's closure). Its own
//   assignments' values read it (a later iteration's decay input), which reaches no optimizer.
// A `global`/`nonlocal` declaration of the name, or another target form (`lr, mom = …`), is left alone.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef, Scope } from './scope';
import { explicitParams, someExpr } from './scope';
import { definedInFile, programIndex, walkAll } from './program';
import { exprKey } from './keys';
import { resolveCall } from './resolve';
import { frameworkPath, optimizerRateArgument } from './catalogue';
import { stmtExprs, subExprs, within } from './loops';

export interface UnappliedSchedule {
  /** The rate's name. */
  name: string;
  /** The rebinding statements inside the loop (the first is reported). */
  decays: Stmt[];
  /** The optimizer's construction (or the helper call that builds it). */
  build: Expr & { kind: 'call' };
  /** What the construction is stored in, or compiled into (`opt`, `train_op`, `model`). */
  holder: string;
}

type Call = Expr & { kind: 'call' };
interface Owner {
  body: Stmt[];
  scope: Scope;
  /** A function's span; none for the module. */
  span?: Span;
}
interface Placed {
  stmt: Stmt;
  loops: Stmt[];
}

const cache = new WeakMap<Facts, UnappliedSchedule[]>();

export function unappliedSchedules(facts: Facts): UnappliedSchedule[] {
  let found = cache.get(facts);
  if (!found) {
    found = collect(facts);
    cache.set(facts, found);
  }
  return found;
}

function collect(facts: Facts): UnappliedSchedule[] {
  if (facts.language !== 'python') return [];
  const index = programIndex(facts);
  const out: UnappliedSchedule[] = [];
  const owners: Owner[] = [{ body: facts.module.body, scope: facts.scopes.root }];
  for (const fn of index.functions) if (fn.nameSpan && definedInFile(facts, fn)) owners.push({ body: fn.body, scope: fn.scope, span: fn.span });
  for (const owner of owners) {
    const placed: Placed[] = [];
    place(owner.body, [], placed);
    // Rebindings of a name from its own value, inside a loop.
    const decays = new Map<string, Placed[]>();
    for (const p of placed) {
      const s = p.stmt;
      if (s.kind !== 'assign' || p.loops.length === 0 || s.targets.length !== 1 || s.targets[0].kind !== 'name') continue;
      const name = s.targets[0].name;
      if (!s.op && !subExprs(s.value, true).some((x) => x.kind === 'name' && x.name === name)) continue;
      const list = decays.get(name) ?? [];
      list.push(p);
      decays.set(name, list);
    }
    if (decays.size === 0) continue;
    for (const [name, rebinds] of decays) {
      const found = check(facts, owner, placed, name, rebinds);
      if (found) out.push(found);
    }
  }
  return out;
}

/** The owner's own statements (not nested functions' or classes'), with the loops around each. */
function place(body: Stmt[], loops: Stmt[], out: Placed[], depth = 0): void {
  if (depth > 60) return;
  for (const s of body) {
    out.push({ stmt: s, loops });
    if (s.kind === 'for' || (s.kind === 'block' && s.label === 'while')) place(s.body, [...loops, s], out, depth + 1);
    else if (s.kind === 'block') place(s.body, loops, out, depth + 1);
  }
}

function check(facts: Facts, owner: Owner, placed: Placed[], name: string, rebinds: Placed[]): UnappliedSchedule | undefined {
  // `global lr` / `nonlocal lr`: the decay writes another scope's variable, which other code reads.
  if (declaredOuter(owner.body, name)) return undefined;
  const first = rebinds[0];
  // The build: before the first decay, in no loop around it.
  for (const p of placed) {
    if (p.stmt.span.end > first.stmt.span.start) continue;
    if (p.stmt.kind !== 'assign' && p.stmt.kind !== 'expr') continue;
    if (rebinds.some((r) => r.loops.some((l) => within(p.stmt.span, l.span)))) continue;
    const built = buildWith(facts, p.stmt, owner.scope, name);
    if (!built) continue;
    const holder = holderOf(p.stmt, built.call);
    if (!holder) continue;
    // The loop around each decay uses what was built: training goes on after it.
    const used = rebinds.filter((r) => r.loops.some((l) => usesKey(l, holder)));
    if (used.length === 0) continue;
    if (readElsewhere(owner.body, name, built.arg)) return undefined;
    return { name, decays: used.map((r) => r.stmt), build: built.call, holder };
  }
  return undefined;
}

/** A call in the statement that builds a framework optimizer with the bare name as its learning rate, and that argument. */
function buildWith(facts: Facts, stmt: Stmt, scope: Scope, name: string): { call: Call; arg: Expr } | undefined {
  for (const root of stmtExprs(stmt)) {
    for (const x of subExprs(root)) {
      if (x.kind !== 'call') continue;
      const named = (e: Expr | undefined): boolean => e?.kind === 'name' && e.name === name;
      if (!x.args.some(named) && !x.kwargs.some((k) => named(k.value))) continue;
      const rate = frameworkRate(facts, x, scope, stmt.span.start);
      if (rate) {
        if (rate.arg && named(rate.arg)) return { call: x, arg: rate.arg };
        continue;
      }
      const target = resolveCall(facts.program, x, scope, stmt.span.start);
      if (!target?.fn || target.constructs) continue;
      const params = explicitParams(target.fn);
      for (const i of rateParameters(facts, target.fn)) {
        const arg = argumentAt(x, [params[i].name], i);
        if (arg && named(arg)) return { call: x, arg };
      }
    }
  }
  return undefined;
}

function argumentAt(call: Call, keywords: readonly string[], position: number): Expr | undefined {
  const kw = call.kwargs.find((k) => keywords.includes(k.name));
  if (kw) return kw.value;
  for (let i = 0; i <= position && i < call.args.length; i++) if (call.args[i].kind === 'other') return undefined;
  return call.args[position];
}

const rateParams = new WeakMap<FunctionDef, number[]>();

/** Positions of a helper's parameters that it hands, never rebound, to a framework optimizer as its learning rate. */
function rateParameters(facts: Facts, fn: FunctionDef): number[] {
  let known = rateParams.get(fn);
  if (known) return known;
  known = [];
  rateParams.set(fn, known);
  const params = explicitParams(fn);
  const placed: Placed[] = [];
  place(fn.body, [], placed);
  params.forEach((p, i) => {
    if ((fn.scope.bindings.get(p.name) ?? []).some((b) => b.scope === fn.scope && b.kind !== 'param')) return;
    for (const s of placed) {
      if (s.stmt.kind !== 'assign' && s.stmt.kind !== 'expr' && s.stmt.kind !== 'return') continue;
      if (frameworkBuild(facts, s.stmt, fn.scope, p.name)) {
        known!.push(i);
        return;
      }
    }
  });
  return known;
}

/** A framework optimizer built in the statement with the bare name as its learning rate (no helpers). */
function frameworkBuild(facts: Facts, stmt: Stmt, scope: Scope, name: string): boolean {
  for (const root of stmtExprs(stmt)) {
    for (const x of subExprs(root)) {
      if (x.kind !== 'call') continue;
      const arg = frameworkRate(facts, x, scope, stmt.span.start)?.arg;
      if (arg?.kind === 'name' && arg.name === name) return true;
    }
  }
  return false;
}

/** When the call builds a framework optimizer (catalogue.ts `optimizerRateArgument`): its learning-rate argument as written, if any. */
function frameworkRate(facts: Facts, call: Call, scope: Scope, at: number): { arg?: Expr } | undefined {
  const path = frameworkPath(call.callee, scope, at, facts.scopes.imports, 'python');
  const spec = path && optimizerRateArgument(path);
  return spec ? { arg: argumentAt(call, spec.keywords, spec.position) } : undefined;
}

/** What holds the built optimizer: the assignment's one target (`opt`, `self.train_op`), or the receiver of the call it is handed to (`model.compile(optimizer=…)`). */
function holderOf(stmt: Stmt, call: Call): string | undefined {
  if (stmt.kind === 'assign' && stmt.targets.length === 1 && !stmt.op) {
    const key = exprKey(stmt.targets[0]);
    if (key) return key;
  }
  const root = stmt.kind === 'assign' ? stmt.value : stmt.kind === 'expr' ? stmt.expr : undefined;
  if (root?.kind === 'call' && root !== call && root.callee.kind === 'attr' && [...root.args, ...root.kwargs.map((k) => k.value)].some((a) => a === call || within(call.span, a.span)))
    return exprKey(root.callee.object);
  return undefined;
}

/** Does the loop's body read the key (`opt.step()`, `sess.run(train_op)`)? */
function usesKey(loop: Stmt, key: string): boolean {
  let found = false;
  walkAll(loop.kind === 'for' || loop.kind === 'block' ? loop.body : [], (x) => {
    if (!found && (x.kind === 'name' || x.kind === 'attr') && exprKey(x) === key) found = true;
  });
  return found;
}

/** Whether a `global` or `nonlocal` statement in `body` (the IR's `other` with that keyword as its op) names `name`. */
function declaredOuter(body: readonly Stmt[], name: string): boolean {
  const visit = (stmts: readonly Stmt[]): boolean =>
    stmts.some(
      (s) =>
        (s.kind === 'expr' && s.expr.kind === 'other' && (s.expr.ops?.[0] === 'global' || s.expr.ops?.[0] === 'nonlocal') && s.expr.children.some((c) => c.kind === 'name' && c.name === name)) ||
        ((s.kind === 'block' || s.kind === 'for') && visit(s.body)),
    );
  return visit(body);
}

/**
 * Does anything read the name besides its own assignments' values and the build's argument? Nested
 * functions and lambdas count. Any other target form naming it (`lr, mom = …`, `for lr in …`) counts too.
 */
function readElsewhere(body: Stmt[], name: string, buildArg: Expr): boolean {
  let read = false;
  const ownValues = new Set<Expr>();
  const collectOwn = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === name) {
        ownValues.add(s.targets[0]);
        ownValues.add(s.value);
      }
      if (s.kind === 'for' || s.kind === 'block' || s.kind === 'function' || s.kind === 'class') collectOwn(s.body);
    }
  };
  collectOwn(body);
  const skipped = new Set<Expr>();
  walkAll(body, (x) => {
    if (read) return;
    if (x === buildArg || ownValues.has(x) || skipped.has(x)) {
      for (const c of subExprs(x, true)) skipped.add(c);
      return;
    }
    if (x.kind === 'name' && x.name === name) read = true;
    // An f-string's replacement fields (`f"lr {lr:.4f}"`), which the walk does not visit.
    else if (x.kind === 'str' && x.fields?.some((f) => someExpr(f, (y) => y.kind === 'name' && y.name === name))) read = true;
  });
  return read;
}
