// A Keras regularizer's L2 strength as the call that builds the trained model sets it (NB201):
// `def build(n, reg): ... Dense(..., kernel_regularizer=l2(reg))` then `model = build(784, reg=0.0)`
// compiled with a decaying optimizer. The strength is a parameter of the builder the regularizer is
// written in; the model's own construction (the binding of the compiled model, or the call itself) is a
// call of that builder, and its argument (or the parameter's default) is evaluated where it is written.
// Anything else (a helper one call further, a spread `build(**cfg)`, a value computed at run time) is
// unknown and left to the callers' usual judgement.
import type { Expr, Span } from '../ir';
import type { Facts } from './index';
import { programIndex } from './program';
import { explicitParams, type Scope } from './scope';
import { resolveCall } from './resolve';
import { frameworkFacts, type RegularizerFact } from './frameworks';

/**
 * The L2 strength `reg` gets at the construction of the model `model` (read at `scope`/`at` in `facts`'s
 * file), when its factor is a parameter of the builder that construction calls; undefined when not known.
 */
export function l2AtModelBuild(facts: Facts, reg: RegularizerFact, regSpan: Span, model: Expr, scope: Scope, at: number): number | undefined {
  const factor = reg.l2;
  if (!factor.given || !factor.expr || factor.expr.kind !== 'name') return undefined;
  const call = modelConstruction(model, scope, at);
  if (!call) return undefined;
  const program = facts.program;
  const parsed = program.parsedOf(regSpan);
  if (!parsed) return undefined;
  const regFacts = program.facts(parsed);
  const name = factor.expr.name;
  const b = reg.ctx.scope.lookup(name, reg.ctx.at);
  if (!b || b.kind !== 'param') return undefined;
  const builder = programIndex(regFacts).enclosingFunction(b.scope);
  if (!builder || builder.scope !== b.scope) return undefined;
  const target = resolveCall(program, call.call, call.scope, call.at);
  if (!target || target.constructs || target.fn !== builder) return undefined;
  const params = explicitParams(builder);
  const i = params.findIndex((p) => p.name === name && !p.rest);
  if (i < 0) return undefined;
  // `build(**cfg)`, `build(*args)`: what the parameter gets is not written here.
  if (call.call.args.some((a) => a.kind === 'other' && a.spread)) return undefined;
  const arg = call.call.kwargs.find((k) => k.name === params[i].name)?.value ?? call.call.args[i];
  const scale = (v: number | undefined) => (v === undefined ? undefined : v * factor.scale);
  if (arg) return scale(frameworkFacts(facts).evaluate(arg, { scope: call.scope, at: call.at, owner: { id: -1, span: call.call.span } }));
  const def = params[i].default;
  return def ? scale(frameworkFacts(regFacts).evaluate(def, { scope: builder.scope.parent ?? builder.scope, at: builder.span.start, owner: { id: -1, span: builder.span } })) : undefined;
}

/** The call a model expression is built by: the call itself, or the value of the plain assignment it reads. */
function modelConstruction(model: Expr, scope: Scope, at: number): { call: Expr & { kind: 'call' }; scope: Scope; at: number } | undefined {
  if (model.kind === 'call') return { call: model, scope, at };
  if (model.kind !== 'name') return undefined;
  const b = scope.lookup(model.name, at);
  if (b?.kind !== 'assign' || b.op || !b.value || b.value.kind !== 'call') return undefined;
  // `if small: model = build(n, 0.0) else: model = build(n, 5e-4)`: either may be the one trained.
  if (b.branches?.length) return undefined;
  return { call: b.value, scope: b.scope, at: b.at };
}
