// A "momentum" whose state stores the raw step instead of the blended one: the update applies
// (1 − β)·X + β·K, K being the state's old value, and then overwrites K with X alone (`raw = -lr * g;
// w += (1 - beta) * raw + beta * self.last; self.last = raw`). K never reads its own old value, so
// it is no recurrence: the update is a two-step average of X and no velocity builds up. A momentum
// buffer is K ← β·K + (1 − β)·X, the value the update applied. Read off the normal form
// (optimizerSteps.ts, `evaluateWithOverwrites`): the parameter's equation, and the writes of K that
// do not read K. Steps that keep the previous gradient on purpose weigh it against the new one
// with the other sign (optimistic 2·g − g_prev, Adams–Bashforth 3/2·g − 1/2·g_prev, Nesterov's
// −μ·v_prev + (1 + μ)·v), which the β, 1 − β pair does not match.
import type { Expr, Span } from '../ir';
import { exprKey } from './keys';
import type { Facts } from './index';
import type { FunctionDef } from './scope';
import { programIndex, spanKey, definedInFile } from './program';
import { statementsOf } from './adaptiveDecay';
import { stmtExprs, subExprs } from './loops';
import { evaluateWithOverwrites, splitSelf, type Equation, type Overwrite } from './optimizerSteps';
import { PolyOverflow, add, atomsOf, constant, mentions, mul, numeric, polyEquals, sub, sym, type Mono, type Poly } from '../../math/poly';

export interface CarriedRawStep {
  /** The parameter's update, which reads the state's old value. */
  param: Equation;
  /** The state, as the code keys it. */
  key: string;
  beta: string;
  /** The raw step the state is overwritten with, as math. */
  x: Poly;
  /** Where the state is overwritten with the raw step, and the target as written. */
  store: Span;
  storeTarget: Span;
  /** The stored value as written, when the statement is a plain assignment. */
  storedValue?: Span;
}

const cache = new WeakMap<Facts, CarriedRawStep[]>();

export function carriedRawSteps(facts: Facts): CarriedRawStep[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  for (const fn of programIndex(facts).functions) {
    if (!definedInFile(facts, fn)) continue;
    if (!mayCarry(fn)) continue;
    const evaluated = evaluateWithOverwrites(facts, fn);
    if (!evaluated) continue;
    for (const [key, writes] of evaluated.overwrites) {
      if (evaluated.equations.has(key)) continue;
      try {
        const hit = blendOf(facts, key, writes, evaluated.equations);
        if (hit) found.push(hit);
      } catch (e) {
        // The products of the comparison can grow past the normal form's bound: that state is left unread.
        if (!(e instanceof PolyOverflow)) throw e;
      }
    }
  }
  cache.set(facts, found);
  return found;
}

/**
 * A cheap look before the evaluation: the function writes an attribute or an entry with `=` after
 * an earlier statement that read the same place as written. Most functions write no such value.
 */
function mayCarry(fn: FunctionDef): boolean {
  // The places read so far, by key.
  const read = new Set<string>();
  const keyOf = (e: Expr): string | undefined => (e.kind === 'attr' || e.kind === 'index' ? exprKey(e) : undefined);
  for (const s of statementsOf(fn.body)) {
    if (s.kind !== 'assign' && s.kind !== 'expr') continue;
    const plain = s.kind === 'assign' && s.op === undefined;
    const target = plain && s.targets.length === 1 ? keyOf(s.targets[0]) : undefined;
    if (target !== undefined && read.has(target)) return true;
    for (const root of stmtExprs(s)) {
      if (plain && s.kind === 'assign' && s.targets.includes(root)) continue;
      for (const e of subExprs(root)) {
        const k = keyOf(e);
        if (k !== undefined) read.add(k);
      }
    }
  }
  return false;
}

/**
 * The parameter update that applies (1 − β)·X + β·K (times any common factor) before K is
 * overwritten with X on every call. K's other writes must come before the update, under an `if`
 * (its start value on the first call); X reads no value the function rewrites from itself.
 */
function blendOf(facts: Facts, key: string, writes: Overwrite[], equations: Map<string, Equation>): CarriedRawStep | undefined {
  const plain = writes.filter((w) => !w.conditional);
  if (plain.length !== 1) return undefined;
  const store = plain[0];
  const x = store.value;
  if (numeric(x) !== undefined || mentions(x, key)) return undefined;
  if (atomsOf(x).some((a) => a.k === 'opaque' || (a.k === 'sym' && equations.has(a.key)))) return undefined;
  for (const param of equations.values()) {
    if (param.branched || param.last >= store.after) continue;
    // K's start value written after the update read K would be read on the next call.
    if (writes.some((w) => w !== store && w.after > param.order)) continue;
    const split = splitSelf(param.value, param.key);
    if (!split || !polyEquals(split.self, constant(1)) || !mentions(split.rest, key) || mentions(x, param.key)) continue;
    const parts = linearIn(split.rest, key);
    if (!parts || parts.rest.length === 0) continue;
    const { coefficient, rest } = parts;
    // R·β = b_K·(1 − β)·X: the old state weighed by β, the raw step by 1 − β, one common factor.
    for (const a of atomsOf(coefficient)) {
      if (a.k !== 'sym' || mentions(x, a.key)) continue;
      const beta = sym(a.key);
      if (!polyEquals(mul(rest, beta), mul(coefficient, mul(sub(constant(1), beta), x)))) continue;
      const stmt = programIndex(facts).stmtBySpan.get(spanKey(store.statement));
      const storedValue = stmt?.kind === 'assign' && stmt.targets.length === 1 ? stmt.value.span : undefined;
      return { param, key, beta: a.key, x, store: store.span, storeTarget: store.target.span, ...(storedValue ? { storedValue } : {}) };
    }
  }
  return undefined;
}

/** p = b·K + R with K's old value a plain factor: b and R; undefined when K enters otherwise. */
function linearIn(p: Poly, key: string): { coefficient: Poly; rest: Poly } | undefined {
  const withKey: Mono[] = [];
  const rest: Mono[] = [];
  for (const m of p) {
    const own = m.fs.find((f) => f.atom.k === 'sym' && f.atom.key === key);
    if (!own) {
      if (mentions([m], key)) return undefined;
      rest.push(m);
      continue;
    }
    if (own.n !== 1) return undefined;
    const others = { c: m.c, fs: m.fs.filter((f) => f !== own) };
    if (mentions([others], key)) return undefined;
    withKey.push(others);
  }
  if (withKey.length === 0) return undefined;
  return { coefficient: add([], withKey), rest: add([], rest) };
}
