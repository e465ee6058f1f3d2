// Optimizers a helper builds and returns, seen from the file that calls it:
// `optimizer = make_optimizer(model, cfg)` with `def make_optimizer(model, cfg): return
// torch.optim.SGD(model.parameters(), weight_decay=cfg["weight_decay"])` in `optim/factory.py`
// or at the top of the same file. The helper's decay is read with the call's arguments bound to
// its parameters, so a knob the helper only receives (`wd`, `cfg["weight_decay"]`,
// `args.weight_decay`) gets the value the caller's config dict, argparse default or literal gives it.
// A construction in a helper of this file that is called this way is judged only through its
// calls (see helperBuiltConstructions): its own view reads the parameters, not what the calls pass.
import type { Facts } from './index';
import type { Expr, Span } from '../ir';
import { explicitParams, type FunctionDef } from './scope';
import { exprKey } from './keys';
import { programIndex } from './program';
import { resolveCall } from './resolve';
import { frameworkFacts, type Ctx, type DecaySetting, type OptimizerFact, type Owner } from './frameworks';

export interface HelperOptimizer {
  /** The optimizer as the helper builds it (its spans are in the helper's file). */
  opt: OptimizerFact;
  /** The call in this file that builds it, which the training code steps: `make_optimizer(model, cfg)`. */
  call: Expr & { kind: 'call' };
  /** Where the call is, with its owner among this file's framework owners. */
  ctx: Ctx;
  /** The helper's decay settings with the values this call gives them; zeros left out. */
  decay: HelperDecay[];
  /** The caller's model whose whole parameters the helper decays (`model` for `build(model)` over `m.parameters()`). */
  wholeModel?: string;
  /** That model as the call passes it, read at `ctx`. */
  model?: Expr;
  /** The helper's own facts (its file). */
  helperFacts: Facts;
  /** The helper is in this file. */
  sameFile: boolean;
}

/** A decay setting of the helper, with the caller's expression its knob reads (`CFG["weight_decay"]` for `cfg["weight_decay"]`). */
export interface HelperDecay extends DecaySetting {
  given?: Expr;
}

const cache = new WeakMap<Facts, HelperOptimizer[]>();
const builtCache = new WeakMap<Facts, Set<Expr>>();

/**
 * This file's torch optimizer constructions that a helper of this file builds for a call seen
 * here: NB201/NB202/NB204 judge those through helperOptimizers (with each call's values), not on
 * their own. (Keras and optax helpers keep their own view: NB201 also reads a Keras model's
 * builders from the construction, which the helper view does not.)
 */
export function helperBuiltConstructions(facts: Facts): Set<Expr> {
  let built = builtCache.get(facts);
  if (!built) builtCache.set(facts, (built = new Set(helperOptimizers(facts).filter((h) => h.sameFile && h.opt.framework === 'torch').map((h) => h.opt.call))));
  return built;
}

export function helperOptimizers(facts: Facts): HelperOptimizer[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

function collect(facts: Facts): HelperOptimizer[] {
  const program = facts.program;
  const entry = program.parsedOf(facts.scopes.root.span);
  if (!entry) return [];
  const fw = frameworkFacts(facts);
  const out: HelperOptimizer[] = [];
  for (const site of programIndex(facts).calls) {
    // Only a call whose value this file uses as an optimizer (steps it, zeroes it, compiles it in).
    if (!fw.used(site.call)) continue;
    const target = resolveCall(program, site.call, site.scope, site.at);
    const fn = target?.fn;
    if (!fn || target.constructs || target.args || fn.cls) continue;
    const parsed = program.parsedOf(fn.span);
    if (!parsed) continue;
    const sameFile = parsed === entry;
    // A call inside the helper itself (recursion) binds nothing new.
    if (sameFile && within(site.call.span, fn.span)) continue;
    const helperFacts = sameFile ? facts : program.facts(parsed);
    const hfw = frameworkFacts(helperFacts);
    for (const opt of hfw.optimizers) {
      if (opt.groups || opt.framework === 'tfjs' || opt.ctx.owner.name !== fn.name || !within(opt.call.span, fn.span)) continue;
      if (!hfw.returnsConstruction(opt.ctx.owner, opt.call)) continue;
      const ctx: Ctx = { scope: site.scope, at: site.at, owner: ownerAt(fw.owners, site.call.span.start) };
      const bound = (e: Expr): Expr | typeof UNKNOWN | undefined => boundArgument(fn, site.call, e);
      const decay: HelperDecay[] = [];
      // Zeros included: the call may give a knob whose default in the helper is 0 a value.
      for (const d of opt.decaySettings ?? opt.decay) {
        const given = d.arg ? bound(d.arg.expr) : undefined;
        // A knob the call may set but does not show (`build(model, **cfg)`) has no known value.
        const value = given === UNKNOWN ? undefined : given ? fw.evaluate(given, ctx) : d.value;
        if (value === 0) continue;
        decay.push({ ...d, value, arg: d.arg && { ...d.arg, value }, given: given === UNKNOWN ? undefined : given });
      }
      const modelArg = opt.wholeModel !== undefined ? bound({ kind: 'name', name: opt.wholeModel, span: opt.call.span }) : undefined;
      const model = modelArg === UNKNOWN ? undefined : modelArg;
      out.push({ opt, call: site.call, ctx, decay, wholeModel: model ? exprKey(model) : modelArg === UNKNOWN ? undefined : opt.wholeModel, model, helperFacts, sameFile });
    }
  }
  return out;
}

/** A parameter read whose argument the call hides (`*args`, `**cfg`). */
const UNKNOWN = Symbol('unknown argument');

/**
 * The caller's expression for a helper's expression that reads one of its parameters: the
 * parameter itself (`wd` → the argument), or a field of it (`cfg["weight_decay"]`, `args.wd` → the
 * same field of the argument). Undefined for anything else, and for a parameter the call leaves to
 * its default; UNKNOWN when the call may pass it unseen.
 */
function boundArgument(fn: FunctionDef, call: Expr & { kind: 'call' }, e: Expr): Expr | typeof UNKNOWN | undefined {
  if (e.kind === 'name') return argumentFor(fn, call, e.name);
  if ((e.kind === 'attr' || e.kind === 'index') && e.object.kind === 'name') {
    const object = argumentFor(fn, call, e.object.name);
    return object && object !== UNKNOWN ? { ...e, object } : object;
  }
  return undefined;
}

/** The argument a call passes for the parameter `name` of `fn`, by keyword or position (see boundArgument). */
function argumentFor(fn: FunctionDef, call: Expr & { kind: 'call' }, name: string): Expr | typeof UNKNOWN | undefined {
  const params = explicitParams(fn);
  const position = params.findIndex((p) => p.name === name && !p.rest);
  if (position < 0) return undefined;
  // A parameter assigned again in the helper no longer holds the argument.
  if (fn.scope.allBindings(name).some((b) => b.kind !== 'param')) return UNKNOWN;
  const kw = call.kwargs.find((k) => k.name === name);
  if (kw) return kw.value;
  // `*args` / `**cfg` at the call may fill any parameter.
  if (call.args.some((a) => a.kind === 'other')) return UNKNOWN;
  return call.args[position];
}

function within(inner: Span, outer: Span): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** The innermost framework owner whose span contains the offset (the module, id 0, spans the file). */
function ownerAt(owners: Owner[], offset: number): Owner {
  let best = owners[0];
  for (const o of owners) if (o.span.start <= offset && offset < o.span.end && o.span.end - o.span.start <= best.span.end - best.span.start) best = o;
  return best;
}
