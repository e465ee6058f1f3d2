// Writes of a field by name on objects that are not `self`/`this`: `unit.error = target - unit.out`,
// `net.layers[l - 1][k].error = unit.error * unit.w[k]`. A hand-written net keeps each unit's error on
// the unit objects of a list of layers and reads it back through another alias of the same units
// (`const unit = net.layers[l][j]` in a later loop), where no binding of `unit.error` reaches the read:
// what the field holds is then what every write of that field name in the file stores
// (direction.ts, `fieldRead`). Indexed once per file, by field name, on first use.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { Scope } from './scope';
import { isSelfName } from './resolve';
import { baseExpr } from './keys';
import { programIndex } from './program';
import { isFrameworkField } from './catalogue';

export interface FieldWrite {
  /** The written place (`unit.error`, `net.layers[l - 1][k].error`). */
  target: Expr & { kind: 'attr' };
  value: Expr;
  /** `+=`, `-=`, `*=`, `/=`; undefined for `=`. */
  op?: '+' | '-' | '*' | '/';
  scope: Scope;
  at: number;
  stmt: Stmt & { kind: 'assign' };
}


/** The name an attribute chain or subscript starts from: `net` in `net.layers[l][k].error`. */
export function rootName(e: Expr): string | undefined {
  for (;;) {
    if (e.kind === 'name') return e.name;
    if (e.kind === 'attr' || e.kind === 'index') e = e.object;
    else return undefined;
  }
}

/** Whether a read or write `X.f` is on an object that is not the instance (`self.x`, `this.x` have bindings through their class). */
export function isObjectField(e: Expr): e is Expr & { kind: 'attr' } {
  if (e.kind !== 'attr' || isFrameworkField(e.name)) return false;
  const root = rootName(e.object);
  return root !== undefined && !isSelfName(root) && root !== 'cls';
}

const cache = new WeakMap<Facts, Map<string, FieldWrite[]>>();

/** Every write of field `name` on an object that is not self/this in the file, in source order. */
export function fieldWrites(facts: Facts, name: string): FieldWrite[] {
  let byName = cache.get(facts);
  if (!byName) {
    byName = new Map();
    cache.set(facts, byName);
    for (const stmt of programIndex(facts).blockOf.keys()) {
      if (stmt.kind !== 'assign' || stmt.targets.length !== 1) continue;
      const target = stmt.targets[0];
      if (!isObjectField(target)) continue;
      const scope = facts.scopes.stmtScopes.get(stmt) ?? facts.scopes.root;
      const write: FieldWrite = { target, value: stmt.value, op: stmt.op, scope, at: stmt.span.start, stmt };
      const list = byName.get(target.name);
      if (list) list.push(write);
      else byName.set(target.name, [write]);
    }
    for (const list of byName.values()) list.sort((a, b) => a.at - b.at);
  }
  return byName.get(name) ?? [];
}

/** Whether the file steps a field of that name as a parameter (`unit.b -= lr * unit.error`): a weight, not a quantity carried back. */
export function isSteppedField(facts: Facts, name: string): boolean {
  let stepped = steppedCache.get(facts);
  if (!stepped) {
    stepped = new Set();
    steppedCache.set(facts, stepped);
    for (const site of facts.updates) {
      if (site.kind !== 'update') continue;
      const base = baseExpr(site.target);
      if (base.kind === 'attr') stepped.add(base.name);
    }
  }
  return stepped.has(name);
}

const steppedCache = new WeakMap<Facts, Set<string>>();

