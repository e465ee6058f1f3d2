// A name an optimizer's update step reads its own state into, whatever it is called: every binding of
// the name in the function is an entry of (or is) a field that holds what the optimizer's slot factory
// made (`self.I_buffer.append(self.add_variable_from_reference(reference_variable=v, ...))` in `build`,
// `b = self.I_buffer[self._get_variable_index(variable)]` in `update_step`), or a slot factory's call
// itself (`m = self.get_slot(var, "m")`). `b.assign(b * momentum + d_p)` then updates a momentum
// buffer, not a weight: the weight's own step (`variable.assign_add(-lr * d_p)`) is judged apart
// (steps.ts, `movesModelParameter`). Slot factories: catalogue.ts.
import type { Expr, Stmt } from '../ir';
import type { Facts } from './index';
import type { Scope } from './scope';
import { OPTIMIZER_SLOT_FACTORIES } from './catalogue';
import { ownStatements, programIndex, walkAll } from './program';
import { someExpr } from './scope';

const slotFieldsCache = new WeakMap<Facts, ReadonlySet<string>>();

function isSlotCall(e: Expr): boolean {
  return e.kind === 'call' && e.callee.kind === 'attr' && OPTIMIZER_SLOT_FACTORIES.has(e.callee.name);
}

/** A value made by a slot factory: the call, or a list/comprehension of such calls. */
function madeBySlotFactory(e: Expr): boolean {
  if (isSlotCall(e)) return true;
  if (e.kind === 'comprehension') return isSlotCall(e.element);
  if (e.kind === 'seq') return e.items.length > 0 && e.items.every(isSlotCall);
  return false;
}

/** The fields of the file that hold what a slot factory made: `self.F.append(slot)`, `self.F = [slot …]`, `self.F[i] = slot`. */
function slotFields(facts: Facts): ReadonlySet<string> {
  let fields = slotFieldsCache.get(facts);
  if (fields) return fields;
  const out = new Set<string>();
  const stmts: Stmt[] = [];
  walkAll(facts.module.body, (e) => {
    if (e.kind === 'call' && e.callee.kind === 'attr' && e.callee.name === 'append' && e.callee.object.kind === 'attr' && e.args.length === 1 && isSlotCall(e.args[0])) out.add(e.callee.object.name);
  });
  for (const stmt of programIndex(facts).blockOf.keys()) stmts.push(stmt);
  for (const stmt of stmts) {
    if (stmt.kind !== 'assign' || stmt.targets.length !== 1 || stmt.op) continue;
    let t = stmt.targets[0];
    while (t.kind === 'index') t = t.object;
    if (t.kind === 'attr' && madeBySlotFactory(stmt.value)) out.add(t.name);
  }
  slotFieldsCache.set(facts, (fields = out));
  return fields;
}

/** A field that holds slots, or an entry of one: `self.F`, `self.F[i]`. */
function slotPlace(e: Expr, fields: ReadonlySet<string>): boolean {
  while (e.kind === 'index') e = e.object;
  return e.kind === 'attr' && fields.has(e.name);
}

/** Is the local `name`, in the function that owns `scope`, bound only to an optimizer slot (see above)? */
export function holdsOptimizerSlot(facts: Facts, name: string, scope: Scope, at: number): boolean {
  // A file that calls no slot factory holds no slot (asked for every step, so decided once per file).
  if (!callsSlotFactory(facts)) return false;
  // Two `def true_fn()` in one function share a name: the innermost definition around the step decides.
  const body = programIndex(facts).functionOfScope(scope)?.body ?? innermostFunction(facts.module.body, at, 0);
  if (!body) return false;
  const values = localBindings(body).get(name);
  if (!values) return false;
  const fields = slotFields(facts);
  return values.every((v) => isSlotCall(v) || slotPlace(v, fields));
}

const slotCallCache = new WeakMap<Facts, boolean>();

function callsSlotFactory(facts: Facts): boolean {
  let known = slotCallCache.get(facts);
  if (known === undefined) {
    known = false;
    walkAll(facts.module.body, (e) => {
      if (isSlotCall(e)) known = true;
    });
    slotCallCache.set(facts, known);
  }
  return known;
}

const bindingsCache = new WeakMap<Stmt[], Map<string, Expr[] | null>>();

/**
 * Per function body, each local's assigned values, in one pass (a step asks once per write, so a scan per
 * ask is quadratic in a long function); `null` where the name is also unpacked from a sequence.
 */
function localBindings(body: Stmt[]): Map<string, Expr[] | null> {
  let out = bindingsCache.get(body);
  if (out) return out;
  out = new Map();
  for (const s of ownStatements(body)) {
    if (s.kind !== 'assign') continue;
    for (const t of s.targets) {
      if (t.kind === 'name') {
        const known = out.get(t.name);
        if (known === undefined) out.set(t.name, [s.value]);
        else if (known) known.push(s.value);
      } else if (t.kind === 'seq') {
        someExpr(t, (x) => {
          if (x.kind === 'name') out!.set(x.name, null);
          return false;
        });
      }
    }
  }
  bindingsCache.set(body, out);
  return out;
}

/** The body of the innermost function definition whose span holds `at`. */
function innermostFunction(body: Stmt[], at: number, depth: number): Stmt[] | undefined {
  if (depth > 60) return undefined;
  for (const s of body) {
    if (s.span.start > at || s.span.end <= at) continue;
    if (s.kind === 'function') return innermostFunction(s.body, at, depth + 1) ?? s.body;
    if (s.kind === 'class' || s.kind === 'block' || s.kind === 'for') return innermostFunction(s.body, at, depth + 1);
  }
  return undefined;
}
