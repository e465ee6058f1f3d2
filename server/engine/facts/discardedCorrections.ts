// A bias correction computed as an expression statement whose value is dropped (NB401). `S / (1 -
// β ** t)` on a line of its own changes nothing: S keeps its biased value and the step reads it. It is
// a correction of an optimizer state when, in the same function, S is written from its old value
// weighted by that β (`S *= β`, `S = β * S + …`). Only inside functions: a notebook cell's last
// top-level expression is displayed, not dropped. One pass over each function's statements; no name
// decides anything.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex, definedInFile } from './program';
import { exprKey } from './keys';
import { ROOT_FUNCTIONS } from './catalogue';
import { calleeName } from './direction';
import { unwrap } from './selfBlend';

export interface DiscardedCorrection {
  /** The expression statement. */
  span: Span;
  /** The state as written, and the β of the correction. */
  state: string;
  beta: string;
  /** The write that weights the state by β. */
  write: Span;
}

const cache = new WeakMap<Facts, DiscardedCorrection[]>();

export function discardedCorrections(facts: Facts): DiscardedCorrection[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const fn of programIndex(facts).functions) {
    if (!definedInFile(facts, fn) || fn.body.length === 0) continue;
    const drops: { span: Span; state: string; beta: string }[] = [];
    const writes: { key: string; value: Expr; op?: string; span: Span }[] = [];
    walk(fn.body, drops, writes, 0);
    for (const d of drops) {
      const w = writes.find((x) => x.key === d.state && weightedBy(x, d.state, d.beta));
      if (w) found.push({ span: d.span, state: d.state, beta: d.beta, write: w.span });
    }
  }
  cache.set(facts, found);
  return found;
}

function walk(stmts: readonly Stmt[], drops: { span: Span; state: string; beta: string }[], writes: { key: string; value: Expr; op?: string; span: Span }[], depth: number): void {
  if (depth > 20) return;
  for (const s of stmts) {
    if (s.kind === 'expr') {
      const d = dropped(s.expr);
      if (d) drops.push({ span: s.span, ...d });
    } else if (s.kind === 'assign' && s.targets.length === 1) {
      const key = exprKey(s.targets[0]);
      if (key !== undefined) writes.push({ key, value: s.value, ...(s.op ? { op: s.op } : {}), span: s.span });
    } else if (s.kind === 'for' || s.kind === 'block') walk(s.body, drops, writes, depth + 1);
  }
}


/** `S / (1 - b ** t)` (or `S / (1 - b ** t)` under a root): the state's key and β's key. */
function dropped(e: Expr): { state: string; beta: string } | undefined {
  e = unwrap(e);
  if (e.kind !== 'binary' || e.op !== '/') return undefined;
  const left = unwrap(e.left);
  if (left.kind !== 'name' && left.kind !== 'attr' && left.kind !== 'index') return undefined;
  const state = exprKey(left);
  const beta = correctionBeta(unwrap(e.right));
  return state !== undefined && beta !== undefined ? { state, beta } : undefined;
}

/** `1 - b ** t`, or its root (`np.sqrt(1 - b ** t)`): β's key. */
function correctionBeta(e: Expr): string | undefined {
  if (e.kind === 'call' && e.args.length === 1 && ROOT_FUNCTIONS.has(calleeName(e) ?? '')) return correctionBeta(unwrap(e.args[0]));
  if (e.kind !== 'binary' || e.op !== '-') return undefined;
  const one = unwrap(e.left);
  const power = unwrap(e.right);
  if (one.kind !== 'num' || one.value !== 1 || power.kind !== 'binary' || power.op !== '**') return undefined;
  const b = unwrap(power.left);
  return b.kind === 'num' ? undefined : exprKey(b);
}

/** The write weights the state's old value by β: `S *= b`, or `S = b * S + …` (β a factor of a term that reads S). */
function weightedBy(w: { key: string; value: Expr; op?: string }, state: string, beta: string): boolean {
  if (w.op === '*') return exprKey(unwrap(w.value)) === beta;
  if (w.op) return false;
  const terms: Expr[] = [];
  const sum = (e: Expr): void => {
    e = unwrap(e);
    if (e.kind === 'binary' && (e.op === '+' || e.op === '-')) (sum(e.left), sum(e.right));
    else terms.push(e);
  };
  sum(w.value);
  return terms.some((t) => {
    const factors: Expr[] = [];
    const prod = (e: Expr): void => {
      e = unwrap(e);
      if (e.kind === 'binary' && e.op === '*') (prod(e.left), prod(e.right));
      else factors.push(e);
    };
    prod(t);
    const keys = factors.map((f) => exprKey(f));
    return keys.includes(state) && keys.includes(beta);
  });
}
