// A gradient defined in every branch of an `if … elif … else` chain that only some branches give
// the penalty's gradient term. A from-scratch network's backward loop writes one branch per layer
// kind (the output layer, a dropout layer, a batch-norm layer, a plain one), each defining the
// weight's gradient from its own backward helper, and adds `reg * W` after the helper in each; a
// branch that forgets it trains that layer kind without the penalty the loss adds for every layer.
//
// Decided by data flow: the other branches' term is a penalty gradient of W that the loss's penalty
// on W matches; the loss adds that penalty outside every `if` of its function (it holds whichever
// branch runs); the branch defines the same gradient (the same key) and adds no term of any kind for
// it; no condition of the chain reads the strength (`if reg > 0:` is a switch, not a slip); and no
// call in the branch is handed the strength (a helper that adds the term itself).
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { ifChainAt, someExpr } from './scope';
import { programIndex } from './program';
import { regGradientTerms, type RegGradientTerm } from './gradients';
import { penaltiesFor, type LossPenalty } from './losses';
import { computedIndexKey } from './optimizerSteps';

export interface BranchWithoutTerm {
  /** The statement of the branch that defines the gradient without the term. */
  definition: Stmt;
  /** The gradient as written there. */
  target: Expr;
  /** A term another branch of the chain adds for the same gradient. */
  term: RegGradientTerm;
  /** The loss's penalty the term matches. */
  penalty: LossPenalty;
}

const cache = new WeakMap<Facts, BranchWithoutTerm[]>();

export function branchesWithoutTerm(facts: Facts): BranchWithoutTerm[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  cache.set(facts, found);
  const index = programIndex(facts);
  const keyOf = (e: Expr): string | undefined => {
    const k = exprKey(e);
    return k !== undefined && k.includes('?') ? (computedIndexKey(facts, e, exprKey) ?? k) : k;
  };
  // Every term by the gradient it is added to, for "does this branch add one".
  const terms = regGradientTerms(facts);
  const termsOf = new Map<string, RegGradientTerm[]>();
  for (const t of terms) {
    const k = keyOf(t.site.target);
    if (k !== undefined) termsOf.set(k, [...(termsOf.get(k) ?? []), t]);
  }
  const reported = new Set<Stmt>();
  for (const t of terms) {
    if (t.kind !== 'linear' || !t.param || !t.coef || t.coef.num <= 0 || t.foreign || t.preconditioned || t.selfScale) continue;
    if (t.site.kind === 'update' || t.site.penaltyGradientOf || t.summand.via.length > 0) continue;
    const key = keyOf(t.site.target);
    const fn = index.enclosingFunction(t.site.scope);
    if (key === undefined || !fn) continue;
    const penalties = penaltiesFor(facts, t.ids, t.site.scope);
    const penalty = penalties[0];
    if (!penalty || penalties.some((p) => p.site.autodiff || p.kind !== 'sumsq' || !p.site.fn || insideIf(p.site.fn.body, p.site.span.start))) continue;
    const place = innermostBranch(fn.body, t.span.start);
    if (!place) continue;
    const strength = new Set(t.coef.syms.map((s) => s.name.split('.').pop()!));
    const readsStrength = (e: Expr): boolean => someExpr(e, (x) => (x.kind === 'name' && strength.has(x.name)) || (x.kind === 'attr' && strength.has(x.name)));
    if (place.chain.some((b) => b.heads.some(readsStrength))) continue;
    for (const other of place.chain) {
      if (other === place.branch) continue;
      const definition = other.body.find((s) => s.kind === 'assign' && !s.op && s.targets.some((x) => definesKey(x, key, keyOf)));
      if (!definition || reported.has(definition)) continue;
      if ((termsOf.get(key) ?? []).some((u) => bodyHolds(other, u.span.start))) continue;
      if (other.body.some((s) => stmtHandsStrength(s, readsStrength))) continue;
      reported.add(definition);
      const target = targetWithKey(definition, key, keyOf) ?? t.site.target;
      found.push({ definition, target, term: t, penalty });
    }
  }
  return found;
}

/** Whether `x` (an assignment target, a tuple's item) is the gradient keyed `key`. */
function definesKey(x: Expr, key: string, keyOf: (e: Expr) => string | undefined): boolean {
  if (x.kind === 'seq') return x.items.some((i) => definesKey(i, key, keyOf));
  return keyOf(x) === key;
}

function targetWithKey(s: Stmt, key: string, keyOf: (e: Expr) => string | undefined): Expr | undefined {
  if (s.kind !== 'assign') return undefined;
  const visit = (x: Expr): Expr | undefined => (x.kind === 'seq' ? x.items.map(visit).find((y) => y !== undefined) : keyOf(x) === key ? x : undefined);
  for (const t of s.targets) {
    const found = visit(t);
    if (found) return found;
  }
  return undefined;
}

/** Whether a call in the statement is handed the strength (a helper that may add the term itself). */
function stmtHandsStrength(s: Stmt, readsStrength: (e: Expr) => boolean): boolean {
  const exprs: Expr[] = s.kind === 'assign' ? [s.value] : s.kind === 'expr' ? [s.expr] : s.kind === 'return' && s.value ? [s.value] : [];
  if (s.kind === 'block' || s.kind === 'for') return [...s.body].some((b) => stmtHandsStrength(b, readsStrength));
  return exprs.some((e) => someExpr(e, (x) => x.kind === 'call' && [...x.args, ...x.kwargs.map((k) => k.value)].some(readsStrength)));
}

/** The innermost `if` chain whose branch holds `offset`: the chain's blocks and that branch. */
function innermostBranch(body: Stmt[], offset: number): { chain: (Stmt & { kind: 'block' })[]; branch: Stmt & { kind: 'block' } } | undefined {
  let found: { chain: (Stmt & { kind: 'block' })[]; branch: Stmt & { kind: 'block' } } | undefined;
  const visit = (stmts: Stmt[], depth: number): void => {
    if (depth > 50) return;
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i];
      if (s.span.start > offset || offset > s.span.end) continue;
      if (s.kind === 'block' && s.label === 'if' && !isContinuation(stmts, i)) {
        const chain = ifChainAt(stmts, i);
        const branch = [...chain].reverse().find((b) => bodyHolds(b, offset));
        if (branch) found = { chain, branch };
      }
      if (s.kind === 'block' || s.kind === 'for') visit(s.body, depth + 1);
    }
  };
  visit(body, 0);
  return found;
}

/** An `elif`/`else` block: a sibling `if` block before it spans it. */
function isContinuation(stmts: Stmt[], i: number): boolean {
  const s = stmts[i];
  for (let j = i - 1; j >= 0; j--) {
    const p = stmts[j];
    if (p.kind !== 'block' || p.label !== 'if') return false;
    if (p.span.start < s.span.start && s.span.end <= p.span.end) return true;
  }
  return false;
}

function bodyHolds(b: Stmt & { kind: 'block' }, offset: number): boolean {
  const first = b.body[0];
  const last = b.body[b.body.length - 1];
  return !!first && first.span.start <= offset && offset <= last.span.end;
}

/** Whether `offset` lies in a branch of an `if` among the statements (its function's body). */
function insideIf(body: Stmt[], offset: number): boolean {
  const visit = (stmts: Stmt[], depth: number): boolean =>
    depth <= 50 &&
    stmts.some((s) => s.span.start <= offset && offset <= s.span.end && ((s.kind === 'block' && s.label === 'if') || ((s.kind === 'for' || s.kind === 'block') && visit(s.body, depth + 1))));
  return visit(body, 0);
}
