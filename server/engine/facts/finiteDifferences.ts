// Terms of a sum that cancel as a difference of two evaluations of one expression: a finite
// difference `(J(w + h) − J(w)) / h`, `(J(w + h) − J(w − h)) / 2h` of a regularized cost J. With J's
// value expanded into summands, the penalty R appears twice, once with each sign: what reaches the
// gradient is R(w + h) − R(w) (its slope times h), never the value R(w). Read from the math only:
//   - the same written term reached twice (one function's return through two calls), with
//     opposite signs and the same factors around it: J's term at two arguments, subtracted;
//   - or two penalties that are equal (kind, parameters, coefficient) with opposite signs (the
//     caller adds λΣW² to each cost after moving an entry of W in place).
import type { Analyzer, Factor, Summand } from './analysis';
import { equalCoef } from '../../math/coef';

/** The summands of `increment` that a partner of the opposite sign cancels (see the file comment). */
export function differencedSummands(analyzer: Analyzer, source: (span: { start: number; end: number }) => string, increment: readonly Summand[]): Set<Summand> {
  const cancelled = new Set<Summand>();
  if (increment.length < 2) return cancelled;
  const text = (f: Factor): string => source(f.expr.span).replace(/\s+/g, '');
  const factors = (s: Summand): string => [...s.num.map(text).sort(), '/', ...s.den.map(text).sort()].join('|');
  const sameTerm = (a: Summand, b: Summand): boolean => a.site.start === b.site.start && a.site.end === b.site.end && factors(a) === factors(b);
  const penalties = new Map<Summand, ReturnType<Analyzer['penaltyOfSummand']>>();
  const penaltyOf = (s: Summand): ReturnType<Analyzer['penaltyOfSummand']> => {
    if (!penalties.has(s)) penalties.set(s, analyzer.penaltyOfSummand(s));
    return penalties.get(s);
  };
  const keys = (s: Summand): string | undefined => penaltyOf(s)?.params.map((p) => p.key).sort().join(',');
  const equalPenalties = (a: Summand, b: Summand): boolean => {
    const pa = penaltyOf(a);
    const pb = penaltyOf(b);
    if (!pa || !pb || pa.kind !== pb.kind || keys(a) !== keys(b)) return false;
    // The summands' signs differ (checked by the caller); the coefficients may carry them or not.
    return equalCoef(pa.coef, pb.coef) || equalCoef(pa.coef, { ...pb.coef, num: -pb.coef.num });
  };
  for (const [i, a] of increment.entries()) {
    if (cancelled.has(a)) continue;
    for (const b of increment.slice(i + 1)) {
      if (cancelled.has(b) || b.sign === a.sign) continue;
      if (!sameTerm(a, b) && !equalPenalties(a, b)) continue;
      cancelled.add(a);
      cancelled.add(b);
      break;
    }
  }
  return cancelled;
}
