// A project function that adds or subtracts two of its parameters entry by entry, as hand-written
// JS matrix libraries do: read as `a + b` (`a - b`) with the call's arguments, so an update written
// `W = m.addMat(W, deltaW)` is W + ΔW. Decided by the function's body alone, never by its name:
//
//   return a.map((row, i) => row.map((v, j) => v + b[i][j]));          // or a.map((v, i) => v + b[i])
//
//   var result = new Array(a.length);                                  // or [] (and rows pushed)
//   for (var i = 0; i < a.length; i++) {
//     result[i] = new Array(a[i].length);
//     for (var j = 0; j < a[i].length; j++) result[i][j] = a[i][j] + b[i][j];
//   }
//   return result;                                                     // or result.push(a[i] + b[i])
//
// Every entry written is `a[…] ± b[…]` with the same indices on both sides (the entry's own, when it
// is assigned by index), nothing else is written into the result but empty rows, and the function
// returns only the result. Anything more (a scale, a third array, a clamp) is not plain arithmetic.
// One pass over the function's own statements, kept per function.
import type { Expr, Stmt } from '../ir';
import { explicitParams, someExpr, type FunctionDef } from './scope';
import { ownStatements } from './program';
import { emptyJsArray } from './catalogue';

export interface ElementwiseArithmetic {
  op: '+' | '-';
  /** The positions of the parameters on the left and on the right of the operator (explicit parameters: without `self`). */
  left: number;
  right: number;
}

const known = new WeakMap<FunctionDef, ElementwiseArithmetic | null>();

/** What the function computes entry by entry from two of its parameters, or undefined. */
export function elementwiseArithmetic(fn: FunctionDef, returned: readonly Expr[]): ElementwiseArithmetic | undefined {
  let found = known.get(fn);
  if (found === undefined) {
    found = (returned.length === 1 ? read(fn, returned[0]) : undefined) ?? null;
    known.set(fn, found);
  }
  return found ?? undefined;
}

function read(fn: FunctionDef, returned: Expr): ElementwiseArithmetic | undefined {
  const params = explicitParams(fn).map((p) => (p.rest || p.default ? undefined : p.name));
  if (params.filter((p) => p !== undefined).length < 2) return undefined;
  const position = (name: string): number => params.indexOf(name);
  if (returned.kind === 'call') return mapped(returned, position);
  if (returned.kind === 'name' && position(returned.name) < 0) return filled(fn, returned.name, position);
  return undefined;
}

/** `a.map((v, i) => v ± b[i])`, one `map` per axis. */
function mapped(call: Expr & { kind: 'call' }, position: (name: string) => number): ElementwiseArithmetic | undefined {
  if (call.callee.kind !== 'attr' || call.callee.object.kind !== 'name') return undefined;
  const source = position(call.callee.object.name);
  if (source < 0) return undefined;
  const axis = (e: Expr, element: string, indices: string[], depth: number): ElementwiseArithmetic | undefined => {
    if (depth > 4) return undefined;
    // `row.map((v, j) => …)`: the next axis.
    if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === 'map' && e.callee.object.kind === 'name' && e.callee.object.name === element) {
      const inner = lambdaOf(e);
      return inner && axis(inner.body, inner.element, [...indices, inner.index], depth + 1);
    }
    if (e.kind !== 'binary' || (e.op !== '+' && e.op !== '-')) return undefined;
    const side = (x: Expr): number => (x.kind === 'name' && x.name === element ? source : entryOf(x, indices, position));
    const left = side(e.left);
    const right = side(e.right);
    if (left < 0 || right < 0 || left === right || (left !== source && right !== source)) return undefined;
    return { op: e.op, left, right };
  };
  if (call.callee.name !== 'map') return undefined;
  const first = lambdaOf(call);
  return first && axis(first.body, first.element, [first.index], 0);
}

/** The one callback of `x.map((v, i) => expr)` (or a body that only returns expr). */
function lambdaOf(call: Expr & { kind: 'call' }): { element: string; index: string; body: Expr } | undefined {
  const f = call.args[0];
  if (call.args.length !== 1 || f?.kind !== 'lambda' || f.params.length !== 2) return undefined;
  const body = f.body ?? (f.stmts.length === 1 && f.stmts[0].kind === 'return' ? f.stmts[0].value : undefined);
  return body ? { element: f.params[0].name, index: f.params[1].name, body } : undefined;
}

/** `b[i][j]` with exactly these index names: the position of parameter b, or −1. */
function entryOf(e: Expr, indices: readonly string[], position: (name: string) => number): number {
  let x = e;
  for (let k = indices.length - 1; k >= 0; k--) {
    if (x.kind !== 'index' || x.index.length !== 1 || x.index[0].kind !== 'name' || x.index[0].name !== indices[k]) return -1;
    x = x.object;
  }
  return x.kind === 'name' ? position(x.name) : -1;
}

/** The index names of `b[i][j]` on a parameter: [i, j], or undefined. */
function entryIndices(e: Expr, position: (name: string) => number): string[] | undefined {
  const out: string[] = [];
  let x = e;
  while (x.kind === 'index') {
    if (x.index.length !== 1 || x.index[0].kind !== 'name') return undefined;
    out.unshift(x.index[0].name);
    x = x.object;
  }
  return out.length > 0 && x.kind === 'name' && position(x.name) >= 0 ? out : undefined;
}

