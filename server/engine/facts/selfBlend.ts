// A "moving average" written β·X + (1 − β)·X: the blend weighs one value against itself, so the
// new value is X and the target's old value is never read (`self.vel = beta * g + (1 - beta) * g`,
// momentum that is plain gradient descent). A moving average is T ← β·T + (1 − β)·X. Read in the IR,
// since the normal form folds the blend to X before anything can see how it was written: both
// summands read the same place (a name, attribute or entry; a call such as `randn()` may differ
// between its two runs), one weighted by c and the other by 1 − c. The target must be state something
// reads by its own name (the step reads the velocity, the test branch the running mean): a slot only
// written here and handed on through its owner (`self.beta.grads = …`, a layer's gradient field the
// optimizer reads as `p.grads` and the next backward overwrites) carries nothing across steps, and the
// blend is X, harmless.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { programIndex, walkAll } from './program';
import { sameExpr } from './doubleDecay';

export interface SelfBlend {
  /** The assignment's target as written. */
  target: Expr;
  /** The value blended with itself. */
  x: Expr;
  /** c of c·X + (1 − c)·X. */
  weight: Expr;
  /** The whole blend. */
  span: Span;
}

const cache = new WeakMap<Facts, SelfBlend[]>();

export function selfBlends(facts: Facts): SelfBlend[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const st of programIndex(facts).stmtBySpan.values()) {
    if (st.kind !== 'assign' || st.op !== undefined || st.targets.length !== 1) continue;
    const blend = blendOfItself(st.value, (a, b) => sameText(facts, a, b));
    // The target blending itself is the moving average done right (`m = b * m + (1 - b) * m` aside, which is m).
    if (!blend || exprKey(blend.x) === exprKey(st.targets[0])) continue;
    const key = exprKey(st.targets[0]);
    if (key === undefined || !readKeys(facts).has(key)) continue;
    found.push({ target: st.targets[0], ...blend, span: st.value.span });
  }
  cache.set(facts, found);
  return found;
}

const readCache = new WeakMap<Facts, Set<string>>();

/** The keys of the places the file reads (every expression but the target of a plain assignment). */
function readKeys(facts: Facts): Set<string> {
  let keys = readCache.get(facts);
  if (keys) return keys;
  keys = new Set();
  const written = new Set<Expr>();
  for (const st of programIndex(facts).stmtBySpan.values()) if (st.kind === 'assign' && st.op === undefined) st.targets.forEach((t) => written.add(t));
  const out = keys;
  walkAll(facts.module.body, (e) => {
    if (written.has(e)) return;
    const k = exprKey(e);
    if (k !== undefined) out.add(k);
  });
  readCache.set(facts, keys);
  return keys;
}

function blendOfItself(e: Expr, same: (a: Expr, b: Expr) => boolean): { x: Expr; weight: Expr } | undefined {
  if (e.kind !== 'binary' || e.op !== '+') return undefined;
  for (const a of readings(e.left)) {
    for (const b of readings(e.right)) {
      if (!same(a.x, b.x)) continue;
      if (complements(a.weight, b.weight)) return { x: a.x, weight: a.weight };
      if (complements(b.weight, a.weight)) return { x: a.x, weight: b.weight };
    }
  }
  return undefined;
}

/** `c * X` or `X * c` read as weight and place, each way the place can be (`beta * g`: either is a name). */
function readings(e: Expr): { weight: Expr; x: Expr }[] {
  if (e.kind !== 'binary' || e.op !== '*') return [];
  const [l, r] = [unwrap(e.left), unwrap(e.right)];
  const out: { weight: Expr; x: Expr }[] = [];
  if (exprKey(r) !== undefined) out.push({ weight: l, x: r });
  if (exprKey(l) !== undefined) out.push({ weight: r, x: l });
  return out;
}

/**
 * The same place, written the same: keys read every slice as `:` (`p[..., 25:26]` and `p[..., 20:21]`
 * share one), so the text decides too.
 */
function sameText(facts: Facts, a: Expr, b: Expr): boolean {
  return sameExpr(a, b) && facts.source(a.span).replace(/\s+/g, '') === facts.source(b.span).replace(/\s+/g, '');
}

/** `1 - c` written out for the c of the other summand. */
function complements(c: Expr, other: Expr): boolean {
  const o = unwrap(other);
  return o.kind === 'binary' && o.op === '-' && o.left.kind === 'num' && o.left.value === 1 && sameExpr(unwrap(o.right), unwrap(c));
}

/** The expression inside parentheses (a one-item `seq`), however many. */
export function unwrap(e: Expr): Expr {
  while (e.kind === 'seq' && e.items.length === 1) e = e.items[0];
  return e;
}
