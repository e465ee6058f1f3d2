// A list rebound to a comprehension over its own items whose new value only optimizer state reads
// (a value rewritten from its own old value). A TF multi-tensor step keeps −g of the last step in a
// list, adds this step's gradients to it (`prev_negs = [pn + g for pn, g in zip(prev_negs,
// grads)]`, the change of the gradient), and averages the result into a moment (`[d.assign(b2 * d +
// (1 - b2) * pn) for d, pn in zip(diffs, prev_negs)]`). The list is an input of that state, not a
// parameter: no step moves it, and the sign of what it adds says nothing about descent.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { FunctionDef } from './scope';
import { someExpr } from './scope';
import { inPlaceUpdate, loopSource } from './catalogue';
import { programIndex } from './program';

const MAX_NESTING = 64;

/**
 * Whether an update site is an element of a comprehension that rebinds the list it walks, `L = [e
 * + … for e, … in zip(L, …)]`, in a function, where L is a plain name of the function (a local or a
 * parameter: rebinding it changes nothing the caller holds), and every other read of L in the
 * function, at least one, walks it in a comprehension whose variable for L's items is read only in
 * the new value of a state rewritten from its own old value (`feedsState`): L is never returned,
 * stored, stepped or read otherwise, so its new value reaches nothing but that state.
 */
export function feedsOnlyOptimizerState(facts: Facts, site: UpdateSite): boolean {
  if (site.kind !== 'update' || site.target.kind !== 'name') return false;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  if (!fn) return false;
  const rebinding = rebindingOf(fn, site, facts);
  if (!rebinding) return false;
  return readOnlyByState(facts, fn, rebinding.list, rebinding.comprehension);
}

/** A list rebound to a comprehension, `L = [… for … in …]`, in a function's body (its loops and blocks). */
interface Rebinding {
  list: string;
  comprehension: Expr & { kind: 'comprehension' };
}

const rebindingsMemo = new WeakMap<FunctionDef, Rebinding[]>();

/** The function's rebindings of a name to a comprehension, listed once: every update site of the function asks. */
function comprehensionRebindings(fn: FunctionDef): Rebinding[] {
  let found = rebindingsMemo.get(fn);
  if (found) return found;
  const out: Rebinding[] = [];
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > MAX_NESTING) return;
    for (const s of stmts) {
      if (s.kind === 'assign' && !s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.value.kind === 'comprehension') out.push({ list: s.targets[0].name, comprehension: s.value });
      if (s.kind === 'for' || s.kind === 'block') visit(s.body, depth + 1);
    }
  };
  visit(fn.body, 0);
  rebindingsMemo.set(fn, (found = out));
  return found;
}

/** The assignment `L = [… for … in zip(L, …)]` whose comprehension holds the site, with the site's target walking L. */
function rebindingOf(fn: FunctionDef, site: UpdateSite, facts: Facts): Rebinding | undefined {
  const element = (site.target as { name: string }).name;
  return comprehensionRebindings(fn).find(
    ({ list, comprehension: comp }) =>
      comp.element.span.start <= site.span.start && site.span.end <= comp.element.span.end && comp.generators.some((g) => walks(g.target, g.iter, element, list, facts)),
  );
}

/** Whether the loop variable `name` of a generator walks the items of the list named `list`. */
function walks(target: Expr, iter: Expr, name: string, list: string, facts: Facts): boolean {
  const position = positionOf(target, name);
  if (position === undefined) return false;
  const source = loopSource(iter, position, (e) => facts.analyzer.isModule(e));
  return source?.kind === 'element' && source.collection.kind === 'name' && source.collection.name === list;
}

/** The place of `name` in a flat loop target (`pn` → 0, `(pn, g)` → 0). */
function positionOf(target: Expr, name: string): number | undefined {
  if (target.kind === 'name') return target.name === name ? 0 : undefined;
  if (target.kind !== 'seq') return undefined;
  const at = target.items.findIndex((t) => t.kind === 'name' && t.name === name);
  return at < 0 ? undefined : at;
}

/**
 * Whether every read of `list` in the function, besides the rebinding's own walk, is the walk of a
 * comprehension that feeds its items only to state (`feedsState`), with at least one such walk.
 */