/** `new Array(n)`, `[]`, `Array(n)`: an empty row or result. */
function isAllocation(e: Expr): boolean {
  return (e.kind === 'seq' && e.items.length === 0) || emptyJsArray(e);
}

/** The result filled in loops: every entry written is `a[…] ± b[…]`, every other write an empty row. */
function filled(fn: FunctionDef, result: string, position: (name: string) => number): ElementwiseArithmetic | undefined {
  // Rows built apart and pushed whole (`row = []; row.push(a[i][j] + b[i][j]); result.push(row)`).
  const rows = new Set<string>();
  let found: ElementwiseArithmetic | undefined;
  let agree = true;
  const entry = (value: Expr, indices: readonly string[] | undefined): boolean => {
    if (value.kind !== 'binary' || (value.op !== '+' && value.op !== '-')) return false;
    const left = entryIndices(value.left, position);
    const right = entryIndices(value.right, position);
    if (!left || !right || left.join() !== right.join() || (indices && indices.join() !== left.join())) return false;
    const l = entryOf(value.left, left, position);
    const r = entryOf(value.right, right, position);
    if (l === r) return false;
    const here: ElementwiseArithmetic = { op: value.op, left: l, right: r };
    if (found && (found.op !== here.op || found.left !== here.left || found.right !== here.right)) agree = false;
    found ??= here;
    return true;
  };
  const isOurs = (name: string): boolean => name === result || rows.has(name);
  const statements: Stmt[] = ownStatements(fn.body);
  // Rows first: a local set to an empty array and pushed whole into the result.
  for (const st of statements) {
    if (st.kind !== 'expr' || st.expr.kind !== 'call') continue;
    const c = st.expr;
    if (c.callee.kind === 'attr' && c.callee.name === 'push' && c.callee.object.kind === 'name' && c.callee.object.name === result && c.args.length === 1 && c.args[0].kind === 'name') rows.add(c.args[0].name);
  }
  let writes = 0;
  for (const st of statements) {
    if (st.kind === 'assign') {
      if (st.targets.length !== 1) continue;
      const t = st.targets[0];
      if (t.kind === 'name' && isOurs(t.name)) {
        if (st.op || !isAllocation(st.value)) return undefined;
        continue;
      }
      if (t.kind !== 'index') continue;
      let base: Expr = t;
      const indices: string[] = [];
      while (base.kind === 'index') {
        if (base.index.length !== 1 || base.index[0].kind !== 'name') return undefined;
        indices.unshift(base.index[0].name);
        base = base.object;
      }
      if (base.kind !== 'name' || !isOurs(base.name)) continue;
      if (st.op) return undefined;
      if (isAllocation(st.value)) continue;
      if (rows.has(base.name) || !entry(st.value, indices)) return undefined;
      writes++;
    } else if (st.kind === 'expr' && st.expr.kind === 'call') {
      const c = st.expr;
      if (c.callee.kind !== 'attr' || c.callee.object.kind !== 'name' || !isOurs(c.callee.object.name)) continue;
      if (c.callee.name !== 'push' || c.args.length !== 1) return undefined;
      const arg = c.args[0];
      if (c.callee.object.name === result && arg.kind === 'name' && rows.has(arg.name)) continue;
      if (!entry(arg, undefined)) return undefined;
      writes++;
    }
  }
  // Anything else that names the result (handed to a call, aliased) might change it.
  if (writes === 0 || !agree || !found || mentionedElsewhere(statements, result, rows)) return undefined;
  return found;
}

/**
 * Is the result or a row read anywhere but in the writes `filled` read (`helper(result)`, `alias = result`,
 * `{ data: result }`, a comprehension over it)? A function of its own (a lambda) counts as a read.
 */
function mentionedElsewhere(statements: readonly Stmt[], result: string, rows: ReadonlySet<string>): boolean {
  const ours = (e: Expr): boolean => e.kind === 'name' && (e.name === result || rows.has(e.name));
  // `result.length`, `row.length` read a size: their objects are not reads (the walk meets the object after its attribute).
  const sizes = new Set<Expr>();
  const reads = (e: Expr): boolean => {
    if (e.kind === 'attr' && e.name === 'length' && ours(e.object)) sizes.add(e.object);
    return e.kind === 'lambda' || (ours(e) && !sizes.has(e));
  };
  const visit = (e: Expr): boolean => someExpr(e, reads);
  let found = false;
  for (const st of statements) {
    if (st.kind === 'assign') {
      const t = st.targets[0];
      // A write into the result (read above); its target's base is ours by design.
      const writesOurs = t && (t.kind === 'name' ? ours(t) : t.kind === 'index' && ours(baseOfIndex(t)));
      found = (!writesOurs && st.targets.some(visit)) || visit(st.value);
    } else if (st.kind === 'expr') {
      const c = st.expr;
      if (c.kind === 'call' && c.callee.kind === 'attr' && c.callee.name === 'push' && ours(c.callee.object)) found = c.args.some((a) => !ours(a) && visit(a));
      else found = visit(c);
    } else if (st.kind === 'return') found = !!st.value && !ours(st.value) && visit(st.value);
    else if (st.kind === 'block') found = st.heads.some(visit);
    else if (st.kind === 'for') found = visit(st.iter);
    if (found) return true;
  }
  return false;
}

function baseOfIndex(e: Expr): Expr {
  let x = e;
  while (x.kind === 'index') x = x.object;
  return x;
}
