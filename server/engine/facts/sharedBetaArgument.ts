// A β argument wired to the wrong field: the constructor stores one β argument in two fields
// (`self.beta2 = beta2; self.beta3 = beta2`) and never reads another β argument (`beta3`), while the
// step averages two different moments, one with each field, so both share one β. Read by data flow:
// which fields the step's averages are weighted by (directly, or through the arguments of the call
// that runs the step), where the constructor stores each argument, and which arguments it reads.
import type { Expr, Param, Span, Stmt } from '../ir';
import type { Facts } from './index';
import type { ClassDef, FunctionDef } from './scope';
import { explicitParams } from './scope';
import { programIndex, walkAll } from './program';
import { resolveCall } from './resolve';
import type { OptimizerStep, StateUpdate } from './optimizerSteps';

export interface SharedBetaArgument {
  /** The second field's store of the shared argument (`self.beta3 = beta2`). */
  span: Span;
  cls: ClassDef;
  field: string;
  otherField: string;
  shared: string;
  unread: string;
  /** The two averages, the one weighted by `field` first. */
  averages: [StateUpdate, StateUpdate];
}

/** A default a β takes: a number strictly between 0 and 1. */
function betaLike(p: Param): boolean {
  return p.default?.kind === 'num' && p.default.value > 0 && p.default.value < 1;
}

/** `self.F = P` at the top of a constructor, P one of its arguments: F → the store. */
function storedArguments(init: FunctionDef): Map<string, { param: string; span: Span }> {
  const self = init.params[0]?.name;
  const names = new Set(explicitParams(init).map((p) => p.name));
  const out = new Map<string, { param: string; span: Span }>();
  const twice = new Set<string>();
  for (const s of init.body) {
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const t = s.targets[0];
    if (t.kind !== 'attr' || t.object.kind !== 'name' || t.object.name !== self) continue;
    if (out.has(t.name)) twice.add(t.name);
    if (s.value.kind === 'name' && names.has(s.value.name)) out.set(t.name, { param: s.value.name, span: s.span });
  }
  for (const f of twice) out.delete(f);
  return out;
}

/** The argument names a function body reads (any name expression, nested functions included). */
function namesRead(body: Stmt[]): Set<string> {
  const out = new Set<string>();
  walkAll(body, (e) => {
    if (e.kind === 'name') out.add(e.name);
  });
  return out;
}

/** `self.F` written in a method whose instance parameter is `self`: F. */
function fieldOf(e: Expr | undefined, fn: FunctionDef): string | undefined {
  const self = fn.isMethod ? fn.params[0]?.name : undefined;
  return e?.kind === 'attr' && e.object.kind === 'name' && self !== undefined && e.object.name === self ? e.name : undefined;
}

