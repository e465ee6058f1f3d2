// Another parameter's value added into a gradient, read from the steps of one function (NB106).
// `dW['dW' + k] = dW['dW' + k] + c * wg['W' + k].T + c * wg['b' + k].T`, with `wg = weights.copy()`
// and, later in the function, `weights['W' + k] = wg['W' + k] - alpha * dWT['dWT' + k]` (fed by the
// gradient) and `weights['b' + k] = wg['b' + k] - alpha * db['db' + k]` (fed by another gradient):
// `wg['W' + k]` is the weight's own value, its decay (silent); `wg['b' + k]` is the bias, another
// parameter, whose value is the same for every weight of a row: a constant to this weight.
// Entries are told apart by their keys (keys.ts: `'W' + k` is `"W{k}"`) and a container is followed
// through its copy (`wg = weights.copy()`, `dict(weights)`). Undefined whenever any link is missing,
// and when the other entry's own gradient reads this weight back: a joint penalty couples both ways
// (lam/2·(a + b)² puts lam·b in a's gradient and lam·a in b's), the bias slip one way only.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { UpdateSite } from './updates';
import type { Summand } from './analysis';
import { exprKey } from './keys';
import { someExpr } from './scope';
import { programIndex } from './program';
import { shallowContainerCopy, transposeOperand } from './catalogue';

const MAX_HOPS = 4;

/** An entry of a parameter container read in a gradient term: its factor and whether it is the gradient's own weight. */
export interface EntryFactor {
  /** The factor as the term's coefficient names it (`wg["b{k}"].T`). */
  symbol: string;
  expr: Expr;
  own: boolean;
}

/**
 * The factor of a gradient term that is a stepped entry of a parameter container (or of its copy),
 * and whether that entry is the one the gradient steps. Undefined when the term has no such factor,
 * or the steps of the function do not say which entry the gradient feeds.
 */
export function steppedEntryFactor(facts: Facts, site: UpdateSite, summand: Summand): EntryFactor | undefined {
  if (site.kind === 'update') return undefined;
  const gradKey = exprKey(site.target);
  if (gradKey === undefined) return undefined;
  const fn = programIndex(facts).enclosingFunction(site.scope);
  if (!fn) return undefined;
  const stmts = flatten(fn.body);
  for (const f of summand.num) {
    const e = transposeOperand(f.expr) ?? f.expr;
    if (e.kind !== 'index' || e.object.kind !== 'name' || e.index.length !== 1) continue;
    const symbol = exprKey(f.expr);
    const entry = exprKey(e);
    if (symbol === undefined || entry === undefined) continue;
    const container = e.object.name;
    const original = copiedFrom(stmts, container) ?? container;
    const suffix = entry.slice(container.length);
    // The steps of the container's entries in this function: `P[k] = C[k] - …`, C the container or its copy.
    const steps: (Stmt & { kind: 'assign' })[] = [];
    for (const s of stmts) {
      if (s.kind !== 'assign' || s.op || s.targets.length !== 1 || s.targets[0].kind !== 'index' || exprKey(s.targets[0].object) !== original) continue;
      if (s.value.kind !== 'binary' || s.value.op !== '-') continue;
      const own = exprKey(s.targets[0])!.slice(original.length);
      const left = exprKey(s.value.left);
      if (left === original + own || left === container + own) steps.push(s);
    }
    if (steps.length < 2) continue;
    const fed = (s: Stmt & { kind: 'assign' }): boolean => s.value.kind === 'binary' && readsFrom(stmts, s.value.right, new Set([gradKey]), 0);
    const mine = steps.find((s) => exprKey(s.targets[0])!.slice(original.length) === suffix);
    if (!mine) continue;
    const others = steps.filter((s) => s !== mine);
    // Exactly one entry of the container is fed by this gradient: the others are other parameters.
    const feeding = steps.filter(fed);
    if (feeding.length !== 1) continue;
    if (feeding[0] === mine) return { symbol, expr: f.expr, own: true };
    if (!others.includes(feeding[0])) continue;
    // The other entry's own step reads this gradient's weight back (`grads['b'] = g + lam * old['b'] + lam * old['a']`):
    // both gradients couple the two, as the gradient of a joint penalty lam/2·(a + b)² does. No verdict.
    const ownSuffix = exprKey(feeding[0].targets[0])!.slice(original.length);
    const ownKeys = new Set([original + ownSuffix, container + ownSuffix]);
    if (mine.value.kind === 'binary' && readsFrom(stmts, mine.value.right, ownKeys, 0)) continue;
    return { symbol, expr: f.expr, own: false };
  }
  return undefined;
}

/** `C = P.copy()` (or `dict(P)`, `copy.copy(P)`: catalogue.ts), the one binding of C in the function: P's key. */
function copiedFrom(stmts: Stmt[], name: string): string | undefined {
  const bindings = stmts.filter((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign' && s.targets.some((t) => t.kind === 'name' && t.name === name));
  if (bindings.length !== 1 || bindings[0].op || bindings[0].targets.length !== 1) return undefined;
  const source = shallowContainerCopy(bindings[0].value);
  return source?.kind === 'name' ? source.name : undefined;
}

/** Does `e` read one of the keys (a gradient), directly or through values assigned from it in the function (`dWT[k] = dW[k].T`)? */
function readsFrom(stmts: Stmt[], e: Expr, keys: ReadonlySet<string>, hops: number): boolean {
  if (someExpr(e, (x) => { const k = exprKey(x); return k !== undefined && keys.has(k); })) return true;
  if (hops >= MAX_HOPS) return false;
  const read = new Set<string>();
  someExpr(e, (x) => {
    const k = exprKey(x);
    if (k !== undefined && (x.kind === 'name' || x.kind === 'index')) read.add(k);
    return false;
  });
  for (const s of stmts) {
    if (s.kind !== 'assign' || s.targets.length !== 1) continue;
    const k = exprKey(s.targets[0]);
    if (k !== undefined && read.has(k) && readsFrom(stmts, s.value, keys, hops + 1)) return true;
  }
  return false;
}

/** The function's statements, loops and branches opened (nested functions and classes left out). */
function flatten(body: Stmt[]): Stmt[] {
  const out: Stmt[] = [];
  for (const s of body) {
    out.push(s);
    if (s.kind === 'for' || s.kind === 'block') out.push(...flatten(s.body));
  }
  return out;
}
