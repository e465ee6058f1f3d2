// Keep probabilities given to a dropout's drop rate (NB207): `tf.layers.Dropout(keep_prob)`,
// Keras `Dropout(rate=keep_prob)`, `tf.nn.dropout(x, rate=keep_prob)`, `nn.Dropout(p=keep_prob)`.
// Which argument of which API is the drop rate is catalogue knowledge (dropoutRateParameter); TF1's
// `tf.nn.dropout(x, keep_prob)` takes the keep probability and is never read as a rate.
// The value is a keep probability by data flow first: the same variable in the same function (or
// module code) draws a keep mask (`rand(...) < v`), or is turned into a drop rate elsewhere in that
// function (`1 - v` given to a rate); by its name last (roles.ts, `keep_prob`). Which callees may be a
// framework dropout is catalogue.ts's (`mayNameDropoutApi`), which names read as drop rates roles.ts's. Silent when data flow says it is a drop
// rate (`rand(...) > v` keeps 1 − v), when it resolves to a number below one half (no one keeps
// fewer than half the units on purpose: the author means the drop rate, whatever the name says), or
// when it is bound from a value named as a drop rate (`keep_prob = args.dropout`).
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { dropoutRateParameter, frameworkPath, mayNameDropoutApi } from './catalogue';
import { drawComparison, drawnIn } from './dropoutScales';
import { programIndex, walkAll } from './program';
import { exprKey, lastComponent } from './keys';
import { isDropRateName, isKeepProbabilityName } from './roles';
import { frameworkFacts } from './frameworks';
import type { Scope } from './scope';

export interface KeepProbabilityAsRate {
  call: Expr & { kind: 'call' };
  /** The argument as written (the value, not `rate=`). */
  arg: Expr;
  /** `rate`, `p`. */
  parameter: string;
  /** The API as written (`tf.layers.Dropout`). */
  api: string;
  /** Why it is a keep probability: a keep mask drawn with it, its complement given as a rate, or its name. */
  evidence: { kind: 'mask' | 'complement' | 'name'; span?: Span };
  /** Its value when it resolves to a number. */
  value?: number;
}

const cache = new WeakMap<Facts, KeepProbabilityAsRate[]>();

export function keepProbabilitiesAsRates(facts: Facts): KeepProbabilityAsRate[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

interface RateSite {
  call: Expr & { kind: 'call' };
  arg: Expr;
  parameter: string;
  scope: Scope;
  at: number;
}

/** How each function (by its body) uses probabilities: keys compared with a uniform draw, and on which side. */
interface Uses {
  keepMask: Map<string, Span>;
  dropMask: Set<string>;
}

function collect(facts: Facts): KeepProbabilityAsRate[] {
  const language = facts.language === 'python' ? 'python' : 'script';
  const index = programIndex(facts);
  const sites: RateSite[] = [];
  for (const site of index.calls) {
    const { call } = site;
    if (call.callee.kind !== 'attr' && call.callee.kind !== 'name') continue;
    const last = call.callee.kind === 'attr' ? call.callee.name : call.callee.name;
    if (!mayNameDropoutApi(last)) continue;
    const spec = dropoutRateParameter(frameworkPath(call.callee, site.scope, site.at, facts.scopes.imports, language));
    if (!spec) continue;
    let arg: Expr | undefined;
    if (spec.config) {
      const config = call.args[0];
      arg = config?.kind === 'object' ? config.entries.find((e) => e.name === spec.keyword)?.value : undefined;
    } else {
      arg = call.kwargs.find((k) => k.name === spec.keyword)?.value;
      if (!arg && spec.position !== undefined && call.kwargs.length >= 0) arg = call.args[spec.position];
    }
    if (arg) sites.push({ call, arg, parameter: spec.keyword, scope: site.scope, at: site.at });
  }
  if (sites.length === 0) return [];
  const bodyOf = (s: RateSite): Stmt[] => index.enclosingFunction(s.scope)?.body ?? facts.module.body;
  // Values turned into drop rates by their complement (`Dropout(1 - keep_prob)`) in the same function
  // (or module code): keep probabilities there. Another function's `1 - kp` says nothing of this one's `kp`.
  const complemented = new Map<Stmt[], Map<string, Span>>();
  for (const s of sites) {
    const a = s.arg;
    if (a.kind === 'binary' && a.op === '-' && a.left.kind === 'num' && a.left.value === 1) {
      const key = exprKey(a.right);
      if (key === undefined) continue;
      const body = bodyOf(s);
      let keys = complemented.get(body);
      if (!keys) complemented.set(body, (keys = new Map()));
      if (!keys.has(key)) keys.set(key, a.span);
    }
  }
  const usesOf = new Map<Stmt[], Uses>();
  const out: KeepProbabilityAsRate[] = [];
  for (const s of sites) {
    const held = s.arg.kind === 'index' ? s.arg.object : s.arg;
    if (held.kind !== 'name' && held.kind !== 'attr') continue;
    const key = exprKey(held);
    const name = lastComponent(held);
    if (key === undefined || name === undefined) continue;
    const body = bodyOf(s);
    const complement = complemented.get(body)?.get(key);
    let uses = usesOf.get(body);
    if (!uses) usesOf.set(body, (uses = maskUses(body, (x) => facts.analyzer.isModule(x))));
    if (uses.dropMask.has(key)) continue;
    const evidence: KeepProbabilityAsRate['evidence'] | undefined = uses.keepMask.has(key)
      ? { kind: 'mask', span: uses.keepMask.get(key) }
      : complement
      ? { kind: 'complement', span: complement }
      : isKeepProbabilityName(name)
      ? { kind: 'name' }
      : undefined;
    if (!evidence) continue;
    if (boundFromDropRate(held, s.scope, s.at)) continue;
    const value = s.arg === held ? frameworkFacts(facts).evaluate(held, { scope: s.scope, at: s.at, owner: { id: 0, span: facts.scopes.root.span } }) : undefined;
    if (value !== undefined && (value < 0.5 || value > 1)) continue;
    out.push({ call: s.call, arg: s.arg, parameter: s.parameter, api: facts.source(s.call.callee.span), evidence, value });
  }
  return out;
}

/** `keep_prob = args.dropout`, `keep_prob = drop_rate`: bound from a value its name calls a drop rate. */
function boundFromDropRate(e: Expr, scope: Scope, at: number): boolean {
  const key = exprKey(e);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  if (b?.kind !== 'assign' || !b.value || b.op) return false;
  const v = b.value;
  const name = v.kind === 'name' || v.kind === 'attr' ? lastComponent(v) : v.kind === 'index' && v.index[0]?.kind === 'str' ? v.index[0].value : undefined;
  return name !== undefined && isDropRateName(name);
}

/**
 * Keys compared with a uniform draw in `body` (dropoutScales.ts reads the comparison): `rand(...) < k`
 * keeps with probability k, `rand(...) > k` with 1 − k; `u.less(k)`, `D = rand(n)` then `D < k` alike.
 */
function maskUses(body: Stmt[], isModule: (x: Expr) => boolean): Uses {
  const uses: Uses = { keepMask: new Map(), dropMask: new Set() };
  const isDrawn = drawnIn(body);
  walkAll(body, (e) => {
    const c = drawComparison(e, isModule, isDrawn);
    const key = c ? exprKey(c.p) : undefined;
    if (!c || key === undefined) return;
    if (c.below) {
      if (!uses.keepMask.has(key)) uses.keepMask.set(key, e.span);
    } else uses.dropMask.add(key);
  });
  return uses;
}
