// Penalties a program attaches with Keras `add_loss` to the model a custom loop trains (NB301).
// Keras collects the `add_loss` terms of a model and of every one of its sublayers in
// `model.losses`, which only fit() adds to the loss. Which object a call attaches to is read by data
// flow from the object `add_loss` is called on:
// - a variable (through plain copies and the returns of the builder function it is assigned from),
//   or one of its sublayers: a loop variable over `model.layers` or `model.submodules`,
//   `model.layers[i]`, `model.get_layer(...)`;
// - a function's parameter: the argument every call of the function hands it, in the training file
//   and the files it imports (a recursive walker handing itself `node.layers` adds nothing; the call
//   that hands it the model does); a function no such file calls attaches to nothing we know;
// - `self` in a method Keras runs on every instance (`__init__`, `build`, `call`): the class, so every
//   model of that class or a subclass, and every model that builds such a layer (the model search of
//   loops.ts with ADD_LOSS_PROBE); `self` in any other method: the receivers of its calls.
// A call whose `add_loss` is the project's own method (not Keras's) attaches nothing.
import type { Expr } from '../ir';
import type { Facts } from './index';
import { explicitParams, type Binding, type ClassDef, type FunctionDef, type Scope } from './scope';
import { ADD_LOSS_METHOD, ITEM_PRESERVING_CALLS, KERAS_RUN_METHODS, SUBLAYER_LISTS, SUBLAYER_METHODS, loopSource } from './catalogue';
import { programIndex, type CallSite } from './program';
import { callArguments, derivesFrom, instanceClass, resolveCall, returnsOf } from './resolve';
import { exprKey } from './keys';
import { callName, within, type Call, type LayerProbe, type TrainingFacts } from './loops';
import { isInstanceParameterName } from './roles';

export interface AddLossPenalty {
  /** The `add_loss(...)` call. */
  call: Call;
  /** What it is called on (`layer`, `self`, `model`). */
  receiver: Expr;
}

/** What an `add_loss` receiver (or a trained model) stands for: a variable's binding, or every instance of a class. */
type Root = { kind: 'binding'; binding: Binding } | { kind: 'class'; cls: ClassDef };

const MAX_DEPTH = 12;

/** A walk's state: the bindings already followed, and the functions read for one call (a builder's parameters are that call's arguments). */
interface Walk {
  seen: Set<Binding>;
  bound: Map<FunctionDef, CallSite>;
}

const newWalk = (): Walk => ({ seen: new Set(), bound: new Map() });

/**
 * The first penalty attached with `add_loss` to the model `m` (read at `scope`, `at` in the file of
 * `t`), to the model itself or to one of its layers.
 */
export function addLossPenaltyOf(t: TrainingFacts, m: Expr, scope: Scope, at: number): AddLossPenalty | undefined {
  if (t.facts.language !== 'python') return undefined;
  const flow = flowOf(t);
  if (flow.calls().length === 0) return undefined;
  // `self` built with (or a model holding a layer) whose own `__init__`/`build`/`call` adds a loss.
  const built = t.modelProbe(ADD_LOSS_PROBE, m, scope, at);
  if (built.kind === 'found') return built.layer;
  const trained = flow.roots(m, scope, at, 0, newWalk());
  const cls = instanceClass(t.facts.program, m, scope, at);
  const bindings = new Set(trained.flatMap((r) => (r.kind === 'binding' ? [r.binding] : [])));
  if (bindings.size === 0 && !cls) return undefined;
  for (const c of flow.calls()) {
    for (const r of flow.receiverRoots(c)) {
      if (r.kind === 'binding' && bindings.has(r.binding)) return c.penalty;
      if (r.kind === 'class' && cls && (cls === r.cls || derivesFrom(t.facts.program, cls, r.cls))) return c.penalty;
    }
  }
  return undefined;
}

/** Layers (and models) whose own `__init__`, `build` or `call` adds a loss to themselves. */
export const ADD_LOSS_PROBE: LayerProbe<AddLossPenalty> = {
  id: 'add-loss',
  inSpan: (t, span) => {
    if (t.facts.language !== 'python') return undefined;
    const flow = flowOf(t);
    for (const c of flow.ownCalls()) if (within(c.penalty.call.span, span) && flow.receiverRoots(c).some((r) => r.kind === 'class')) return c.penalty;
    return undefined;
  },
  inUnit: () => undefined,
};

