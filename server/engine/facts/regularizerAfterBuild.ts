// Keras regularizers assigned to the layers of a model that is already built (NB206):
// `for layer in model.layers: layer.kernel_regularizer = l2(1e-3)` after a Sequential whose first
// layer has an input shape (built as each layer is added), a functional `Model(inputs, outputs)`,
// a `load_model(...)` or a `model.build(...)`; `setattr(layer, "kernel_regularizer", ...)` alike, with the
// name a literal or a loop variable over literals. Keras reads `kernel_regularizer` in `build()`, where
// `add_weight` registers the penalty; an attribute set later is never read, so `model.losses` stays
// empty. Silent when the file rebuilds a model from its config afterwards
// (`model_from_json(model.to_json())`, `clone_model`, a save and `load_model`), which reads it
// again, adds a loss by hand (`add_loss`), or reads the attribute back itself.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { KERAS_BUILD_TIME_REGULARIZER, KERAS_INPUT_LAYER, KERAS_INPUT_SHAPE_ARGUMENT, KERAS_APPLICATIONS_MODULE,
  KERAS_MODULE, KERAS_LOADED_MODEL, KERAS_REBUILD_CALL, KERAS_SAVE_CALL, attributeReadByName, attributeWriteByName, isSequentialModel } from './catalogue';
import { walkAll } from './program';
import { resolveCall, resolveExpr } from './resolve';
import { explicitParams, type FunctionDef } from './scope';

export interface RegularizerAfterBuild {
  /** `layer.kernel_regularizer` in the assignment, or the whole `setattr(...)` call. */
  span: Span;
  attribute: string;
  model: string;
  /** Where the model became built. */
  builtAt: Span;
  how: string;
  /** When the assignment is in a helper the model is handed to: the call (this file) and the helper's name. */
  helper?: { name: string; assigned: Span; body?: Stmt[] };
}

const cache = new WeakMap<Facts, RegularizerAfterBuild[]>();

export function regularizersAfterBuild(facts: Facts): RegularizerAfterBuild[] {
  let found = cache.get(facts);
  if (!found) {
    found = facts.language === 'python' && usesKeras(facts) ? scan(facts) : [];
    cache.set(facts, found);
  }
  return found;
}

function usesKeras(facts: Facts): boolean {
  for (const m of facts.imports.values()) if (KERAS_MODULE.test(m)) return true;
  return false;
}

const lastName = (e: Expr): string | undefined => (e.kind === 'name' ? e.name : e.kind === 'attr' ? e.name : undefined);

function scan(facts: Facts): RegularizerAfterBuild[] {
  const out: RegularizerAfterBuild[] = [];
  const bodies: Stmt[][] = [facts.module.body];
  const collect = (stmts: Stmt[], depth: number): void => {
    if (depth > 40) return;
    for (const s of stmts) {
      if (s.kind === 'function' || s.kind === 'class') {
        if (s.kind === 'function') bodies.push(s.body);
        collect(s.body, depth + 1);
      } else if (s.kind === 'for' || s.kind === 'block') collect(s.body, depth + 1);
    }
  };
  collect(facts.module.body, 0);
  // Walked only when a body assigns a regularizer to a built model's layer (most files never do).
  let inFile: ReloadCalls | undefined;
  for (const body of bodies) {
    let inBody: ReloadCalls | undefined;
    out.push(...scanBody(facts, body, (at) => rebuiltAfter((inFile ??= reloadCalls(facts.module.body)), (inBody ??= reloadCalls(body)))(at)));
  }
  // A file that reads the attribute back (`l.kernel_regularizer(l.kernel)` in a hand-written loss)
  // applies it itself.
  return out.filter((r) => !readsAttribute(facts.module.body, r.attribute) && !(r.helper && r.helper.body && readsAttribute(r.helper.body, r.attribute)));
}

