// A learning-rate decay written `1 / 1 + d * t` (NB408): division binds tighter than `+`, so the
// factor is 1 + d·t and the rate grows with t where 1 / (1 + d·t) (time-based decay) was meant.
// Nobody divides by the literal 1 on purpose, but a sum of fractions can start with 1/1
// (`(1 / 1 + 2 / 3) / 2`), so the sum counts only where it sets a learning rate: a value assigned
// to one (`lr = …`, `self.lr *= …`, `group['lr'] = …`), a learning-rate keyword argument
// (`SGD(…, lr=…)`), or the step of an update site. And its other term must vary (read a name).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { lastComponent } from './keys';
import { isLearningRateName } from './roles';
import { namesIn, someExpr } from './scope';
import { overlapsAny } from './spans';

export interface GrowingDecay {
  /** The whole sum `X / 1 + Y`. */
  span: Span;
  /** `X`, the numerator, and `1`, the literal written as the denominator. */
  numerator: Expr;
  one: Expr;
  /** `Y`, the term meant to be under the division. */
  rest: Expr;
  /** What the sum sets, for a message: `lr`, `the lr argument`, `the step size of W's update`. */
  sets: string;
}

const cache = new WeakMap<Facts, GrowingDecay[]>();

export function growingDecays(facts: Facts): GrowingDecay[] {
  let out = cache.get(facts);
  if (!out) cache.set(facts, (out = find(facts)));
  return out;
}

/** `/ 1 +` (or `/ 1.0 +`) somewhere in the text: without it no sum of the slip can be written. */
const DIVIDED_BY_ONE_THEN_ADDED = /\/\s*1(?:\.0*)?\s*\+/;

function find(facts: Facts): GrowingDecay[] {
  // Most files divide nothing by a literal 1: one scan of the text spares the walk.
  if (!DIVIDED_BY_ONE_THEN_ADDED.test(facts.text)) return [];
  const out: GrowingDecay[] = [];
  const seen = new Set<number>();
  const look = (root: Expr, sets: string): void => {
    someExpr(root, (e) => {
      const hit = slip(e);
      if (hit && !seen.has(e.span.start)) {
        seen.add(e.span.start);
        out.push({ span: e.span, ...hit, sets });
      }
      return false;
    });
  };
  const inUpdate = overlapsAny(facts.updates.map((u) => u.span));
  const visit = (stmts: readonly Stmt[], depth: number): void => {
    if (depth > 60) return;
    for (const s of stmts) {
      if (s.kind === 'assign') {
        const lr = s.targets.find((t) => isLearningRateName(lastComponent(t) ?? ''));
        if (lr) look(s.value, facts.source(lr.span));
        else if (s.targets[0] && inUpdate(s.span)) look(s.value, `the step size of ${facts.source(s.targets[0].span)}'s update`);
      }
      // `SGD(params, lr=lr0 / 1 + d * epoch)`
      const roots = s.kind === 'assign' ? [s.value] : s.kind === 'expr' ? [s.expr] : s.kind === 'return' && s.value ? [s.value] : [];
      for (const root of roots)
        someExpr(root, (e) => {
          if (e.kind === 'call') for (const k of e.kwargs) if (isLearningRateName(k.name)) look(k.value, `the ${k.name} argument`);
          // A JS arrow function or function expression with a statement body.
          if (e.kind === 'lambda' && e.stmts.length > 0) visit(e.stmts, depth + 1);
          return false;
        });
      if (s.kind === 'function' || s.kind === 'class' || s.kind === 'for' || s.kind === 'block') visit(s.body, depth + 1);
    }
  };
  visit(facts.module.body, 0);
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** `X / 1 + Y` with Y reading a name: the parts, or undefined. */
function slip(e: Expr): Omit<GrowingDecay, 'span' | 'sets'> | undefined {
  if (e.kind !== 'binary' || e.op !== '+') return undefined;
  const div = e.left;
  if (div.kind !== 'binary' || div.op !== '/' || div.right.kind !== 'num' || div.right.value !== 1) return undefined;
  if (namesIn(e.right).length === 0) return undefined;
  return { numerator: div.left, one: div.right, rest: e.right };
}
