// The factor a function applies to a gradient local after a penalty term is added to it, before the
// local leaves the function: `dW /= m` or `dW = dW / m` after `dW += reg * W`, or a return that scales
// it (`return loss, dW / m`, `return loss, {'W': dW / m}`). NB103 compares the term times that factor
// with the penalty's gradient: a cost that divides its whole sum by m, penalty included
// (`(data + 0.5 * reg * ΣW²) / m`), has the gradient `(Xᵀ·d + reg·W) / m`, whoever divides.
// Decided by data flow on the local (its later bindings in the function and the function's returns),
// not by names. Every return that hands the local on must apply the same factor; a factor that is not
// read as a number (a tensor, an unknown call) makes the answer `unknown`. Only a division by a quantity
// counts (`/ m`): a multiplier (`return loss, lr * dW`) hands on a step, not the cost's gradient.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import { exprKey } from './keys';
import { ownStatements, programIndex } from './program';
import { returnsOf } from './resolve';
import { subExprs } from './loops';
import { coef as makeCoef, div, mul, equalCoef } from '../../math/coef';
import type { Coef } from '../../math/terms';
import type { Scope } from './scope';

export type LaterScale = { coef: Coef; span: Expr['span'] } | 'unknown' | undefined;

/**
 * The factor the function applies to `site`'s target after the statement at `site.at` (undefined when
 * none: the local leaves as it is, or is no plain local of a function).
 */
export function laterGradientScale(facts: Facts, site: UpdateSite): LaterScale {
  if (site.kind === 'update' || site.target.kind !== 'name') return undefined;
  const key = site.target.name;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  if (!fn) return undefined;
  let factor = makeCoef(1, []);
  let where: Expr['span'] | undefined;
  // Later bindings of the local in its function: scalings of the whole local multiply the factor; any
  // other rebinding (a new value) ends what this site's term is part of.
  const later = site.scope.allBindings(key).filter((b) => b.at > site.at).sort((a, b) => a.at - b.at);
  for (const b of later) {
    if (b.kind !== 'assign' || !b.value) return 'unknown';
    if (b.op === '+' || b.op === '-') continue;
    if (b.op === '*' || b.op === '/') {
      const c = scalarCoef(facts, b.value, b.scope, b.at);
      if (!c) return 'unknown';
      factor = b.op === '*' ? mul(factor, c) : div(factor, c);
      where = b.span;
      continue;
    }
    if (b.op) return 'unknown';
    const scaled = scaledOf(facts, b.value, key, b.scope, b.at);
    if (scaled === 'unknown') return 'unknown';
    if (!scaled) break;
    factor = mul(factor, scaled);
    where = b.span;
  }
  // The returns that hand the local on: each must apply one factor, the same for all.
  let returned: Coef | undefined;
  for (const r of returnsOf(facts.program, fn)) {
    if (r.at < site.at) continue;
    for (const written of returnedItems(r.expr)) {
      // A local bound to the scaled gradient and returned (`grad = dW / m`, `return loss, grad`).
      const name = written.kind === 'name' && written.name !== key ? written.name : undefined;
      const b = name !== undefined ? r.scope.lookup(name, r.at) : undefined;
      const value = name !== undefined && b?.kind === 'assign' && b.value && !b.op && b.at > site.at && b.scope.allBindings(name).length === 1 ? b.value : written;
      // A dict the function fills by key (`grads = {}` … `grads['W'] = dW / m` … `return loss, grads`): its values.
      const filled = name !== undefined && b?.kind === 'assign' && b.value?.kind === 'object' && !b.op && b.scope.allBindings(name).length === 1 ? keyedWrites(fn.body, name, site.at) : [];
      for (const item of [...returnedItems(value), ...filled]) {
        if (!subExprs(item).some((x) => x.kind === 'name' && x.name === key)) continue;
        // Only a product of the local scales it; any other use (`dW.ravel()`, a concatenation) hands it on as it is.
        const c = scaledOf(facts, item, key, r.scope, r.at) ?? makeCoef(1, []);
        if (c === 'unknown') return 'unknown';
        if (returned && !equalCoef(returned, c)) return 'unknown';
        returned = c;
        if (item.kind !== 'name') where = item.span;
      }
    }
  }
  if (returned) factor = mul(factor, returned);
  if (!where || equalCoef(factor, makeCoef(1, []))) return undefined;
  // Only a division by a quantity (`/ m`, `* (1.0 / m)`) is the cost's averaging: a multiplier
  // (`return loss, lr * dW`, `dW *= learning_rate`) or a bare number makes what leaves a step, not the
  // gradient of the cost, and the term is judged where it is written, as before.
  if (!factor.syms.some((s) => s.pow < 0) || factor.syms.some((s) => s.pow > 0)) return undefined;
  return { coef: factor, span: where };
}

/** The values written under a key of the dict `name` after `after` (`grads['W'] = dW / m`). */
function keyedWrites(body: Stmt[], name: string, after: number): Expr[] {
  const out: Expr[] = [];
  for (const s of ownStatements(body)) {
    if (s.kind !== 'assign' || s.op || s.span.start < after) continue;
    for (const t of s.targets) if (t.kind === 'index' && t.object.kind === 'name' && t.object.name === name) out.push(s.value);
  }
  return out;
}

/** The items a return hands on: a tuple's items, a dict's values, the value itself. */
function returnedItems(e: Expr): Expr[] {
  if (e.kind === 'seq') return e.items.flatMap(returnedItems);
  if (e.kind === 'object') return e.entries.map((k) => k.value);
  return [e];
}

/**
 * `key / c`, `key * c`, `c * key` (nested): the factor applied to the local; undefined when the
 * expression is not such a product of the local; `unknown` when a factor is not read as a number.
 */
function scaledOf(facts: Facts, e: Expr, key: string, scope: Scope, at: number, depth = 0): Coef | 'unknown' | undefined {
  if (depth > 6) return undefined;
  if (e.kind === 'name' && e.name === key) return makeCoef(1, []);
  if (e.kind === 'other' && e.children.length === 1 && !e.ops?.length) return scaledOf(facts, e.children[0], key, scope, at, depth + 1);
  if (e.kind !== 'binary' || (e.op !== '*' && e.op !== '/')) return undefined;
  const left = scaledOf(facts, e.left, key, scope, at, depth + 1);
  if (left !== undefined) {
    if (left === 'unknown') return left;
    const c = scalarCoef(facts, e.right, scope, at);
    if (!c) return 'unknown';
    return e.op === '*' ? mul(left, c) : div(left, c);
  }
  if (e.op !== '*') return undefined;
  const right = scaledOf(facts, e.right, key, scope, at, depth + 1);
  if (right === undefined || right === 'unknown') return right;
  const c = scalarCoef(facts, e.left, scope, at);
  return c ? mul(c, right) : 'unknown';
}

/** A scalar factor read as a coefficient (a number, a strength, a count), or undefined. */
function scalarCoef(facts: Facts, e: Expr, scope: Scope, at: number): Coef | undefined {
  const p = facts.analyzer.classify(e, scope, at);
  if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || (p.signs?.length ?? 0) > 0) return undefined;
  return p.coef;
}