/** Whether statements read `x.<attribute>` (or `getattr(x, "<attribute>")`) anywhere other than as an assignment's target. */
function readsAttribute(stmts: Stmt[], attribute: string): boolean {
  const targets = new Set<Expr>();
  const collect = (list: Stmt[], depth: number): void => {
    if (depth > 40) return;
    for (const s of list) {
      if (s.kind === 'assign') for (const t of s.targets) targets.add(t);
      if ('body' in s && Array.isArray(s.body)) collect(s.body as Stmt[], depth + 1);
    }
  };
  collect(stmts, 0);
  let read = false;
  walkAll(stmts, (e) => {
    if (!read && e.kind === 'attr' && e.name === attribute && !targets.has(e)) read = true;
    if (!read && e.kind === 'call' && attributeReadByName(e)?.name === attribute) read = true;
  });
  return read;
}

interface Built { at: Span; how: string }

/** Where statements rebuild a model from its config, load one, save one, or add a loss by hand. */
interface ReloadCalls { rebuilds: number[]; loads: number[]; saves: number[] }

function reloadCalls(stmts: Stmt[]): ReloadCalls {
  const found: ReloadCalls = { rebuilds: [], loads: [], saves: [] };
  walkAll(stmts, (e) => {
    if (e.kind !== 'call') return;
    const n = lastName(e.callee);
    if (!n) return;
    // `add_loss(...)`: the penalty may be added by hand instead.
    if (KERAS_REBUILD_CALL.test(n) || n === 'add_loss') found.rebuilds.push(e.span.start);
    if (KERAS_LOADED_MODEL.test(n)) found.loads.push(e.span.start);
    if (KERAS_SAVE_CALL.test(n)) found.saves.push(e.span.start);
  });
  return found;
}

/**
 * Whether the layers' attributes are read again after `at`: a rebuild from the config in the file
 * (the model may be rebuilt by the code it is returned to), a load in the same body, or a save in
 * the file when the file also loads.
 */
function rebuiltAfter(file: ReloadCalls, body: ReloadCalls): (at: number) => boolean {
  return (at) => file.rebuilds.some((r) => r > at) || body.loads.some((r) => r > at) || (file.saves.some((r) => r > at) && file.loads.length > 0);
}

/** The statements of one body in order, nested blocks and loops included, not nested functions. */
function linear(stmts: Stmt[], out: Stmt[], depth = 0): Stmt[] {
  if (depth > 40) return out;
  for (const s of stmts) {
    if (s.kind === 'function' || s.kind === 'class') continue;
    out.push(s);
    if (s.kind === 'for' || s.kind === 'block') linear(s.body, out, depth + 1);
  }
  return out;
}

function hasInputShape(e: Expr): boolean {
  if (e.kind !== 'call') return false;
  const n = lastName(e.callee);
  if (n && KERAS_INPUT_LAYER.test(n)) return true;
  return e.kwargs.some((k) => KERAS_INPUT_SHAPE_ARGUMENT.test(k.name));
}

/** `tf.keras.applications.ResNet50`, `applications.VGG16`, `VGG16` imported from an applications module. */
function isKerasApplication(facts: Facts, callee: Expr): boolean {
  if (callee.kind === 'name') return KERAS_APPLICATIONS_MODULE.test(facts.imports.get(callee.name) ?? '');
  for (let e: Expr = callee, depth = 0; e.kind === 'attr' && depth < 8; e = e.object, depth++) {
    if (e.object.kind === 'attr' && KERAS_APPLICATIONS_MODULE.test(e.object.name)) return true;
    if (e.object.kind === 'name' && (KERAS_APPLICATIONS_MODULE.test(e.object.name) || KERAS_APPLICATIONS_MODULE.test(facts.imports.get(e.object.name) ?? ''))) return true;
  }
  return false;
}

/** How the value assigned to a model name builds it, when it does. */
function builtBy(facts: Facts, e: Expr): string | undefined {
  if (e.kind !== 'call') return undefined;
  const n = lastName(e.callee);
  if (!n) return undefined;
  if (isKerasApplication(facts, e.callee)) return `keras.applications' ${n}() returns it built`;
  if (isSequentialModel(n)) {
    const first = e.args[0] ?? e.kwargs.find((k) => k.name === 'layers')?.value;
    if (first?.kind === 'seq' && first.items.length > 0 && hasInputShape(first.items[0])) return 'its first layer has an input shape, so Keras builds each layer as the model is made';
    return undefined;
  }
  if (KERAS_LOADED_MODEL.test(n)) return 'load_model() returns it built';
  if ((n === 'Model' || n === 'Functional') && (e.kwargs.some((k) => k.name === 'inputs') || e.args.length >= 2)) return 'a functional model is built when it is made';
  return undefined;
}