interface Site {
  penalty: AddLossPenalty;
  facts: Facts;
  scope: Scope;
  at: number;
}

const flows = new WeakMap<TrainingFacts, AddLossFlow>();

function flowOf(t: TrainingFacts): AddLossFlow {
  let f = flows.get(t);
  if (!f) flows.set(t, (f = new AddLossFlow(t)));
  return f;
}

/** The `add_loss` calls of a training file and the files it imports, and what each attaches to. */
class AddLossFlow {
  private all?: Site[];
  private own?: Site[];
  private readonly rootsMemo = new Map<Site, Root[]>();
  private readonly callersMemo = new Map<FunctionDef, CallSite[]>();
  private filesMemo?: Facts[];

  constructor(private readonly t: TrainingFacts) {}

  private files(): Facts[] {
    if (this.filesMemo) return this.filesMemo;
    const program = this.t.facts.program;
    const entry = program.parsedOf(this.t.facts.scopes.root.span);
    this.filesMemo = entry ? program.reachable(entry).map((p) => program.facts(p)) : [this.t.facts];
    return this.filesMemo;
  }

  /** Keras `add_loss` calls of every file the training file reaches. */
  calls(): Site[] {
    return (this.all ??= this.files().flatMap((f) => sitesIn(f)));
  }

  /** Those of this file alone (the probe asks file by file). */
  ownCalls(): Site[] {
    return (this.own ??= sitesIn(this.t.facts));
  }

  receiverRoots(site: Site): Root[] {
    let roots = this.rootsMemo.get(site);
    if (!roots) {
      this.rootsMemo.set(site, []);
      roots = this.roots(site.penalty.receiver, site.scope, site.at, 0, newWalk());
      this.rootsMemo.set(site, roots);
    }
    return roots;
  }

  /** What an object stands for: the bindings of the variables it is, or a layer of, and the classes whose every instance it is. */
  roots(e: Expr, scope: Scope, at: number, depth: number, walk: Walk): Root[] {
    if (depth > MAX_DEPTH) return [];
    if (e.kind === 'index') return this.listRoots(e.object, scope, at, depth + 1, walk);
    if (e.kind === 'call') {
      const name = callName(e);
      if (e.callee.kind === 'attr' && name !== undefined && SUBLAYER_METHODS.has(name)) return this.roots(e.callee.object, scope, at, depth + 1, walk);
      // A builder function of the project: what it returns (`m = Sequential(...); m.add_loss(...); return m`).
      const program = this.t.facts.program;
      // Its parameters stand for this call's arguments alone, not every caller's.
      const target = resolveCall(program, e, scope, at);
      if (!target || target.constructs || target.receiver || walk.bound.has(target.fn)) return [];
      const inner: Walk = { seen: walk.seen, bound: new Map(walk.bound).set(target.fn, { call: e, scope, at }) };
      return returnsOf(program, target.fn).flatMap((r) => this.roots(r.expr, r.scope, r.at, depth + 1, inner));
    }
    if (e.kind !== 'name' && e.kind !== 'attr') return [];
    const key = exprKey(e);
    const b = key !== undefined ? scope.lookup(key, at) : undefined;
    if (!b || walk.seen.has(b)) return [];
    walk.seen.add(b);
    if (b.kind === 'loop' && b.loop) {
      const source = loopSource(b.loop.iter, b.loop.position, (x) => this.t.facts.analyzer.isModule(x));
      const layers = source?.kind === 'element' ? this.listRoots(source.collection, b.scope, b.at, depth + 1, walk) : [];
      return [{ kind: 'binding', binding: b }, ...layers];
    }
    if (b.kind === 'param') return this.paramRoots(b, walk, (arg, site) => this.roots(arg, site.scope, site.at, depth + 1, walk));
    if (b.kind === 'assign' && b.value && !b.op) return [{ kind: 'binding', binding: b }, ...this.roots(b.value, b.scope, b.at, depth + 1, walk)];
    return [{ kind: 'binding', binding: b }];
  }

