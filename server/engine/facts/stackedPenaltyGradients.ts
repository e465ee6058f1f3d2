// A penalty-gradient term on a stacked matrix whose pieces the loss does not all penalize: the
// bias row stacked under the weights for the backward pass (`augW1 = np.vstack((W1, b1))`), the
// gradient given `reg * augW1`, while the loss adds 0.5·reg·ΣW1² and nothing for b1. The term's
// b1 rows, reg·b1, shrink the bias, which the loss it is checked against does not penalize: the
// gradient is not the loss's.
//
// By data flow: the term multiplies a variable the function assigns once to a join of arrays
// (catalogue.ts `concatenatedPieces`), a gradient site (updates.ts) adds it, its coefficient reads the
// strength of the function's loss penalty on one of the pieces, and another piece, not a zero array, is
// penalized by no loss of the function (nor the join itself). No autodiff in the function.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import type { Coef } from '../../math/terms';
import { exprKey, lastComponent } from './keys';
import type { FunctionDef } from './scope';
import { ownStatements } from './program';
import { lossFacts, type LossPenalty } from './losses';
import { concatenatedPieces, zeroValue } from './catalogue';
import { trainingFacts } from './loops';

export interface StackedPenaltyGradient {
  fn: FunctionDef;
  /** The term as written (`reg * augW1`). */
  span: Span;
  /** The gradient it is added to (`dW1`). */
  target: Expr;
  /** The stacked variable and its join. */
  joined: Expr;
  join: Expr;
  /** The pieces the loss penalizes, and the ones it does not. */
  penalized: Expr[];
  unpenalized: Expr[];
  /** The loss's penalty on a penalized piece. */
  penalty: LossPenalty;
  coef: Coef;
}

const cache = new WeakMap<Facts, StackedPenaltyGradient[]>();

export function stackedPenaltyGradients(facts: Facts): StackedPenaltyGradient[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  cache.set(facts, found);
  const byFn = new Map<FunctionDef, LossPenalty[]>();
  for (const p of lossFacts(facts).penalties) {
    if (!p.site.fn || p.site.autodiff || p.site.penaltyMethod || p.site.sign !== 1 || p.kind !== 'sumsq') continue;
    byFn.set(p.site.fn, [...(byFn.get(p.site.fn) ?? []), p]);
  }
  if (byFn.size === 0) return found;
  const filePenalties = lossFacts(facts).penalties;
  const a = facts.analyzer;
  for (const [fn, penalties] of byFn) {
    if (differentiates(facts, fn)) continue;
    for (const st of ownStatements(fn.body)) {
      // Something added to: `dW += reg * augW`, `dW = X.T @ d + reg * augW` (a gradient, whatever it is called).
      if (st.kind !== 'assign' || st.targets.length !== 1 || !(st.op === '+' || (st.op === undefined && st.value.kind === 'binary' && st.value.op === '+'))) continue;
      const scope = facts.scopes.stmtScopes.get(st) ?? fn.scope;
      const target = st.targets[0];
      for (const s of a.summands(st.value, scope, st.span.start)) {
        // One factor is a local assigned once to a join; the rest a scalar that reads a penalty's strength.
        for (const f of s.num) {
          if (f.expr.kind !== 'name' || f.env) continue;
          const bindings = fn.scope.allBindings(f.expr.name);
          const b = f.scope.lookup(f.expr.name, f.at);
          if (bindings.length !== 1 || b !== bindings[0] || b.kind !== 'assign' || b.op || !b.value) continue;
          const pieces = concatenatedPieces(b.value, (x) => a.isModule(x));
          if (!pieces) continue;
          const rest = a.classifySummand({ ...s, num: s.num.filter((x) => x !== f) });
          if (rest.tensor || rest.penalty || rest.params.length > 0 || rest.abs.length > 0 || rest.signs?.length || rest.coef.num <= 0) continue;
          const strengths = new Set(rest.coef.syms.filter((x) => x.pow > 0).map((x) => x.name));
          if (strengths.size === 0) continue;
          const keyed = penalties.filter((p) => p.coef.syms.some((x) => x.pow > 0 && strengths.has(x.name)));
          if (keyed.length === 0) continue;
          // The penalties on a piece, under any of its names (`W1`, `self.params['W1']`).
          const on = (x: Expr, list: LossPenalty[]): LossPenalty[] => {
            const key = exprKey(x);
            const last = lastComponent(x);
            return list.filter((p) => (key !== undefined && (p.ids.includes(key) || exprKey(p.param.base) === key)) || (last !== undefined && p.ids.includes(last)));
          };
          // The join itself penalized (`np.sum(augW1 * augW1)` reads its pieces): every piece is.
          if (on(f.expr, filePenalties).length > 0) continue;
          const penalized = pieces.filter((x) => on(x, penalties).length > 0);
          // Penalized by no loss of the file.
          const unpenalized = pieces.filter((x) => exprKey(x) !== undefined && !zeroPiece(x) && on(x, filePenalties).length === 0);
          const penalty = penalized.flatMap((x) => on(x, keyed))[0];
          if (penalized.length === 0 || unpenalized.length === 0 || !penalty) continue;
          found.push({ fn, span: s.site, target, joined: f.expr, join: b.value, penalized, unpenalized, penalty, coef: rest.coef });
        }
      }
    }
  }
  return found;
}

/** `np.zeros_like(b1)`, `np.zeros((1, H))`, `0`: a piece with nothing in it. */
function zeroPiece(e: Expr): boolean {
  return zeroValue(e) !== undefined;
}

function differentiates(facts: Facts, fn: FunctionDef): boolean {
  return trainingFacts(facts).diffs.some((d) => d.call.span.start >= fn.span.start && d.call.span.end <= fn.span.end);
}

