// A gradient buffer reused as scratch space. `p.grad.zero_()`, then a call handed `p.grad` (or a view
// of it, `g = p.grad.view(-1)`) as an output, then `p.add_(p.grad)`: after the reset the buffer holds
// whatever the call wrote into it (an error-feedback residual, a dequantized correction), not the
// gradient backward() set, unless a backward() call between the reset and the read fills it again.
import type { Expr } from '../ir';
import type { Facts } from './index';
import { exprKey } from './keys';
import { programIndex, type CallSite, type ProgramIndex } from './program';
import type { FunctionDef, Scope } from './scope';
import { IN_PLACE_RESETS, SHARED_STORAGE_VIEWS } from './catalogue';

interface Reset {
  key: string;
  fn: FunctionDef | undefined;
  end: number;
}

interface Events {
  resets: Reset[];
  /** The calls of each function (undefined: the module), built only when the file resets something. */
  calls?: Map<FunctionDef | undefined, CallSite[]>;
}

const memo = new WeakMap<ProgramIndex, Events>();

function eventsOf(index: ProgramIndex): Events {
  let events = memo.get(index);
  if (events) return events;
  const resets: Reset[] = [];
  for (const name of IN_PLACE_RESETS)
    for (const { call, scope } of index.callsNamed(name)) {
      if (call.callee.kind !== 'attr') continue;
      const key = exprKey(call.callee.object);
      if (key !== undefined) resets.push({ key, fn: index.enclosingFunction(scope), end: call.span.end });
    }
  memo.set(index, (events = { resets }));
  return events;
}

function callsOf(index: ProgramIndex, events: Events, fn: FunctionDef | undefined): CallSite[] {
  if (!events.calls) {
    const calls = new Map<FunctionDef | undefined, CallSite[]>();
    for (const site of index.calls) {
      const owner = index.enclosingFunction(site.scope);
      const list = calls.get(owner);
      if (list) list.push(site);
      else calls.set(owner, [site]);
    }
    events.calls = calls;
  }
  return events.calls.get(fn) ?? [];
}

/** The tensor whose storage `x` is: `p.grad.view(-1)` and `p.grad.data` are p.grad's. */
function storageKey(x: Expr): string | undefined {
  for (let depth = 0; depth < 8; depth++) {
    if (x.kind === 'call' && x.callee.kind === 'attr' && SHARED_STORAGE_VIEWS.has(x.callee.name)) x = x.callee.object;
    else if (x.kind === 'attr' && SHARED_STORAGE_VIEWS.has(x.name)) x = x.object;
    else break;
  }
  return exprKey(x);
}

/** Whether an argument is the buffer `key`, a view of it, or a name bound to one (`grad = p.grad.view(-1)`). */
function handsBuffer(arg: Expr, key: string, site: CallSite): boolean {
  if (storageKey(arg) === key) return true;
  if (arg.kind !== 'name') return false;
  const b = site.scope.lookup(arg.name, site.at);
  return b?.kind === 'assign' && !b.op && !b.unpacked && !!b.value && storageKey(b.value) === key;
}

/**
 * Whether the read `e` of a gradient place (`p.grad`) comes after that place was reset in place and
 * handed to a call, with no backward() call between the reset and the read, in the same function.
 */
export function refilledGradient(facts: Facts, e: Expr, scope: Scope): boolean {
  const key = exprKey(e);
  if (key === undefined) return false;
  const index = programIndex(facts);
  const events = eventsOf(index);
  if (events.resets.length === 0) return false;
  const fn = index.enclosingFunction(scope);
  let last = -1;
  for (const r of events.resets) if (r.key === key && r.fn === fn && r.end <= e.span.start && r.end > last) last = r.end;
  if (last < 0) return false;
  const between = (start: number, end: number): boolean => last <= start && end <= e.span.start;
  for (const b of index.callsNamed('backward')) if (index.enclosingFunction(b.scope) === fn && between(b.call.span.start, b.call.span.end)) return false;
  return callsOf(index, events, fn).some((site) => between(site.call.span.start, site.call.span.end) && [...site.call.args, ...site.call.kwargs.map((k) => k.value)].some((a) => handsBuffer(a, key, site)));
}
