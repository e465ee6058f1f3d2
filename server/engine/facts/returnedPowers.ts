// A running β power kept in a state dict that one function creates and the step hands back as a
// new dict (JAX's functional style: `state = opt.init(params)`, `params, state = opt.update(params,
// grads, state)`): the power starts at 1 and the step reads 1 − power before it writes power·β into
// the new state. The first correction is 1 − 1 = 0, and the first step divides by zero. The in-place
// form (`self.b1_t *= beta1` after the correction) is read by optimizerSteps.ts as a running power;
// this one never rewrites the place it reads, so it is matched here by data flow through the dict's
// key: the start value under key k in the function that builds the state, the correction
// `1 - state[k]` and the new state's `state[k] * β` in the step, β the weight of the step's moving
// average (it also appears as `1 - β`).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { FunctionDef } from './scope';
import { exprKey } from './keys';
import { programIndex, definedInFile } from './program';
import { statementsOf } from './adaptiveDecay';
import { stmtExprs, subExprs } from './loops';
import { oneValue } from './catalogue';
import { EPSILON_BOUND, fileEpsilonTest, type EpsilonTest } from './optimizerSteps';

export interface ReturnedPower {
  /** The correction `1 - state[k]`. */
  correction: Span;
  /** `state[k]` as written, and β. */
  power: Span;
  beta: Span;
  /** Where the new state gets `state[k] * β`. */
  advanced: Span;
  /** Where the state is built with k at 1. */
  start: Span;
}

const cache = new WeakMap<Facts, ReturnedPower[]>();

export function returnedPowers(facts: Facts): ReturnedPower[] {
  let found = cache.get(facts);
  if (found) return found;
  found = [];
  const index = programIndex(facts);
  const own = index.functions.filter((fn) => definedInFile(facts, fn) && fn.body.length > 0);
  for (const fn of own) {
    const corrections = powerCorrections(facts, fn);
    if (corrections.length === 0) continue;
    const returned = returnedNames(fn);
    const advances = newStateEntries(fn, returned);
    for (const c of corrections) {
      const adv = advances.find((a) => a.key === c.key && a.state === c.state && a.span.start > c.span.end);
      if (!adv) continue;
      const factors = [adv.value.left, adv.value.right];
      const beta = factors.find((x) => !(x.kind === 'index' && stateEntry(x) !== undefined));
      const betaKey = beta && exprKey(beta);
      if (!beta || betaKey === undefined || betaKey.startsWith(`${c.state}[`) || betaKey === c.state) continue;
      // β weighs a moving average of the step: `(1 - β) * g` is written there.
      if (!complemented(fn, betaKey)) continue;
      // The step writes the power back where it reads it: not this shape (optimizerSteps.ts reads it).
      if (writesEntry(fn, c.state, c.key)) continue;
      const begun = own.filter((g) => g !== fn && sameOwner(g, fn)).map((g) => startedAtOne(g, c.key)).find((s) => s !== undefined);
      if (!begun) continue;
      found.push({ correction: c.span, power: c.power, beta: beta.span, advanced: adv.value.span, start: begun });
    }
  }
  cache.set(facts, found);
  return found;
}

/** `S["k"]` for a name S: S and k. */
function stateEntry(e: Expr): { state: string; key: string } | undefined {
  if (e.kind !== 'index' || e.object.kind !== 'name' || e.index.length !== 1 || e.index[0].kind !== 'str') return undefined;
  return { state: e.object.name, key: e.index[0].value };
}

function isOne(e: Expr): boolean {
  return e.kind === 'num' && e.value === 1;
}

/**
 * `1 - S["k"]` with S an argument of the function (not the instance). One with ε added
 * (`1 - S["k"] + eps`) is ε when the power is 1, not 0: it does not divide by zero.
 */
