// Optimizer state kept in a field that only ever holds None (NB407). A step reads the field into a
// local (`m, v = self.m, self.v`), builds the local afresh when it is None (`if m is None: m = {…}`),
// averages the local's entries from their old values (`m[k] = b1 * m[k] + …`), and never stores the
// local in the field. The field's only write in the file is its None start, so the test holds on every
// call and every step averages from zero: the moments never carry over. Decided by data flow: the
// field's writes, the local's binding, the test and the update that reads its own old entry.
import type { Expr, Span, Stmt } from '../ir';
import type { Facts } from './index';
import { programIndex, definedInFile } from './program';
import { isNoneLiteral } from './catalogue';
import { exprKey } from './keys';
import { subExprs } from './loops';
import { isSelfName } from './resolve';
import type { FunctionDef } from './scope';

export interface NoneOnlyState {
  /** The field as written (`self.m`) and the local that stands for it (`m`). */
  field: string;
  local: string;
  /** Other such fields the same block rebuilds a local of (`v` beside `m`). */
  alongside: string[];
  /** The test that the local holds nothing (`m is None`, `not m`). */
  test: Span;
  /** The statement that builds the local afresh under the None test. */
  rebuilt: Span;
  /** An update of the local's entry from its old value. */
  update: Span;
  /** The field's None start, its only write. */
  start: Span;
  fn: FunctionDef;
}

const cache = new WeakMap<Facts, NoneOnlyState[]>();

export function noneOnlyStates(facts: Facts): NoneOnlyState[] {
  let found = cache.get(facts);
  if (!found) cache.set(facts, (found = collect(facts)));
  return found;
}

/** `self.F` (or `this.F`) as the field's name, else undefined. */
function selfField(e: Expr): string | undefined {
  return e.kind === 'attr' && e.object.kind === 'name' && isSelfName(e.object.name) ? e.name : undefined;
}

/** Each (target, value) pair an assignment makes, tuples paired item by item. */
function pairs(st: Stmt & { kind: 'assign' }): { target: Expr; value: Expr | undefined }[] {
  const out: { target: Expr; value: Expr | undefined }[] = [];
  for (const t of st.targets) {
    if (t.kind === 'seq') {
      const items = st.value.kind === 'seq' && st.value.items.length === t.items.length ? st.value.items : undefined;
      t.items.forEach((item, i) => out.push({ target: item, value: items?.[i] }));
    } else out.push({ target: t, value: st.op ? undefined : st.value });
  }
  return out;
}

function collect(facts: Facts): NoneOnlyState[] {
  if (facts.language !== 'python') return [];
  // Fields set some other way than by assignment may hold anything.
  if (/\bsetattr\b|__dict__|\bvars\(/.test(facts.text)) return [];
  const index = programIndex(facts);
  // Every write of an attribute name in the file: its None starts on `self`, and whether any other write exists.
  const starts = new Map<string, Span>();
  const written = new Set<string>();
  for (const st of index.stmtBySpan.values()) {
    if (st.kind !== 'assign') continue;
    for (const { target, value } of pairs(st)) {
      const attr = target.kind === 'attr' ? target.name : undefined;
      if (attr === undefined) continue;
      if (selfField(target) !== undefined && value && isNoneLiteral(value) && !st.op) starts.set(attr, starts.get(attr) ?? st.span);
      else written.add(attr);
    }
  }
  const noneOnly = [...starts.keys()].filter((f) => !written.has(f));
  if (noneOnly.length === 0) return [];
  const out: NoneOnlyState[] = [];
  for (const fn of index.functions) {
    if (!fn.cls || !definedInFile(facts, fn) || fn.cls.bases.length > 0) continue;
    // Locals bound from a None-only field at the top of the body.
    const locals = new Map<string, string>();
    for (const st of fn.body) {
      if (st.kind === 'assign') {
        for (const { target, value } of pairs(st)) {
          if (target.kind !== 'name') continue;
          const field = value ? selfField(value) : undefined;
          if (field !== undefined && noneOnly.includes(field)) locals.set(target.name, field);
          else locals.delete(target.name);
        }
        continue;
      }
      if (st.kind !== 'block' || st.label !== 'if' || st.heads.length !== 1) continue;
      const local = noneTested(st.heads[0]);
      const field = local !== undefined ? locals.get(local) : undefined;
      if (local === undefined || field === undefined) continue;
      const rebuilt = st.body.find((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign' && pairs(s).some((p) => p.target.kind === 'name' && p.target.name === local && p.value !== undefined && !isNoneLiteral(p.value)));
      if (!rebuilt) continue;
      const update = entryUpdate(fn.body.slice(fn.body.indexOf(st) + 1), local);
      if (!update) continue;
      const alongside = st.body.flatMap((s) => (s.kind === 'assign' ? pairs(s) : []))
        .flatMap((p) => (p.target.kind === 'name' && p.target.name !== local && locals.has(p.target.name) ? [`self.${locals.get(p.target.name)}`] : []));
      out.push({ field: `self.${field}`, local, alongside: [...new Set(alongside)], test: st.heads[0].span, rebuilt: rebuilt.span, update, start: starts.get(field)!, fn });
      locals.delete(local);
    }
  }
  return out;
}

/** `x is None`, `not x`: the name tested for holding nothing. */
function noneTested(e: Expr): string | undefined {
  if (e.kind === 'unary' && e.op === 'not' && e.arg.kind === 'name') return e.arg.name;
  if (e.kind === 'other' && e.ops?.length === 1 && (e.ops[0] === 'is' || e.ops[0] === '==') && e.children.length === 2) {
    const [l, r] = e.children;
    if (l.kind === 'name' && isNoneLiteral(r)) return l.name;
  }
  return undefined;
}

/** The first statement (at any depth) that writes an entry of `local` from that entry's old value: `m[k] = b * m[k] + …`. */
function entryUpdate(body: Stmt[], local: string, depth = 0): Span | undefined {
  if (depth > 40) return undefined;
  for (const st of body) {
    if (st.kind === 'assign' && !st.op) {
      for (const t of st.targets) {
        if (t.kind !== 'index' || t.object.kind !== 'name' || t.object.name !== local) continue;
        const key = exprKey(t);
        if (key !== undefined && subExprs(st.value).some((x) => x.kind === 'index' && exprKey(x) === key)) return st.span;
      }
    }
    // A local bound again is another value from here on.
    if (st.kind === 'assign' && st.targets.some((t) => t.kind === 'name' && t.name === local)) return undefined;
    if (st.kind === 'function' || st.kind === 'class') continue;
    if (st.kind === 'for' || st.kind === 'block') {
      const inner = entryUpdate(st.body, local, depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}
