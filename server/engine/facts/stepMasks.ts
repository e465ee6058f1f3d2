// 0/1 masks that multiply a whole step: `W -= (dW + lam * W) * drop_mask`, where `drop_mask` is 1 or
// an item of a list of dropout masks (`(np.random.sample(w.shape) >= p).astype(int)`, the last layer's
// `np.ones(...)`). On the entries the mask keeps, the step is the bracket as written, so a term of
// the bracket is still the penalty's gradient there (with its factor and sign); on the others
// nothing moves. Read by data flow: every value that reaches the mask is a comparison (cast or not),
// a 0 or 1, or an array of ones; no name decides.
import type { Expr } from '../ir';
import { COMPARISON_OPERATORS } from '../ir';
import type { Facts } from './index';
import type { Factor, Summand } from './analysis';
import { numberOf } from './analysis';
import type { Binding, Scope } from './scope';
import { exprKey } from './keys';
import { CAST_METHODS, nonzeroFill } from './catalogue';

const MAX_HOPS = 4;

/** The summand without the masks that multiply the whole step it is in; undefined when it has none. */
export function withoutStepMasks(facts: Facts, s: Summand): Summand | undefined {
  const num = s.num.filter((f) => !isStepMask(facts, f));
  return num.length === s.num.length || num.length === 0 ? undefined : { ...s, num };
}

/** A factor distributed over the whole step from outside the summand, whose every value is 0/1. */
function isStepMask(facts: Facts, f: Factor): boolean {
  return f.outer === true && !f.env && zeroOne(f.expr, f.scope, 0);
}

function zeroOne(e: Expr, scope: Scope, hops: number): boolean {
  if (hops > MAX_HOPS) return false;
  const n = numberOf(e);
  if (n !== undefined) return n === 0 || n === 1;
  if (e.kind === 'other') return !!e.ops && e.ops.length === 1 && COMPARISON_OPERATORS.has(e.ops[0]) && e.children.length === 2;
  if (e.kind === 'call') {
    if (nonzeroFill(e) === 1 && e.callee.kind === 'attr') return true;
    // `(x >= p).astype(int)`: a cast keeps the 0/1.
    return e.callee.kind === 'attr' && CAST_METHODS.has(e.callee.name) && zeroOne(e.callee.object, scope, hops + 1);
  }
  if (e.kind === 'name' || (e.kind === 'attr' && e.object.kind === 'name')) return everyValue(scope, exprKey(e), hops, (v, s) => zeroOne(v, s, hops + 1));
  // An item of a list whose every item is a mask (`self.masks[i]`: a comprehension of masks, items set to masks).
  if (e.kind === 'index' && (e.object.kind === 'name' || (e.object.kind === 'attr' && e.object.object.kind === 'name'))) {
    const key = exprKey(e.object);
    if (key === undefined) return false;
    const whole = everyValue(scope, key, hops, (v, s) => (v.kind === 'comprehension' ? zeroOne(v.element, s, hops + 1) : v.kind === 'seq' ? v.items.length > 0 && v.items.every((i) => zeroOne(i, s, hops + 1)) : false));
    if (!whole) return false;
    const items = bindingsOf(scope, `${key}[?]`);
    return items.every((b) => b.kind === 'assign' && !b.op && b.value !== undefined && zeroOne(b.value, b.scope, hops + 1));
  }
  return false;
}

/** Every binding of the key (plain assignments only), at least one, satisfies the test. */
function everyValue(scope: Scope, key: string | undefined, hops: number, test: (value: Expr, scope: Scope) => boolean): boolean {
  if (key === undefined || hops > MAX_HOPS) return false;
  const all = bindingsOf(scope, key);
  return all.length > 0 && all.every((b) => b.kind === 'assign' && !b.op && b.value !== undefined && test(b.value, b.scope));
}

function bindingsOf(scope: Scope, key: string): Binding[] {
  if (/^(self|this)\./.test(key)) {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const cls = s.kind === 'class' ? s : s.classScope;
      if (cls) return cls.members.get(key) ?? [];
    }
    return [];
  }
  return scope.allBindings(key);
}