  /** The models a list of layers belongs to: `model.layers`, `model.submodules[1:]`, `reversed(model.layers)`, a parameter handed one. */
  private listRoots(e: Expr, scope: Scope, at: number, depth: number, walk: Walk): Root[] {
    if (depth > MAX_DEPTH) return [];
    if (e.kind === 'attr' && SUBLAYER_LISTS.has(e.name)) return this.roots(e.object, scope, at, depth + 1, walk);
    if (e.kind === 'index') return this.listRoots(e.object, scope, at, depth + 1, walk);
    if (e.kind === 'call') {
      const name = callName(e);
      if (e.callee.kind === 'attr' && name !== undefined && SUBLAYER_METHODS.has(name)) return this.roots(e.callee.object, scope, at, depth + 1, walk);
      if (e.callee.kind === 'name' && name !== undefined && ITEM_PRESERVING_CALLS.has(name) && e.args[0]) return this.listRoots(e.args[0], scope, at, depth + 1, walk);
      return [];
    }
    if (e.kind !== 'name') return [];
    const b = scope.lookup(e.name, at);
    if (!b || walk.seen.has(b)) return [];
    walk.seen.add(b);
    if (b.kind === 'param') return this.paramRoots(b, walk, (arg, site) => this.listRoots(arg, site.scope, site.at, depth + 1, walk));
    if (b.kind === 'assign' && b.value && !b.op) return this.listRoots(b.value, b.scope, b.at, depth + 1, walk);
    return [];
  }

  /**
   * A parameter stands for what the calls of its function hand it; `self` in a method Keras runs
   * stands for the class, in another method for the receivers of its calls.
   */
  private paramRoots(b: Binding, walk: Walk, follow: (arg: Expr, site: CallSite) => Root[]): Root[] {
    const facts = this.t.facts.program.factsAt(b.scope.span);
    const fn = facts ? programIndex(facts).functionOfScope(b.scope) : undefined;
    if (!fn) return [];
    const own: Root = { kind: 'binding', binding: b };
    const instance = fn.isMethod && fn.params[0]?.name === b.key && isInstanceParameterName(b.key);
    if (instance && fn.cls && KERAS_RUN_METHODS.has(fn.name)) return [own, { kind: 'class', cls: fn.cls }];
    const position = instance ? -1 : explicitParams(fn).findIndex((p) => p.name === b.key);
    if (!instance && (position < 0 || explicitParams(fn)[position].rest)) return [own];
    const out: Root[] = [];
    const bound = walk.bound.get(fn);
    let calls = 0;
    for (const site of bound ? [bound] : this.callers(fn)) {
      const target = this.factsOf(site).analyzer.callTarget(site.call, site.scope, site.at);
      if (!target || target.fn !== fn) continue;
      calls++;
      if (instance) {
        if (target.receiver) out.push(...follow(target.receiver, site));
        continue;
      }
      const kw = site.call.kwargs.find((k) => k.name === b.key);
      const args = callArguments(site.call, target);
      const arg = kw?.value ?? (args.slice(0, position + 1).some((a) => a.kind === 'other') ? undefined : args[position]);
      if (arg) out.push(...follow(arg, site));
    }
    // A parameter no call in sight fills stands for itself (a training function another entry calls).
    return calls > 0 ? out : [own];
  }

  private factsOf(site: CallSite): Facts {
    return this.t.facts.program.factsAt(site.call.span) ?? this.t.facts;
  }

  /** Calls of a function, by its name, in the files the training file reaches. */
  private callers(fn: FunctionDef): CallSite[] {
    let found = this.callersMemo.get(fn);
    if (!found) this.callersMemo.set(fn, (found = this.files().flatMap((f) => programIndex(f).callsNamed(fn.name))));
    return found;
  }
}

/** Keras `add_loss` calls of a file: on an object, with the loss, not a method the project defines itself. */
function sitesIn(facts: Facts): Site[] {
  const out: Site[] = [];
  if (facts.language !== 'python') return out;
  for (const site of programIndex(facts).callsNamed(ADD_LOSS_METHOD)) {
    const c = site.call;
    if (c.callee.kind !== 'attr' || c.args.length + c.kwargs.length === 0) continue;
    // Resolved strictly: the analyzer's last resort, the file's one method of that name, would take
    // a logger's own `add_loss` for every layer's.
    if (resolveCall(facts.program, c, site.scope, site.at)) continue;
    out.push({ penalty: { call: c, receiver: c.callee.object }, facts, scope: site.scope, at: site.at });
  }
  return out;
}
