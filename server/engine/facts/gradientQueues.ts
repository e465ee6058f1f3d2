// Entries of a container that gather a value over calls: `stored = queue.get(key)`; when there is
// none yet, `queue[key] = g`; otherwise `stored.add_(g)`. The entry starts as the very value it is
// then grown by, so it is a running sum of that value (pending gradients a later step consumes),
// not a parameter the value steps, whatever the names.
import type { Expr } from '../ir';
import type { UpdateSite } from './updates';
import { exprKey } from './keys';
import { ownStatements, type ProgramIndex } from './program';
import type { FunctionDef } from './scope';
import { DICT_GET_METHOD, VIEW_FUNCTIONS } from './catalogue';

/** The value a stored or added expression carries, through views and copies: `g.detach()` → g. */
function coreKey(x: Expr): string | undefined {
  for (let depth = 0; depth < 8 && x.kind === 'call' && x.callee.kind === 'attr' && VIEW_FUNCTIONS.has(x.callee.name); depth++) x = x.callee.object;
  return exprKey(x);
}

/** `C.get(k)`, `C.get(k, None)` or `C[k]`: the container's key and the entry's key. */
function entryRead(v: Expr): { container: string; entry: string } | undefined {
  let container: Expr | undefined;
  let entry: Expr | undefined;
  if (v.kind === 'call' && v.callee.kind === 'attr' && v.callee.name === DICT_GET_METHOD && v.args.length >= 1 && v.args.length <= 2 && v.kwargs.length === 0) {
    container = v.callee.object;
    entry = v.args[0];
  } else if (v.kind === 'index' && v.index.length === 1) {
    container = v.object;
    entry = v.index[0];
  }
  const c = container && exprKey(container);
  const k = entry && exprKey(entry);
  return c !== undefined && k !== undefined ? { container: c, entry: k } : undefined;
}

/** Per function, what its plain `C[k] = v` statements store: `C|k` → the stored values' keys. */
const storesMemo = new WeakMap<FunctionDef, Map<string, Set<string>>>();

function storesOf(fn: FunctionDef): Map<string, Set<string>> {
  let stores = storesMemo.get(fn);
  if (stores) return stores;
  stores = new Map();
  for (const s of ownStatements(fn.body)) {
    if (s.kind !== 'assign' || s.op || s.targets.length !== 1) continue;
    const read = entryRead(s.targets[0]);
    const value = coreKey(s.value);
    if (!read || value === undefined) continue;
    const place = `${read.container}|${read.entry}`;
    const set = stores.get(place);
    if (set) set.add(value);
    else stores.set(place, new Set([value]));
  }
  storesMemo.set(fn, stores);
  return stores;
}

/**
 * Whether the update grows a container's entry by the value the same function stores as that entry
 * when it is missing: `stored = C.get(k)` (its only binding) then `stored.add_(g)`, with `C[k] = g`;
 * or `C[k] += g` with `C[k] = g`. Every summand must be that value alone (no step size, no sign flip).
 */
export function growsQueuedEntry(site: UpdateSite, index: ProgramIndex, isScalar: (f: UpdateSite['increment'][number]['num'][number]) => boolean): boolean {
  if (site.kind !== 'update' || site.selfFactor || site.increment.length === 0) return false;
  const fn = index.enclosingFunction(site.scope);
  if (!fn) return false;
  let read: { container: string; entry: string } | undefined;
  const target = site.target;
  if (target.kind === 'name') {
    // Its plain bindings all read the entry; the in-place `stored.add_(g)` themselves bind it with `+`.
    const all = site.scope.allBindings(target.name);
    if (all.some((b) => b.kind !== 'assign' || (b.op && b.op !== '+') || b.unpacked || !b.value || b.scope !== fn.scope)) return false;
    const bindings = all.filter((b) => !b.op);
    if (bindings.length === 0) return false;
    const reads = bindings.map((b) => entryRead(b.value!));
    read = reads[0];
    if (!read || reads.some((r) => r?.container !== read!.container || r.entry !== read!.entry)) return false;
  } else if (target.kind === 'index') {
    read = entryRead(target);
  }
  if (!read) return false;
  const stored = storesOf(fn).get(`${read.container}|${read.entry}`);
  if (!stored) return false;
  return site.increment.every((s) => {
    if (s.sign !== 1 || s.den.length > 0) return false;
    const tensors = s.num.filter((f) => !isScalar(f));
    if (tensors.length !== 1 || tensors.length !== s.num.length) return false;
    const key = coreKey(tensors[0].expr);
    return key !== undefined && stored.has(key);
  });
}
