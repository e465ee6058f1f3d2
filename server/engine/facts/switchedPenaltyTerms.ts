// Penalty-gradient terms a step takes from a helper that switches on a field of its object, read one
// value of the field at a time, with the penalties the loss adds for that same value.
//
// `self.W[i] -= lr * (grads[i] + self.reg_grad(W))`, where `reg_grad` returns `lam * np.sign(w)`
// when `self.reg_type == "l1"` and `lam * w / 2` when it is `"l2"`, and the loss adds
// `self.reg_loss()`, switched on the same field (`lam * Σ|w|` / `lam * Σw²`): with no value assumed,
// the helpers' returns disagree and neither side is known. The field holds one value for the run, so
// for each value a helper tests, the term the step takes and the penalties the loss adds are read as
// if the field held it (analysis.ts `underAssumption`; switchedHelpers.ts); a loss or a step written
// inside a branch that tests the field for another value is not there for that value.
//
// Only summands of steps that call such a helper and that the plain reading leaves without a term
// are read again: most files have none, and then nothing is collected twice.
import type { Facts } from './index';
import type { Expr, Span, Stmt } from '../ir';
import type { UpdateSite } from './updates';
import { someExpr, type Scope } from './scope';
import { classifyTerm, maskedStepTerm, regGradientTerms, scaledSelfSites, type RegGradientTerm } from './gradients';
import { freshLossFacts, lossFacts, penaltiesFor, type LossPenalty } from './losses';
import { programIndex, spanKey } from './program';
import { fieldTest, switchOf, type Assumption } from './switchedHelpers';

export interface SwitchedTerm {
  term: RegGradientTerm;
  /** The penalties on the term's weight that the losses add with the same value assumed. */
  penalties: LossPenalty[];
  assumed: Assumption;
}

const memo = new WeakMap<Facts, SwitchedTerm[]>();

export function switchedPenaltyTerms(facts: Facts): SwitchedTerm[] {
  let found = memo.get(facts);
  if (found) return found;
  found = [];
  memo.set(facts, found);
  const a = facts.analyzer;
  const losses = new Map<string, LossPenalty[]>();
  const penaltiesUnder = (assumed: Assumption): LossPenalty[] => {
    const modeKey = `${assumed.key}=${assumed.value}`;
    let live = losses.get(modeKey);
    if (!live) {
      const all = a.underAssumption(assumed, () => freshLossFacts(facts).penalties);
      live = all.filter((p) => !deadUnder(facts, p.site.span, p.site, assumed));
      losses.set(modeKey, live);
    }
    return live;
  };
  const terms = regGradientTerms(facts);
  const known = new Set(terms.map((t) => spanKey(t.span)));
  for (const site of [...facts.updates, ...scaledSelfSites(facts)]) {
    for (const s of site.increment) {
      if (known.has(spanKey(s.site))) continue;
      for (const assumed of assumptionsOf(facts, s.num.concat(s.den))) {
        if (deadUnder(facts, site.span, site, assumed)) continue;
        const term = a.underAssumption(assumed, () => classifyTerm(facts, site, s) ?? maskedStepTerm(facts, site, s));
        if (!term || !term.param || term.foreign || !term.coef) continue;
        found.push({ term, penalties: penaltiesFor(facts, term.ids, site.scope, penaltiesUnder(assumed)), assumed });
      }
    }
  }
  // A term read plainly that meets no penalty, where a loss calls a switched helper (the penalty is in its branches).
  if (terms.length === 0) return found;
  const switchedLosses = assumptionsOf(facts, lossFacts(facts).sites);
  if (switchedLosses.length === 0) return found;
  for (const term of terms) {
    if (!term.param || term.foreign || !term.coef || penaltiesFor(facts, term.ids, term.site.scope).length > 0) continue;
    for (const assumed of switchedLosses) {
      if (deadUnder(facts, term.site.span, term.site, assumed)) continue;
      found.push({ term, penalties: penaltiesFor(facts, term.ids, term.site.scope, penaltiesUnder(assumed)), assumed });
    }
  }
  return found;
}

/** The values to assume: those tested by a switched helper that one of the expressions (a summand's factors, a loss) calls. */
function assumptionsOf(facts: Facts, places: readonly { expr: Expr; scope: Scope; at: number }[]): Assumption[] {
  const out: Assumption[] = [];
  const seen = new Set<string>();
  for (const f of places) {
    someExpr(f.expr, (e) => {
      if (e.kind !== 'call') return false;
      const target = facts.analyzer.callTarget(e, f.scope, f.at);
      const sw = target && !target.constructs ? switchOf(facts.program, target.fn) : undefined;
      for (const value of sw?.branches.keys() ?? []) {
        const key = `${sw!.key}=${value}`;
        if (!seen.has(key)) out.push({ key: sw!.key, value });
        seen.add(key);
      }
      return false;
    });
  }
  return out;
}

/** Is the place inside a branch of its function that tests the assumed field for another value? */
function deadUnder(facts: Facts, span: Span, where: { scope: UpdateSite['scope'] }, assumed: Assumption): boolean {
  const fn = programIndex(facts).enclosingFunction(where.scope);
  const body = fn ? fn.body : facts.module.body;
  const overlaps = (s: Span): boolean => s.end > span.start && s.start < span.end;
  const visit = (stmts: Stmt[]): boolean => {
    for (const st of stmts) {
      if (st.span.start >= span.end) return false;
      // An `if` statement's span covers its `elif`s, which are blocks of their own: look in its body only.
      if ((st.kind !== 'block' && st.kind !== 'for') || !st.body.some((b) => overlaps(b.span))) {
        if (overlaps(st.span) && st.kind !== 'block' && st.kind !== 'for') return false;
        continue;
      }
      if (st.kind === 'block') {
        const test = st.label === 'if' && st.heads.length === 1 ? fieldTest(st.heads[0]) : undefined;
        if (test && test.key === assumed.key && test.value !== assumed.value) return true;
      }
      return visit(st.body);
    }
    return false;
  };
  return visit(body);
}
