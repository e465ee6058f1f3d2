// Calls through a table of functions: `self.handlers[kind](block)` with `self.handlers = {'net':
// self._on_net, 'convolutional': self._on_conv}` set by a method of the class (a darknet `.cfg`
// parser's section handlers), or a local or module-level table (`handlers[kind](x)`). The call may
// run any entry the key picks; a summary of what calling it builds (loops.ts: a regularized layer)
// reads each of them. Read by data flow from the table's literal, never from names.
import type { Expr } from '../ir';
import type { Program } from '../program';
import type { FunctionDef, Scope } from './scope';
import { chosenEntry, enclosingClass, isSelfName, lambdaFunction, methodOf, resolveExpr } from './resolve';

const MAX_ENTRIES = 32;

/** The project functions a call through a table of functions may run (undefined: no such table, or none of its entries is one). */
export function dispatchedFunctions(program: Program, call: Expr & { kind: 'call' }, scope: Scope, at: number): FunctionDef[] | undefined {
  const callee = call.callee;
  if (callee.kind !== 'index' || callee.index.length !== 1) return undefined;
  const chosen = chosenEntry(program, callee, scope, at, 0);
  if (chosen && chosen.length > 0) return chosen;
  return fieldTableEntries(program, callee.object, scope);
}

/** `self.handlers` whose every store in the class is a dict/object literal: the project functions among its entries. */
function fieldTableEntries(program: Program, table: Expr, scope: Scope): FunctionDef[] | undefined {
  if (table.kind !== 'attr' || table.object.kind !== 'name' || !isSelfName(table.object.name)) return undefined;
  const cls = enclosingClass(scope);
  if (!cls || methodOf(program, cls, table.name)) return undefined;
  const stores = cls.scope.members.get(`${table.object.name}.${table.name}`) ?? [];
  if (stores.length === 0) return undefined;
  const out = new Set<FunctionDef>();
  for (const b of stores) {
    if (b.kind !== 'assign' || b.op || b.value?.kind !== 'object') return undefined;
    for (const entry of b.value.entries) {
      const v = entry.value;
      let fn: FunctionDef | undefined;
      if (v.kind === 'lambda') fn = lambdaFunction(program, v, entry.name, b.scope);
      else if (v.kind === 'attr' && v.object.kind === 'name' && isSelfName(v.object.name)) fn = methodOf(program, cls, v.name);
      else if (v.kind === 'name' || v.kind === 'attr') {
        const def = resolveExpr(program, v, b.scope, b.at);
        fn = def?.kind === 'function' ? def.fn : undefined;
      }
      if (fn) out.add(fn);
      if (out.size > MAX_ENTRIES) return undefined;
    }
  }
  return out.size > 0 ? [...out] : undefined;
}
