// Closed-form ridge (Tikhonov) fits whose ridge term is subtracted: (XᵀX − λI)⁻¹Xᵀy, or
// solve(XᵀX − λI, Xᵀy). Adding λI to the Gram matrix is what shrinks the solution toward zero;
// subtracting it pulls the solution away from zero, and once λ passes an eigenvalue of XᵀX the
// matrix is indefinite or singular. Read by structure, with no names: a matrix a solve or an inverse
// is given (through locals), written as a Gram matrix X·Xᵀ or Xᵀ·X of one matrix X plus a scalar
// times an identity with a negative sign, in a statement that also uses X outside that matrix (a
// least-squares fit's right side, Xᵀy, or the inverse applied to X). NB102 reports them.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { Scope } from './scope';
import { someExpr } from './scope';
import { exprKey } from './keys';
import { MATRIX_PRODUCT_METHODS, TRANSPOSE_MEMBERS, frameworkPath, isIdentityMatrixPath, isMatrixProductPath, isMatrixSolvePath, isTransposePath } from './catalogue';

export interface AntiRidgeSolve {
  /** The subtracted term, `lam * np.eye(n)` (with its minus sign when it carries one). */
  term: Span;
  /** The scalar the identity is scaled by, as written (`lam`, `ridge`). */
  strength: Expr;
  /** The matrix of the Gram product, `X` in `X.T @ X`. */
  design: Expr;
  /** The solve or inverse call. */
  solve: Expr & { kind: 'call' };
  /** Whether the Gram product is X·Xᵀ (rows as examples' features transposed) rather than Xᵀ·X. */
  outer: boolean;
}

const cache = new WeakMap<Facts, AntiRidgeSolve[]>();
/** Locals followed from the solve's argument to the matrix's definition. */
const MAX_HOPS = 4;

export function antiRidgeSolves(facts: Facts): AntiRidgeSolve[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  if (facts.language === 'python') {
    const visit = (stmts: Stmt[]): void => {
      for (const st of stmts) {
        if (st.kind === 'function' || st.kind === 'class' || st.kind === 'block' || st.kind === 'for') visit(st.body);
        const roots = st.kind === 'assign' ? [st.value] : st.kind === 'expr' ? [st.expr] : st.kind === 'return' && st.value ? [st.value] : [];
        const scope = facts.scopes.stmtScopes.get(st) ?? facts.scopes.root;
        for (const root of roots) {
          someExpr(root, (e) => {
            if (e.kind === 'call' && e.args.length > 0) {
              const hit = antiRidge(facts, e, root, scope, st.span.start);
              if (hit) found!.push(hit);
            }
            return false;
          });
        }
      }
    };
    visit(facts.module.body);
  }
  cache.set(facts, found);
  return found;
}

function pathOf(facts: Facts, callee: Expr, scope: Scope, at: number): string[] | undefined {
  return frameworkPath(callee, scope, at, facts.scopes.imports, 'python');
}

function antiRidge(facts: Facts, call: Expr & { kind: 'call' }, statement: Expr, scope: Scope, at: number): AntiRidgeSolve | undefined {
  if (!isMatrixSolvePath(pathOf(facts, call.callee, scope, at))) return undefined;
  const matrix = definition(facts, call.args[0], scope, at);
  const terms = signedTerms(matrix.expr, 1);
  let design: { expr: Expr; outer: boolean } | undefined;
  let ridge: { term: Expr; strength: Expr; sign: number } | undefined;
  for (const t of terms) {
    const gram = gramOf(facts, definition(facts, t.expr, matrix.scope, matrix.at));
    if (gram && t.sign > 0) design ??= gram;
    const scaled = scaledIdentity(facts, t.expr, matrix.scope, matrix.at);
    if (scaled) ridge ??= { term: t.expr, strength: scaled.strength, sign: t.sign * scaled.sign };
  }
  if (!design || !ridge || ridge.sign > 0 || terms.length !== 2) return undefined;
  // A least-squares fit uses X again: its right side Xᵀy, or the inverse applied to X.
  const key = exprKey(design.expr);
  const inMatrix = (e: Expr): boolean => e.span.start >= call.args[0].span.start && e.span.end <= call.args[0].span.end;
  const usesDesign = someExpr(statement, (e) => !inMatrix(e) && exprKey(e) === key);
  if (!usesDesign) return undefined;
  return { term: ridge.term.span, strength: ridge.strength, design: design.expr, solve: call, outer: design.outer };
}