/**
 * The build-time regularizers a body assigns to the layers of models built before, in order.
 * `seeded`: models built before the body runs (a helper's parameters); `helpers`: follow calls that
 * hand a built model to a function of the project (one level).
 */
function scanBody(facts: Facts, body: Stmt[], reloadedAfter: (at: number) => boolean, seeded?: Map<string, Built>): RegularizerAfterBuild[] {
  const out: RegularizerAfterBuild[] = [];
  const built = new Map<string, Built>(seeded ?? []);
  /** Names bound to a Sequential not built yet. */
  const sequentials = new Set<string>();
  /** Loop variables that run over a built model's layers: variable → model. */
  const layerVars = new Map<string, string>();
  /** Loop variables that run over a literal list of names (`for attr in ["kernel_regularizer"]`). */
  const nameVars = new Map<string, string[]>();
  /** The build-time regularizer `setattr(layer, name, value)` sets: a literal name, or one a loop variable runs over. */
  const setattrRegularizer = (s: Stmt, call: Expr & { kind: 'call' }): { object: Expr; attribute: string } | undefined => {
    const write = attributeWriteByName(call);
    if (!write || (write.value.kind === 'name' && write.value.name === 'None')) return undefined;
    // A project's own `setattr` is not the builtin.
    if (resolveExpr(facts.program, call.callee, facts.scopes.stmtScopes.get(s) ?? facts.scopes.root, s.span.start)) return undefined;
    const names = write.name.kind === 'str' ? [write.name.value] : write.name.kind === 'name' ? nameVars.get(write.name.name) ?? [] : [];
    const attribute = names.find((n) => KERAS_BUILD_TIME_REGULARIZER.test(n));
    return attribute ? { object: write.object, attribute } : undefined;
  };
  const layersOf = (e: Expr): string | undefined => {
    // `model.layers`, `model.layers[1:]`
    const base = e.kind === 'index' ? e.object : e;
    if (base.kind === 'attr' && base.name === 'layers' && base.object.kind === 'name' && built.has(base.object.name)) return base.object.name;
    return undefined;
  };
  const layerOwner = (e: Expr): string | undefined => {
    // A layer of a model whose name was bound again since (`model = clone_model(model)`): what built the
    // old model is not known any more, so nothing is said.
    if (e.kind === 'name') {
      const model = layerVars.get(e.name);
      return model !== undefined && built.has(model) ? model : undefined;
    }
    // `model.layers[0]`
    if (e.kind === 'index' && e.object.kind === 'attr' && e.object.name === 'layers' && e.object.object.kind === 'name' && built.has(e.object.object.name)) return e.object.object.name;
    // `model.get_layer("dense")`
    if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === 'get_layer' && e.callee.object.kind === 'name' && built.has(e.callee.object.name)) return e.callee.object.name;
    return undefined;
  };
  for (const s of linear(body, [])) {
    const top = s.kind === 'assign' ? s.value : s.kind === 'expr' ? s.expr : undefined;
    // A call hands a built model to a helper only when some model is built (`handedToHelper` finds none otherwise).
    if (!seeded && top?.kind === 'call' && built.size > 0 && !reloadedAfter(top.span.end)) out.push(...handedToHelper(facts, s, top, built));
    if (s.kind === 'assign') {
      for (const t of s.targets) {
        if (t.kind === 'name') {
          built.delete(t.name);
          layerVars.delete(t.name);
          nameVars.delete(t.name);
          sequentials.delete(t.name);
          // A project's own `Sequential` or `Model` is not Keras's.
          const own = s.value.kind === 'call' && resolveExpr(facts.program, s.value.callee, facts.scopes.stmtScopes.get(s) ?? facts.scopes.root, s.span.start);
          const ownDef = own && (own.kind === 'class' || own.kind === 'function');
          if (!ownDef && s.value.kind === 'call' && isSequentialModel(lastName(s.value.callee) ?? '')) sequentials.add(t.name);
          const how = ownDef ? undefined : builtBy(facts, s.value);
          if (how) built.set(t.name, { at: s.value.span, how });
        } else if (t.kind === 'attr' && KERAS_BUILD_TIME_REGULARIZER.test(t.name) && !(s.value.kind === 'name' && s.value.name === 'None')) {
          const model = layerOwner(t.object);
          if (!model) continue;
          if (reloadedAfter(s.span.end)) continue;
          const b = built.get(model)!;
          out.push({ span: t.span, attribute: t.name, model, builtAt: b.at, how: b.how });
        }
      }
    } else if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'name') {
      const set = setattrRegularizer(s, s.expr);
      const model = set && layerOwner(set.object);
      if (set && model && !reloadedAfter(s.span.end)) {
        const b = built.get(model)!;
        out.push({ span: s.expr.span, attribute: set.attribute, model, builtAt: b.at, how: b.how });
      }
    } else if (s.kind === 'expr' && s.expr.kind === 'call' && s.expr.callee.kind === 'attr' && s.expr.callee.object.kind === 'name') {
      const model = s.expr.callee.object.name;
      const method = s.expr.callee.name;
      // `model.add(Dense(64, input_dim=20))`: this and every later layer is built when added.
      if (method === 'add' && sequentials.has(model) && s.expr.args[0] && hasInputShape(s.expr.args[0]) && !built.has(model)) {
        built.set(model, { at: s.expr.span, how: 'a layer with an input shape was added, so Keras builds each layer as it is added' });
      }
      if (method === 'build' && sequentials.has(model) && !built.has(model)) built.set(model, { at: s.expr.span, how: `${model}.build() builds its layers` });
    } else if (s.kind === 'for' && s.target.kind === 'name') {
      const model = layersOf(s.iter);
      if (model) layerVars.set(s.target.name, model);
      else layerVars.delete(s.target.name);
      const names = s.iter.kind === 'seq' && s.iter.items.every((i) => i.kind === 'str') ? s.iter.items.map((i) => (i.kind === 'str' ? i.value : '')) : undefined;
      if (names) nameVars.set(s.target.name, names);
      else nameVars.delete(s.target.name);
    }
  }
  return out;
}

