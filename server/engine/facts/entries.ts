// Entries of one array: does a term read ANOTHER entry of the array an update writes?
//
// `V[s] = V[s] * (1 - alpha) + alpha * (r + gamma * V[nxt])` reads V at another index than the one
// it writes: that value is another entry's, neither a penalty gradient nor a decay of the target
// (a TD or value-iteration target). The same index (`W[i] += lr * lam * W[i]`, a row-wise decay)
// is the target's own value. Decided by the index expressions alone, as written.
import type { Expr } from '../ir';
import { isKeyedByString, isWholeAxis } from './keys';
import { isEntriesView } from './catalogue';

/**
 * The index parts of an element read or written, outermost array first (`W[i][j]` → [i, j],
 * `W[i, :]` → [i]); [] for the array itself; undefined when it cannot be read (an attribute
 * between the subscripts, `W.T[i]`, or a node the analysis built). Trailing full slices are
 * dropped. A string key (`params["W1"]`) names an array of its own: it ends the walk.
 */
function entryParts(e: Expr): { parts: Expr[]; scalar: boolean } | undefined {
  const chain: Expr[][] = [];
  let x = e;
  while (x.kind === 'index' && !isKeyedByString(x)) {
    // Only a subscript as written: a node the analysis builds (a lambda's `w` read as `this.weights[?]`)
    // does not hold its index after the start of its own span. (The array may be a helper's argument
    // put in place of its parameter: only the index is checked.)
    const node = x;
    const within = (y: Expr): boolean => node.span.start <= y.span.start && y.span.end <= node.span.end;
    if (node.index.length === 0 || node.index.some((part) => !within(part) || part.span.start === node.span.start)) return undefined;
    chain.unshift(x.index);
    x = x.object;
  }
  if (x.kind === 'attr' && chain.length > 0 && isEntriesView(x.name)) return undefined;
  const parts = chain.flat();
  while (parts.length > 0 && isWholeAxis(parts[parts.length - 1], { ellipsis: true })) parts.pop();
  // A slice (`1:`, `:`) keeps a range of the array; a name, number or expression picks entries.
  return { parts, scalar: parts.some((part) => part.kind !== 'other') };
}

/**
 * Two expressions written alike (structure, names, values), as indexes and places are compared. Read
 * from the IR alone: a slice by its written parts and their values (`1:` and `1 :` alike, `1:` and `:1`
 * not), a comparison by its operators, a sequence by its items. A lambda or a comprehension is never
 * alike another.
 */
export function writtenAlike(a: Expr, b: Expr): boolean {
  const all = (xs: readonly Expr[], ys: readonly Expr[]): boolean => xs.length === ys.length && xs.every((x, i) => writtenAlike(x, ys[i]));
  const same = (xs: readonly string[] | undefined, ys: readonly string[] | undefined): boolean => (xs ?? []).length === (ys ?? []).length && (xs ?? []).every((x, i) => x === ys![i]);
  switch (a.kind) {
    case 'name':
      return b.kind === 'name' && a.name === b.name;
    case 'num':
    case 'str':
      return b.kind === a.kind && a.value === b.value;
    case 'attr':
      return b.kind === 'attr' && a.name === b.name && writtenAlike(a.object, b.object);
    case 'index':
      return b.kind === 'index' && writtenAlike(a.object, b.object) && all(a.index, b.index);
    case 'binary':
      return b.kind === 'binary' && a.op === b.op && writtenAlike(a.left, b.left) && writtenAlike(a.right, b.right);
    case 'unary':
      return b.kind === 'unary' && a.op === b.op && writtenAlike(a.arg, b.arg);
    case 'call':
      return b.kind === 'call' && a.kwargs.length === 0 && b.kwargs.length === 0 && writtenAlike(a.callee, b.callee) && all(a.args, b.args);
    case 'seq':
      return b.kind === 'seq' && all(a.items, b.items);
    case 'cond':
      return b.kind === 'cond' && writtenAlike(a.test, b.test) && writtenAlike(a.then, b.then) && writtenAlike(a.else, b.else);
    case 'object':
      return b.kind === 'object' && a.entries.length === b.entries.length && a.entries.every((x, i) => x.name === b.entries[i].name && writtenAlike(x.value, b.entries[i].value));
    case 'other':
      return b.kind === 'other' && (a.slice === undefined) === (b.slice === undefined) && same(a.slice, b.slice) && a.ellipsis === b.ellipsis && same(a.ops, b.ops) && all(a.children, b.children);
    default:
      return false;
  }
}

/**
 * Does `read` (an occurrence of the array `target` writes) pick another entry than the one
 * written: a different index expression (`V[nxt]` in the update of `V[state]`), or one entry
 * (`values[s_next]`) in the update of the whole array? Slices alone (`theta[1:]`) are left as
 * they were: they keep a range of the array, not one entry of it. `valueOf` gives what a name
 * is bound to where the update is (`key = 'W' + str(l)`; undefined for a loop variable), so
 * `params[key]` and `params['W' + str(l)]` are one entry.
 */
export function readsOtherEntry(target: Expr, read: Expr, valueOf: (name: string) => Expr | undefined): boolean {
  const r = entryParts(read);
  if (!r || r.parts.length === 0 || !r.scalar) return false;
  const t = entryParts(target);
  if (!t) return false;
  if (t.parts.length !== r.parts.length) return true;
  const resolved = (e: Expr): Expr => (e.kind === 'name' ? valueOf(e.name) ?? e : e);
  return t.parts.some((p, i) => !writtenAlike(p, r.parts[i]) && !writtenAlike(resolved(p), resolved(r.parts[i])));
}
