// Entries of one array: does a term read ANOTHER entry of the array an update writes?
//
// `V[s] = V[s] * (1 - alpha) + alpha * (r + gamma * V[nxt])` reads V at another index than the one
// it writes: that value is another entry's, neither a penalty gradient nor a decay of the target
// (a TD or value-iteration target). The same index (`W[i] += lr * lam * W[i]`, a row-wise decay)
// is the target's own value. Decided by the index expressions alone, as written.
import type { Expr } from '../ir';
import { isKeyedByString } from './keys';

/**
 * The index parts of an element read or written, outermost array first (`W[i][j]` → [i, j],
 * `W[i, :]` → [i]); [] for the array itself; undefined when it cannot be read (an attribute
 * between the subscripts, `W.T[i]`). Parts are source texts without spaces; trailing full slices
 * are dropped. A string key (`params["W1"]`) names an array of its own: it ends the walk.
 */
function entryParts(e: Expr, source: (e: Expr) => string): { parts: string[]; scalar: boolean } | undefined {
  const chain: Expr[][] = [];
  let x = e;
  while (x.kind === 'index' && !isKeyedByString(x)) {
    // Only a subscript as written: a node the analysis builds (a lambda's `w` read as `this.weights[?]`)
    // does not hold its index after the start of its own span, and its text is not an index.
    const node = x;
    const within = (y: Expr): boolean => node.span.start <= y.span.start && y.span.end <= node.span.end;
    // (The array may be a helper's argument put in place of its parameter: only the index is checked.)
    if (node.index.length === 0 || node.index.some((part) => !within(part) || part.span.start === node.span.start)) return undefined;
    chain.unshift(x.index);
    x = x.object;
  }
  if (x.kind === 'attr' && chain.length > 0 && (x.name === 'T' || x.name === 'mT' || x.name === 'data' || x.name === 'value')) return undefined;
  const parts: string[] = [];
  let scalar = false;
  for (const index of chain) {
    for (const part of index) {
      const text = source(part).replace(/\s+/g, '');
      parts.push(text);
      // A slice (`1:`, `:`, `...`) keeps a range of the array; a name, number or expression picks entries.
      if (part.kind !== 'other') scalar = true;
    }
  }
  while (parts.length > 0 && (parts[parts.length - 1] === ':' || parts[parts.length - 1] === '...')) parts.pop();
  return { parts, scalar };
}

/**
 * Does `read` (an occurrence of the array `target` writes) pick another entry than the one
 * written: a different index expression (`V[nxt]` in the update of `V[state]`), or one entry
 * (`values[s_next]`) in the update of the whole array? Slices alone (`theta[1:]`) are left as
 * they were: they keep a range of the array, not one entry of it.
 */
export function readsOtherEntry(target: Expr, read: Expr, source: (e: Expr) => string): boolean {
  const r = entryParts(read, source);
  if (!r || r.parts.length === 0 || !r.scalar) return false;
  const t = entryParts(target, source);
  if (!t) return false;
  if (t.parts.length !== r.parts.length) return true;
  return t.parts.some((p, i) => p !== r.parts[i]);
}
