// What the symbols of a coefficient stand for, so coefficients written in different functions can
// be compared: `n` in `update_mini_batch(self, mini_batch, eta, lmbda, n)` is whatever every call in
// the file passes (`len(training_data)`), and `reg = self.reg` is `self.reg`. A symbol that cannot be
// resolved stays as written. Two symbols with the same text are taken to be the same value.
import type { Coef } from '../../math/terms';
import { coef as makeCoef, equalCoef, mul, pow } from '../../math/coef';
import type { Facts } from './index';
import type { Scope } from './scope';
import { programIndex } from './program';

const IDENT = /^[A-Za-z_$][\w$]*$/;
const MAX_DEPTH = 4;

/** The coefficient with each resolvable symbol replaced by what it is bound to. */
export function canonicalCoef(facts: Facts, c: Coef, scope: Scope, at: number, depth = 0): Coef {
  let out = makeCoef(c.num);
  for (const s of c.syms) {
    const resolved = depth < MAX_DEPTH ? resolveSymbol(facts, s.name, scope, at, depth) : undefined;
    out = mul(out, resolved ? pow(resolved, s.pow) : makeCoef(1, [s]));
  }
  return out;
}

function resolveSymbol(facts: Facts, name: string, scope: Scope, at: number, depth: number): Coef | undefined {
  if (!IDENT.test(name)) return undefined;
  const binding = scope.lookup(name, at);
  if (!binding) return undefined;
  if (binding.kind === 'param') {
    const index = programIndex(facts);
    const fn = index.functionOfScope(binding.scope);
    if (!fn) return undefined;
    const position = fn.params.findIndex((p) => p.name === name);
    if (position < 0) return undefined;
    const sites = index.callsTo(fn);
    if (sites.length === 0) return undefined;
    let agreed: Coef | undefined;
    for (const site of sites) {
      const offset = fn.isMethod && fn.params[0]?.name === 'self' && site.call.callee.kind === 'attr' ? 1 : 0;
      const arg = site.call.kwargs.find((k) => k.name === name)?.value ?? site.call.args[position - offset] ?? fn.params[position].default;
      if (!arg || site.call.args.some((a) => a.kind === 'other')) return undefined; // *args, **kwargs
      const p = facts.analyzer.classify(arg, site.scope, site.at);
      if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) return undefined;
      const value = canonicalCoef(facts, p.coef, site.scope, site.at, depth + 1);
      if (agreed && !equalCoef(agreed, value)) return undefined;
      agreed = value;
    }
    return agreed;
  }
  if (binding.kind !== 'assign' || !binding.value || binding.op) return undefined;
  const all = binding.scope.allBindings(name);
  if (all.length !== 1) return undefined;
  const p = facts.analyzer.classify(binding.value, binding.scope, binding.at);
  if (p.tensor || p.penalty || p.params.length > 0 || p.abs.length > 0 || p.signs?.length) return undefined;
  // A scalar bound to itself (`lam = lam`) or to its own source text resolves to nothing new.
  if (p.coef.syms.length === 1 && p.coef.syms[0].name === name && p.coef.num === 1) return undefined;
  return canonicalCoef(facts, p.coef, binding.scope, binding.at, depth + 1);
}