function readOnlyByState(facts: Facts, fn: FunctionDef, list: string, rebinding: Expr): boolean {
  let reads = 0;
  let fed = 0;
  let opaque = false;
  /** The list a comprehension is assigned to, when it is the whole value of `M = [...]`. */
  const reboundBy = new Map<Expr, string>();
  const isList = (e: Expr): boolean => e.kind === 'name' && e.name === list;
  const visitExpr = (root: Expr, depth: number): void => {
    someExpr(root, (x) => {
      if (isList(x)) reads++;
      else if (x.kind === 'comprehension') {
        for (const c of x.conditions ?? []) visitExpr(c, depth + 1);
        if (x !== rebinding && x.generators.some((g) => someExpr(g.iter, isList))) {
          if (feedsState(facts, x, list, reboundBy.get(x))) fed++;
        }
      } else if (x.kind === 'lambda') visitStmts(x.stmts, depth + 1);
      return opaque;
    });
  };
  const visitStmts = (stmts: Stmt[], depth: number): void => {
    if (depth > MAX_NESTING) {
      opaque = true;
      return;
    }
    for (const s of stmts) {
      switch (s.kind) {
        case 'assign':
          if (!s.op && s.targets.length === 1 && s.targets[0].kind === 'name' && s.value.kind === 'comprehension') reboundBy.set(s.value, s.targets[0].name);
          for (const t of s.targets) if (!isList(t)) visitExpr(t, depth);
          if (s.op && s.targets.some(isList)) reads++;
          visitExpr(s.value, depth);
          break;
        case 'expr':
          visitExpr(s.expr, depth);
          break;
        case 'return':
          if (s.value) visitExpr(s.value, depth);
          break;
        case 'for':
          visitExpr(s.target, depth);
          visitExpr(s.iter, depth);
          visitStmts(s.body, depth + 1);
          break;
        case 'block':
          for (const h of s.heads) visitExpr(h, depth);
          for (const a of s.aliases ?? []) if (a) visitExpr(a, depth);
          visitStmts(s.body, depth + 1);
          break;
        case 'function':
          for (const p of s.params) if (p.default) visitExpr(p.default, depth);
          visitStmts(s.body, depth + 1);
          break;
        case 'class':
          for (const b of s.bases) visitExpr(b, depth);
          visitStmts(s.body, depth + 1);
          break;
        default:
          break;
      }
    }
  };
  visitStmts(fn.body, 0);
  // The rebinding walks the list once; each comprehension that feeds state walks it once.
  return !opaque && fed > 0 && reads === 1 + fed;
}

/**
 * Whether a comprehension walks `list`, once, in its one generator (`zip(…, list, …)` or `list`),
 * and its variable for the list's items is read only in the new value of a state the element
 * rewrites from its own old value: in place (`s.assign(b2 * s + (1 - b2) * d)`, `s.assign_add(d)`,
 * `s.add_(d)`), or as the element of the list of states the comprehension rebinds (`avgs = [b * s
 * + (1 - b) * d for s, d in zip(avgs, diffs)]`), `s` walking another list than `list`.
 */
function feedsState(facts: Facts, comp: Extract<Expr, { kind: 'comprehension' }>, list: string, rebound: string | undefined): boolean {
  if (comp.generators.length !== 1 || (comp.conditions ?? []).length > 0) return false;
  const g = comp.generators[0];
  const names = g.target.kind === 'name' ? [g.target] : g.target.kind === 'seq' ? g.target.items : [];
  const walkers = (of: string): string[] => names.flatMap((t) => (t.kind === 'name' && walks(g.target, g.iter, t.name, of, facts) ? [t.name] : []));
  const items = walkers(list);
  if (items.length !== 1 || countName(g.iter, list) !== 1) return false;
  const item = items[0];
  // The state S, a loop variable of the same walk, and its new value.
  let state: string | undefined;
  let value: Expr | undefined;
  const element = comp.element;
  const update = element.kind === 'call' ? inPlaceUpdate(element, (e) => facts.analyzer.isModule(e), (e) => facts.analyzer.modulePath(e)) : undefined;
  if (update && update.target.kind === 'name' && update.op !== '*') {
    state = update.target.name;
    value = update.operand;
    if (update.op === '=' && countName(value, state) === 0) return false;
  } else if (rebound !== undefined && rebound !== list) {
    state = walkers(rebound)[0];
    value = element;
    if (state === undefined || countName(value, state) === 0) return false;
  }
  if (state === undefined || value === undefined || state === item) return false;
  if (!names.some((t) => t.kind === 'name' && t.name === state)) return false;
  return countName(value, item) > 0 && countName(element, item) === countName(value, item);
}

/** How many times a name is read in an expression. */
function countName(root: Expr, name: string): number {
  let n = 0;
  someExpr(root, (e) => {
    if (e.kind === 'name' && e.name === name) n++;
    return false;
  });
  return n;
}
