// Lowering that reuses the statements of top-level nodes an edit left alone. After an incremental
// re-parse, a top-level node keeps its statements when it lies outside the edited region and
// outside every range whose syntax tree-sitter reports as changed (`Tree.getChangedRanges`), has
// no syntax error, and had the same place (shifted by the edit) and type before. Statements before
// the edit are shared with the previous version; those after it are copied with their spans moved.
// Sharing is sound because nothing changes IR after lowering, and whatever is keyed by an IR node
// lives in one parse (its scopes) or one program (the analyzer's memos, `lambdaFunction`), never
// across versions. Python only: its lowerer reads nothing outside a node, while the TS/JS lowerer
// reads the JSDoc comment before a declaration.
import type { Edit, Range, Tree } from 'web-tree-sitter';
import type { Module, Span, Stmt } from '../ir';
import type { LanguageId } from '../types';
import { collectErrors, type LoweredUnit } from './common';
import { lower } from './index';
import { PythonLowerer } from './python';

/** The previous version of a text: its lowered top-level units, its base, the edit, and what tree-sitter says changed. */
export interface PreviousLowering {
  units: readonly LoweredUnit[];
  base: number;
  edit: Edit;
  changed: readonly Range[];
}

/** `lower`, with each top-level node's statements kept (`units`) for the next version, and taken from `previous` where the edit left a node alone. */
export function lowerReusing(tree: Tree, text: string, language: LanguageId, base: number, previous?: PreviousLowering): { module: Module; units?: LoweredUnit[] } {
  if (language !== 'python') return { module: lower(tree, text, language, base) };
  const lowerer = new PythonLowerer(text, tree.language, base);
  const { body, units } = lowerer.moduleUnits(tree.rootNode, previous && reuser(previous, base));
  return { module: { body, errors: collectErrors(tree, base, text, language), truncated: lowerer.truncated }, units };
}

function reuser(previous: PreviousLowering, base: number): (node: { startIndex: number; endIndex: number; hasError: boolean }, type: string) => LoweredUnit | undefined {
  const byPlace = new Map<string, LoweredUnit>();
  for (const unit of previous.units) byPlace.set(`${unit.start}:${unit.end}:${unit.type}`, unit);
  const { startIndex, oldEndIndex, newEndIndex } = previous.edit;
  const delta = newEndIndex - oldEndIndex;
  return (node, type) => {
    const start = node.startIndex;
    const end = node.endIndex;
    // Where the node was before the edit; a node touching the edited region is lowered again.
    let moved: number;
    if (end < startIndex) moved = 0;
    else if (start > newEndIndex) moved = delta;
    else return undefined;
    for (const r of previous.changed) if (r.startIndex <= end && start <= r.endIndex) return undefined;
    const unit = byPlace.get(`${start - moved}:${end - moved}:${type}`);
    if (!unit || node.hasError) return undefined;
    const shift = base - previous.base + moved;
    if (shift === 0) return { start, end, type, stmts: unit.stmts, truncated: unit.truncated };
    const stmts = copyShifted(unit.stmts, shift);
    for (let i = 0; i < stmts.length; i++) copies.set(stmts[i], unit.stmts[i]);
    return { start, end, type, stmts, truncated: unit.truncated };
  };
}

/** Each statement copied from a previous version, with the statement it copies (its spans moved by the edit). */
const copies = new WeakMap<Stmt, Stmt>();

/** The statement of the previous version that `stmt` is a moved copy of, if it is one. */
export function copiedFrom(stmt: Stmt): Stmt | undefined {
  return copies.get(stmt);
}

/**
 * A deep copy of lowered IR with every span moved by `shift`. The IR is a tree apart from span
 * objects (test/engine/incremental.test.ts checks it), and nothing compares spans by identity,
 * so a plain copy is exact.
 */
export function copyShifted<T>(value: T, shift: number): T {
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out[i] = typeof item === 'object' && item !== null ? copyShifted(item, shift) : item;
    }
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key in value as Record<string, unknown>) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'object' || item === null) out[key] = item;
    else if (key === 'span' || key === 'opSpan' || key === 'nameSpan' || key === 'headSpan' || key === 'parenSpan') out[key] = { start: (item as Span).start + shift, end: (item as Span).end + shift };
    else out[key] = copyShifted(item, shift);
  }
  return out as T;
}