function powerCorrections(facts: Facts, fn: FunctionDef): { state: string; key: string; span: Span; power: Span }[] {
  const args = new Set(fn.params.filter((p, i) => !(fn.isMethod && i === 0)).map((p) => p.name));
  const out: { state: string; key: string; span: Span; power: Span }[] = [];
  // Every correction found is of an argument's entry: a function without arguments holds none.
  if (args.size === 0) return out;
  let epsilon: EpsilonTest | undefined;
  const isEpsilon = (e: Expr): boolean => {
    if (e.kind === 'num') return e.value > 0 && e.value <= EPSILON_BOUND;
    const key = e.kind === 'name' || e.kind === 'attr' ? exprKey(e) : undefined;
    return key !== undefined && (epsilon ??= fileEpsilonTest(facts, fn))(key);
  };
  // Asked only beside a `1 - S["k"]`: most sums hold none.
  const entryCorrection = (e: Expr): boolean => e.kind === 'binary' && e.op === '-' && isOne(e.left) && stateEntry(e.right) !== undefined;
  for (const s of statementsOf(fn.body))
    for (const root of stmtExprs(s)) {
      const nodes = subExprs(root);
      // The corrections of an argument's entry first: most statements hold none, and then no sum is read for ε.
      const found: { x: Expr; entry: { state: string; key: string } }[] = [];
      // Indexed loops: every node of every statement of every function with arguments passes here.
      for (let i = 0; i < nodes.length; i++) {
        const x = nodes[i];
        if (x.kind !== 'binary' || x.op !== '-' || !isOne(x.left)) continue;
        const entry = stateEntry(x.right);
        if (entry && args.has(entry.state)) found.push({ x, entry });
      }
      if (found.length === 0) continue;
      const withEpsilon = new Set<Expr>();
      for (const x of nodes) {
        if (x.kind !== 'binary' || x.op !== '+') continue;
        if (entryCorrection(x.left) && isEpsilon(x.right)) withEpsilon.add(x.left);
        if (entryCorrection(x.right) && isEpsilon(x.left)) withEpsilon.add(x.right);
      }
      for (const { x, entry } of found) if (!withEpsilon.has(x)) out.push({ ...entry, span: x.span, power: (x as Expr & { kind: 'binary' }).right.span });
    }
  return out;
}

/** Names the function returns, alone or in a tuple. */
function returnedNames(fn: FunctionDef): Set<string> {
  const out = new Set<string>();
  for (const s of statementsOf(fn.body)) {
    if (s.kind !== 'return' || !s.value) continue;
    const items = s.value.kind === 'seq' ? s.value.items : [s.value];
    for (const i of items) if (i.kind === 'name') out.add(i.name);
  }
  return out;
}

type Product = Expr & { kind: 'binary' };

/**
 * Entries of the new state that are an old entry times a factor: `new["k"] = S["k"] * b` with `new`
 * returned, or `"k": S["k"] * b` in a dict literal returned or given to a returned name.
 */
function newStateEntries(fn: FunctionDef, returned: Set<string>): { state: string; key: string; value: Product; span: Span }[] {
  const out: { state: string; key: string; value: Product; span: Span }[] = [];
  const product = (key: string, v: Expr, span: Span): void => {
    if (v.kind !== 'binary' || v.op !== '*') return;
    const entry = stateEntry(v.left) ?? stateEntry(v.right);
    if (entry && entry.key === key) out.push({ state: entry.state, key, value: v, span });
  };
  const literal = (e: Expr, span: Span): void => {
    if (e.kind === 'object') for (const k of e.entries) product(k.name, k.value, span);
  };
  for (const s of statementsOf(fn.body)) {
    if (s.kind === 'return' && s.value) (s.value.kind === 'seq' ? s.value.items : [s.value]).forEach((i) => literal(i, s.span));
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind === 'name' && returned.has(t.name)) literal(s.value, s.span);
    const entry = stateEntry(t);
    if (entry && returned.has(entry.state)) product(entry.key, s.value, s.span);
  }
  return out;
}

/** `1 - β` somewhere in the function. */
function complemented(fn: FunctionDef, beta: string): boolean {
  return statementsOf(fn.body).some((s) => stmtExprs(s).some((r) => subExprs(r).some((x) => x.kind === 'binary' && x.op === '-' && isOne(x.left) && exprKey(x.right) === beta)));
}

/** A write of `S["k"]` itself (`S["k"] *= b`, `S["k"] = …`). */
function writesEntry(fn: FunctionDef, state: string, key: string): boolean {
  return statementsOf(fn.body).some((s) => s.kind === 'assign' && s.targets.some((t) => { const e = stateEntry(t); return e !== undefined && e.state === state && e.key === key; }));
}

/** Methods of one class, or two functions of the module. */
function sameOwner(a: FunctionDef, b: FunctionDef): boolean {
  return a.cls !== undefined ? a.cls === b.cls : b.cls === undefined && !a.isMethod && !b.isMethod;
}

/** The function builds and returns a state with `k` at 1: `return {"k": jnp.ones(())}`, or `st["k"] = 1.0` … `return st`. */
function startedAtOne(fn: FunctionDef, key: string): Span | undefined {
  const returned = returnedNames(fn);
  const fromLiteral = (e: Expr): Span | undefined => (e.kind === 'object' ? e.entries.find((k) => k.name === key && oneValue(k.value))?.value.span : undefined);
  for (const s of statementsOf(fn.body) as Stmt[]) {
    if (s.kind === 'return' && s.value) {
      for (const i of s.value.kind === 'seq' ? s.value.items : [s.value]) {
        const hit = fromLiteral(i);
        if (hit) return hit;
      }
    }
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind === 'name' && returned.has(t.name)) {
      const hit = fromLiteral(s.value);
      if (hit) return hit;
    }
    const entry = stateEntry(t);
    if (entry && entry.key === key && returned.has(entry.state) && oneValue(s.value)) return s.value.span;
  }
  return undefined;
}
