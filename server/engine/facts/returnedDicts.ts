// Entries of a dict a project function returns, read where the caller indexes its result by a
// constant key: `out = model(batch)` then `out["l2"]`, where `forward` returns `{"loss": …, "l2":
// self.l2()}` or fills a dict it returns by item (`out_dict[LOSS_L2] = self.l2(out_dict)`, with
// `LOSS_L2 = "loss_l2"` a module constant). Recommender and other research code hands its losses and
// penalties back this way and sums them in a runner; the entry is what the function stored under
// that key. Read in the IR by data flow: literal keys and constants bound once to a string.
import type { Expr, Stmt } from '../ir';
import type { Program } from '../program';
import type { FunctionDef, Scope } from './scope';
import { exprKey } from './keys';
import { ownStatements } from './program';
import { resolveExpr, returnsOf } from './resolve';

/** A value the function stores under a key of the dict it returns, with where it is read. */
export interface DictEntry {
  value: Expr;
  scope: Scope;
  at: number;
}

const MAX_HOPS = 4;
/** Per program (a key may be a constant of another file, which a later program may change), per function, per key. */
const memo = new WeakMap<Program, WeakMap<FunctionDef, Map<string, DictEntry | null>>>();

/** The string a key expression holds: a literal, or a name (or module member) bound once to one. */
export function constantKey(program: Program, e: Expr, scope: Scope, at: number, hops = 0): string | undefined {
  if (e.kind === 'str') return e.value;
  if (hops > MAX_HOPS || (e.kind !== 'name' && e.kind !== 'attr')) return undefined;
  const key = exprKey(e);
  const local = key !== undefined ? scope.lookup(key, at) : undefined;
  if (local) {
    if (local.kind !== 'assign' || local.op || !local.value || local.scope.allBindings(local.key).length !== 1) return undefined;
    return constantKey(program, local.value, local.scope, local.at, hops + 1);
  }
  const def = resolveExpr(program, e, scope, at);
  return def?.kind === 'value' ? constantKey(program, def.expr, def.scope, def.at, hops + 1) : undefined;
}

/**
 * What `fn` stores under `key` in the dict it returns: every return must hand back a dict literal
 * holding the key, or a local whose last item write of that key (at the function's top level, after
 * the binding that reaches the return) stores it, or, with no such write, a local bound once to a
 * dict literal holding it. Undefined when any return does otherwise or two returns store different values.
 */
export function returnedDictEntry(program: Program, fn: FunctionDef, key: string): DictEntry | undefined {
  let byFn = memo.get(program);
  if (!byFn) memo.set(program, (byFn = new WeakMap()));
  let byKey = byFn.get(fn);
  if (!byKey) byFn.set(fn, (byKey = new Map()));
  const known = byKey.get(key);
  if (known !== undefined) return known ?? undefined;
  byKey.set(key, null);
  const found = readEntry(program, fn, key);
  byKey.set(key, found ?? null);
  return found;
}

function readEntry(program: Program, fn: FunctionDef, key: string): DictEntry | undefined {
  const returns = returnsOf(program, fn);
  if (returns.length === 0) return undefined;
  let found: DictEntry | undefined;
  for (const r of returns) {
    const entry = entryOf(program, fn, r.expr, r.scope, r.at, key);
    if (!entry || (found && found.value !== entry.value)) return undefined;
    found = entry;
  }
  return found;
}

function entryOf(program: Program, fn: FunctionDef, e: Expr, scope: Scope, at: number, key: string): DictEntry | undefined {
  if (e.kind === 'object') {
    const entries = e.entries.filter((x) => x.name === key);
    return entries.length === 1 ? { value: entries[0].value, scope, at } : undefined;
  }
  if (e.kind !== 'name') return undefined;
  // The binding that reaches the return, then the item writes after it (`out[LOSS_L2] = …`).
  const b = scope.lookup(e.name, at);
  if (!b || b.kind !== 'assign' || b.op || !b.value) return undefined;
  let last: (Stmt & { kind: 'assign' }) | undefined;
  const top = new Set<Stmt>(fn.body);
  for (const st of ownStatements(fn.body)) {
    if (st.kind !== 'assign' || st.span.start < b.at || st.span.start >= at) continue;
    for (const t of st.targets) {
      if (t.kind !== 'index' || t.object.kind !== 'name' || t.object.name !== e.name) continue;
      const stScope = program.parsedOf(st.span)?.scopes.stmtScopes.get(st) ?? scope;
      const written = t.index.length === 1 ? constantKey(program, t.index[0], stScope, st.span.start) : undefined;
      // A key the reading cannot tell may be this one; a write of it in a branch or a loop may not run.
      if (written === undefined) return undefined;
      if (written !== key) continue;
      if (!top.has(st) || st.op) return undefined;
      last = st;
    }
  }
  if (last) return { value: last.value, scope: program.parsedOf(last.span)?.scopes.stmtScopes.get(last) ?? scope, at: last.span.start };
  return b.value.kind === 'object' && b.scope.allBindings(b.key).length === 1 ? entryOf(program, fn, b.value, b.scope, b.at, key) : undefined;
}