/** A name's single plain assignment, followed a few hops (`A = X.T @ X + lam * I`, then `inv(A)`). */
function definition(facts: Facts, e: Expr, scope: Scope, at: number, hops = 0): { expr: Expr; scope: Scope; at: number } {
  if (hops >= MAX_HOPS || e.kind !== 'name') return { expr: e, scope, at };
  const b = scope.lookup(e.name, at);
  if (!b || b.kind !== 'assign' || b.op || !b.value || b.loops.length > 0 || b.scope.allBindings(b.key).length > 1) return { expr: e, scope, at };
  return definition(facts, b.value, b.scope, b.at, hops + 1);
}

/** The summands of a sum or difference (through unary minus), with their signs. */
function signedTerms(e: Expr, sign: number): { expr: Expr; sign: number }[] {
  if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) return [...signedTerms(e.left, sign), ...signedTerms(e.right, e.op === '-' ? -sign : sign)];
  if (e.kind === 'unary' && e.op === '-') return signedTerms(e.arg, -sign);
  return [{ expr: e, sign }];
}

/** `X.T @ X`, `X @ X.T`, `np.dot(X.T, X)`, `X.T.dot(X)`: the matrix X, and whether it is X·Xᵀ. */
function gramOf(facts: Facts, d: { expr: Expr; scope: Scope; at: number }): { expr: Expr; outer: boolean } | undefined {
  const e = d.expr;
  let left: Expr | undefined;
  let right: Expr | undefined;
  if (e.kind === 'binary' && e.op === '@') [left, right] = [e.left, e.right];
  else if (e.kind === 'call' && e.args.length === 2 && isMatrixProductPath(pathOf(facts, e.callee, d.scope, d.at))) [left, right] = e.args;
  else if (e.kind === 'call' && e.args.length === 1 && e.callee.kind === 'attr' && MATRIX_PRODUCT_METHODS.has(e.callee.name)) [left, right] = [e.callee.object, e.args[0]];
  if (!left || !right) return undefined;
  const lt = transposed(facts, left, d.scope, d.at);
  const rt = transposed(facts, right, d.scope, d.at);
  const same = (a: Expr, b: Expr): boolean => exprKey(a) !== undefined && exprKey(a) === exprKey(b);
  if (lt && !rt && same(lt, right)) return { expr: right, outer: false };
  if (rt && !lt && same(rt, left)) return { expr: left, outer: true };
  return undefined;
}

/** The matrix a transpose is of: `X.T`, `X.transpose()`, `X.t()`, `np.transpose(X)`. */
function transposed(facts: Facts, e: Expr, scope: Scope, at: number): Expr | undefined {
  if (e.kind === 'attr' && TRANSPOSE_MEMBERS.has(e.name)) return e.object;
  if (e.kind === 'call' && e.args.length === 0 && e.callee.kind === 'attr' && TRANSPOSE_MEMBERS.has(e.callee.name)) return e.callee.object;
  if (e.kind === 'call' && e.args.length === 1 && isTransposePath(pathOf(facts, e.callee, scope, at))) return e.args[0];
  return undefined;
}

/**
 * `lam * np.eye(n)`, `np.identity(n) * -ridge`, `lam * I` with `I = np.eye(n)`: the scalar and the
 * sign it carries (a unary minus or a negative number among the factors). Undefined when another
 * factor is not a scalar the code shows (a matrix, a call).
 */
function scaledIdentity(facts: Facts, e: Expr, scope: Scope, at: number): { strength: Expr; sign: number } | undefined {
  const factors: Expr[] = [];
  let sign = 1;
  const collect = (x: Expr): void => {
    if (x.kind === 'binary' && x.op === '*') {
      collect(x.left);
      collect(x.right);
    } else if (x.kind === 'unary' && x.op === '-') {
      sign = -sign;
      collect(x.arg);
    } else factors.push(x);
  };
  collect(e);
  const isIdentity = (x: Expr): boolean => {
    const d = definition(facts, x, scope, at);
    return d.expr.kind === 'call' && isIdentityMatrixPath(pathOf(facts, d.expr.callee, d.scope, d.at));
  };
  const identities = factors.filter(isIdentity);
  const scalars = factors.filter((x) => !identities.includes(x));
  if (identities.length !== 1 || scalars.length !== 1) return undefined;
  const s = scalars[0];
  if (s.kind === 'num') return s.value > 0 ? { strength: s, sign } : undefined;
  return s.kind === 'name' || s.kind === 'attr' ? { strength: s, sign } : undefined;
}
