// Entries of one array: does a term read ANOTHER entry of the array an update writes?
//
// `V[s] = V[s] * (1 - alpha) + alpha * (r + gamma * V[nxt])` reads V at another index than the one
// it writes: that value is another entry's, neither a penalty gradient nor a decay of the target
// (a TD or value-iteration target). The same index (`W[i] += lr * lam * W[i]`, a row-wise decay)
// is the target's own value. Decided by the index expressions alone, as written.
import type { Expr } from '../ir';
import { isKeyedByString } from './keys';
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
  while (parts.length > 0 && isFullSlice(parts[parts.length - 1])) parts.pop();
  // A slice (`1:`, `:`) keeps a range of the array; a name, number or expression picks entries.
  return { parts, scalar: parts.some((part) => part.kind !== 'other') };
}

/** A whole axis: a slice with no part written (`:`, `::`) or Python's `...`. */
function isFullSlice(part: Expr): boolean {
  return part.kind === 'other' && (part.ellipsis === true || part.slice?.length === 0);
}

/** Two expressions written alike (structure, names, values), as indexes and places are compared; a slice or other text by its text. */
export function writtenAlike(a: Expr, b: Expr, source: (e: Expr) => string): boolean {
  switch (a.kind) {
    case 'name':
      return b.kind === 'name' && a.name === b.name;
    case 'num':
    case 'str':
      return b.kind === a.kind && a.value === b.value;
    case 'attr':
      return b.kind === 'attr' && a.name === b.name && writtenAlike(a.object, b.object, source);
    case 'index':
      return b.kind === 'index' && a.index.length === b.index.length && writtenAlike(a.object, b.object, source) && a.index.every((x, i) => writtenAlike(x, b.index[i], source));
    case 'binary':
      return b.kind === 'binary' && a.op === b.op && writtenAlike(a.left, b.left, source) && writtenAlike(a.right, b.right, source);
    case 'unary':
      return b.kind === 'unary' && a.op === b.op && writtenAlike(a.arg, b.arg, source);
    case 'call':
      return b.kind === 'call' && a.kwargs.length === 0 && b.kwargs.length === 0 && a.args.length === b.args.length && writtenAlike(a.callee, b.callee, source) && a.args.every((x, i) => writtenAlike(x, b.args[i], source));
    default:
      return b.kind === a.kind && source(a).replace(/\s+/g, '') === source(b).replace(/\s+/g, '');
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
export function readsOtherEntry(target: Expr, read: Expr, source: (e: Expr) => string, valueOf: (name: string) => Expr | undefined): boolean {
  const r = entryParts(read);
  if (!r || r.parts.length === 0 || !r.scalar) return false;
  const t = entryParts(target);
  if (!t) return false;
  if (t.parts.length !== r.parts.length) return true;
  const resolved = (e: Expr): Expr => (e.kind === 'name' ? valueOf(e.name) ?? e : e);
  return t.parts.some((p, i) => !writtenAlike(p, r.parts[i], source) && !writtenAlike(resolved(p), resolved(r.parts[i]), source));
}
