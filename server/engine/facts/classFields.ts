// The value a configuration object's field holds, by data flow: `cfg.wd` where `cfg = Settings()`
// (here, in another module, or `self.cfg = Settings()`), or `Settings.wd` read on the class. The
// field is the one `self.wd = …` in the class's `__init__` (a parameter there is the argument the
// construction passes, else its default) or the class-level `wd = …`, searched through the bases.
// Anything that could change it (a field set twice, in another method, a construction whose
// arguments a dataclass-style class would take) gives no value.
import type { Expr } from '../ir';
import type { Program } from '../program';
import type { ClassDef, Scope } from './scope';
import { explicitParams } from './scope';
import { exprKey } from './keys';
import { baseClasses, methodOf, resolveExpr } from './resolve';

const MAX_HOPS = 8;

export interface FieldValue {
  expr: Expr;
  scope: Scope;
  at: number;
}

/** Where an object was built: its class, and the construction call (absent when the class itself is read). */
interface Built {
  cls: ClassDef;
  call?: Expr & { kind: 'call' };
  scope: Scope;
  at: number;
}

/** The expression `object.field` holds, when the object is an instance (or class) the code shows. */
export function classFieldValue(program: Program, object: Expr, field: string, scope: Scope, at: number): FieldValue | undefined {
  const built = builtFrom(program, object, scope, at, 0);
  return built ? fieldOf(program, built, field, built.cls, 0) : undefined;
}

function builtFrom(program: Program, e: Expr, scope: Scope, at: number, hops: number): Built | undefined {
  if (hops > MAX_HOPS) return undefined;
  if (e.kind === 'call') {
    const target = resolveExpr(program, e.callee, scope, at);
    return target?.kind === 'class' ? { cls: target.cls, call: e, scope, at } : undefined;
  }
  if (e.kind !== 'name' && e.kind !== 'attr') return undefined;
  const key = exprKey(e);
  const b = key !== undefined ? scope.lookup(key, at) : undefined;
  if (b) {
    // Bound more than once in its scope (a branch, a loop): no single object.
    if (b.kind !== 'assign' || b.op || !b.value || b.loops.length > 0) return undefined;
    if (b.scope.allBindings(b.key).length > 1 && !/^(self|this)\./.test(b.key)) return undefined;
    return builtFrom(program, b.value, b.scope, b.at, hops + 1);
  }
  // `from settings import opts`, `Settings` itself.
  const def = resolveExpr(program, e, scope, at);
  if (def?.kind === 'class') return { cls: def.cls, scope, at };
  if (def?.kind === 'value') return builtFrom(program, def.expr, def.scope, def.at, hops + 1);
  return undefined;
}

function fieldOf(program: Program, built: Built, field: string, cls: ClassDef, hops: number): FieldValue | undefined {
  if (hops > MAX_HOPS) return undefined;
  const members = [...(cls.scope.members.get(`self.${field}`) ?? []), ...(cls.scope.members.get(`this.${field}`) ?? [])];
  if (members.length > 0) {
    // An instance field: read on an instance only, set once, in the constructor.
    if (!built.call || members.length !== 1) return undefined;
    const b = members[0];
    const init = methodOf(program, cls, '__init__') ?? methodOf(program, cls, 'constructor');
    if (b.kind !== 'assign' || b.op || !b.value || b.loops.length > 0 || b.branches?.length || !init || b.scope !== init.scope) return undefined;
    return constructorValue(b.value, b.scope, b.at, init.params.length > 0 ? explicitParams(init) : [], built);
  }
  const classLevel = cls.scope.bindings.get(field);
  if (classLevel && classLevel.length > 0) {
    const b = classLevel[0];
    if (classLevel.length !== 1 || b.kind !== 'assign' || b.op || !b.value) return undefined;
    // A class without its own constructor may be a dataclass (or NamedTuple, pydantic model) whose construction sets the field.
    const takesArguments = built.call && (built.call.args.length > 0 || built.call.kwargs.length > 0);
    if (takesArguments && !methodOf(program, built.cls, '__init__') && !methodOf(program, built.cls, 'constructor')) return undefined;
    return { expr: b.value, scope: b.scope, at: b.at };
  }
  for (const base of baseClasses(program, cls)) {
    const found = fieldOf(program, built, field, base, hops + 1);
    if (found) return found;
  }
  return undefined;
}

/** `self.wd = wd` with `def __init__(self, wd=1e-6)`: the argument the construction passes, else the default. */
function constructorValue(value: Expr, scope: Scope, at: number, params: { name: string; default?: Expr }[], built: Built): FieldValue | undefined {
  const call = built.call!;
  const index = value.kind === 'name' ? params.findIndex((p) => p.name === value.name) : -1;
  if (index < 0) {
    // Any other expression could read the constructor's parameters: only a construction without arguments fixes them.
    return call.args.length === 0 && call.kwargs.length === 0 ? { expr: value, scope, at } : undefined;
  }
  const param = params[index];
  if (call.args.some((a) => a.kind === 'other')) return undefined;
  const kw = call.kwargs.find((k) => k.name === param.name);
  if (kw) return { expr: kw.value, scope: built.scope, at: built.at };
  if (index < call.args.length) return { expr: call.args[index], scope: built.scope, at: built.at };
  if (call.kwargs.some((k) => !k.name)) return undefined;
  return param.default ? { expr: param.default, scope, at } : undefined;
}