/** `attach_l2(model, 1e-3)`: a project function that sets the regularizers of the built model it is handed. */
function handedToHelper(facts: Facts, s: Stmt, call: Expr & { kind: 'call' }, built: Map<string, Built>): RegularizerAfterBuild[] {
  const handed: { index: number | string; model: string }[] = [];
  call.args.forEach((a, i) => {
    if (a.kind === 'name' && built.has(a.name)) handed.push({ index: i, model: a.name });
  });
  for (const k of call.kwargs) if (k.value.kind === 'name' && built.has(k.value.name)) handed.push({ index: k.name, model: k.value.name });
  if (handed.length === 0) return [];
  const scope = facts.scopes.stmtScopes.get(s) ?? facts.scopes.root;
  const target = resolveCall(facts.program, call, scope, call.span.start);
  if (!target || target.cls || target.args) return [];
  const fn: FunctionDef = target.fn;
  const params = explicitParams(fn);
  const out: RegularizerAfterBuild[] = [];
  for (const h of handed) {
    const param = typeof h.index === 'number' ? params[h.index] : params.find((p) => p.name === h.index);
    if (!param) continue;
    const b = built.get(h.model)!;
    // A rebuild in the helper after its assignment reads the attribute again.
    const inHelper = reloadCalls(fn.body);
    const inner = scanBody(facts, fn.body, rebuiltAfter(inHelper, inHelper), new Map([[param.name, b]]));
    const first = inner[0];
    if (!first) continue;
    out.push({ span: call.span, attribute: first.attribute, model: h.model, builtAt: b.at, how: b.how, helper: { name: fn.name, assigned: first.span, body: fn.body } });
  }
  return out;
}