/** The expression a call passes for parameter `name` of `fn`: by keyword, by position, or through `**kw` with `kw = dict(name=…)` in the caller. */
function argumentFor(facts: Facts, call: Expr & { kind: 'call' }, fn: FunctionDef, name: string, caller: FunctionDef): Expr | undefined {
  const kw = call.kwargs.find((k) => k.name === name);
  if (kw) return kw.value;
  const splat = (a: Expr): boolean => facts.source(a.span).startsWith('*');
  const i = explicitParams(fn).findIndex((p) => p.name === name);
  if (i >= 0 && i < call.args.length && !call.args.slice(0, i + 1).some(splat)) return call.args[i];
  for (const a of call.args) {
    if (!facts.source(a.span).startsWith('**')) continue;
    const local = facts.source(a.span).slice(2).trim();
    const stores = caller.body.filter((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name' && s.targets[0].name === local);
    if (stores.length !== 1) return undefined;
    const v = stores[0].value;
    if (v.kind === 'call' && v.callee.kind === 'name' && v.callee.name === 'dict' && v.args.length === 0) return v.kwargs.find((x) => x.name === name)?.value;
    if (v.kind === 'object') return v.entries.find((x) => x.name === name)?.value;
  }
  return undefined;
}

/**
 * The class fields a step's β symbol comes from, one per class: `self.F` in a method, or an argument
 * that every call from one class's methods fills with `self.F` (a helper shared by two classes is
 * read per class).
 */
function fieldsForBeta(facts: Facts, step: OptimizerStep, beta: string, calls: Map<FunctionDef, { call: Expr & { kind: 'call' }; caller: FunctionDef }[]>): Map<ClassDef, string> {
  const out = new Map<ClassDef, string>();
  const self = step.fn.isMethod ? step.fn.params[0]?.name : undefined;
  if (step.fn.cls && self !== undefined && beta.startsWith(`${self}.`) && /^\w+$/.test(beta.slice(self.length + 1))) return out.set(step.fn.cls, beta.slice(self.length + 1));
  if (!/^\w+$/.test(beta) || !explicitParams(step.fn).some((p) => p.name === beta)) return out;
  const unclear = new Set<ClassDef>();
  for (const { call, caller } of calls.get(step.fn) ?? []) {
    if (!caller.cls) continue;
    const field = fieldOf(argumentFor(facts, call, step.fn, beta, caller), caller);
    if (field === undefined || (out.has(caller.cls) && out.get(caller.cls) !== field)) unclear.add(caller.cls);
    else out.set(caller.cls, field);
  }
  for (const c of unclear) out.delete(c);
  return out;
}

/** Calls in the file to the named functions, by the function they run (resolved through the program). */
function callsByTarget(facts: Facts, names: Set<string>): Map<FunctionDef, { call: Expr & { kind: 'call' }; caller: FunctionDef }[]> {
  const out = new Map<FunctionDef, { call: Expr & { kind: 'call' }; caller: FunctionDef }[]>();
  const index = programIndex(facts);
  const visitFunction = (fn: FunctionDef): void => {
    walkAll(fn.body, (e) => {
      if (e.kind !== 'call') return;
      const callee = e.callee.kind === 'name' ? e.callee.name : e.callee.kind === 'attr' ? e.callee.name : undefined;
      if (callee === undefined || !names.has(callee)) return;
      const resolved = resolveCall(facts.program, e, index.scopeAt(e.span.start), e.span.start);
      // Arguments are read by position from the call itself: not `f.call(t, …)`.
      const target = resolved && !resolved.args ? resolved.fn : undefined;
      if (!target) return;
      const list = out.get(target) ?? [];
      list.push({ call: e, caller: fn });
      out.set(target, list);
    });
  };
  for (const fn of index.functions) visitFunction(fn);
  return out;
}

/** `field` stores, after `otherField`, the β argument both hold, and exactly one other β argument of the constructor is never read. */
function wiredTwice(cls: ClassDef, field: string, otherField: string): { span: Span; shared: string; unread: string } | undefined {
  const init = cls.scope.functions.get('__init__');
  if (!init) return undefined;
  const stores = storedArguments(init);
  const sa = stores.get(field);
  const sb = stores.get(otherField);
  if (!sa || !sb || sa.param !== sb.param || sa.span.start < sb.span.start) return undefined;
  // Each field written once in the whole class: a schedule or a setter may write it again.
  if ((cls.scope.members.get(field)?.length ?? 0) > 1 || (cls.scope.members.get(otherField)?.length ?? 0) > 1) return undefined;
  const params = explicitParams(init);
  const shared = params.find((p) => p.name === sa.param);
  if (!shared || !betaLike(shared)) return undefined;
  const read = namesRead(init.body);
  const unread = params.filter((p) => p !== shared && betaLike(p) && !p.rest && !read.has(p.name));
  return unread.length === 1 ? { span: sa.span, shared: sa.param, unread: unread[0].name } : undefined;
}

export function sharedBetaArguments(facts: Facts, steps: OptimizerStep[]): SharedBetaArgument[] {
  const out: SharedBetaArgument[] = [];
  let calls: ReturnType<typeof callsByTarget> | undefined;
  for (const step of steps) {
    // Moments weighted by a β (an average whose addition also reads a β, as Adan's n ← β₃·n + (1 − β₃)·(g + β₂·Δ)², is one too).
    const averages = [...step.states.values()].filter((s) => s.beta !== undefined && s.adds.length > 0 && !s.eq.branched);
    if (averages.length < 2) continue;
    // Moving averages first: the message names one as the moment the other β belonged to.
    averages.sort((x, y) => Number(y.average) - Number(x.average));
    calls ??= callsByTarget(facts, new Set(steps.map((x) => x.fn.name)));
    const fields = averages.map((s) => ({ s, at: fieldsForBeta(facts, step, s.beta!, calls!) }));
    for (let i = 0; i < fields.length; i++)
      for (let j = 0; j < fields.length; j++) {
        const a = fields[i];
        const b = fields[j];
        if (i === j || a.s.beta === b.s.beta) continue;
        for (const [cls, field] of a.at) {
          const otherField = b.at.get(cls);
          if (otherField === undefined || otherField === field) continue;
          const found = wiredTwice(cls, field, otherField);
          if (found && !out.some((x) => x.span.start === found.span.start)) out.push({ ...found, cls, field, otherField, averages: [a.s, b.s] });
        }
      }
  }
  return out;
}
