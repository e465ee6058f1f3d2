// `readsOtherEntry` (facts/entries.ts): does a read pick another entry of the array an update writes?
// A whole axis (`:`, `::`, `...`) is told from the slice's parts in the IR, not from its text, and a
// view of the array (`W.T[i]`, `p.data[i]`) is not compared at all.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { readsOtherEntry } from '../../server/engine/facts/entries';
import type { Expr } from '../../server/engine/ir';

describe('facts: entries of one array', () => {
  before(() => initEngine());

  const values = (lines: string[]): { v: (n: string) => Expr; text: string } => {
    const text = [...lines, ''].join('\n');
    const out = new Map<string, Expr>();
    for (const s of analyzeDocument(text, 'python').module.body) if (s.kind === 'assign' && s.targets[0]?.kind === 'name') out.set(s.targets[0].name, s.value);
    return { v: (n) => out.get(n)!, text };
  };

  it('drops trailing whole axes (`:`, `::`, `...`) and keeps partial slices and indices', () => {
    const { v, text } = values(['t = W[i]', 'a = W[i, :]', 'b = W[i, ::]', 'c = W[i, ...]', 'd = W[j]', 'e = W[i, ::2]', 'f = W[1:]', 'g = W[i][:]']);
    const source = (e: Expr): string => text.slice(e.span.start, e.span.end);
    const other = (n: string): boolean => readsOtherEntry(v('t'), v(n), source, () => undefined);
    assert.equal(other('a'), false);
    assert.equal(other('b'), false);
    assert.equal(other('c'), false);
    assert.equal(other('g'), false);
    assert.equal(other('d'), true);
    // A step slice keeps part of the row: another index list than the one written.
    assert.equal(other('e'), true);
    // A slice alone keeps a range, not one entry.
    assert.equal(other('f'), false);
  });

  it('lowers a slice with the parts it writes, and `...` as an ellipsis', () => {
    const { v } = values(['a = W[:]', 'b = W[1:]', 'c = W[:n]', 'd = W[::2]', 'e = W[1:n:2]', 'f = W[...]']);
    const part = (n: string): Expr => (v(n) as Expr & { kind: 'index' }).index[0];
    const shape = (n: string): unknown => {
      const p = part(n);
      return p.kind === 'other' ? { slice: p.slice, ellipsis: p.ellipsis, children: p.children.length } : p.kind;
    };
    assert.deepEqual(shape('a'), { slice: [], ellipsis: undefined, children: 0 });
    assert.deepEqual(shape('b'), { slice: ['lower'], ellipsis: undefined, children: 1 });
    assert.deepEqual(shape('c'), { slice: ['upper'], ellipsis: undefined, children: 1 });
    assert.deepEqual(shape('d'), { slice: ['step'], ellipsis: undefined, children: 1 });
    assert.deepEqual(shape('e'), { slice: ['lower', 'upper', 'step'], ellipsis: undefined, children: 3 });
    assert.deepEqual(shape('f'), { slice: undefined, ellipsis: true, children: 0 });
  });

  it('reads no entry through a view of the array (`W.T[j]`, `p.data[j]`, `v.value[j]`)', () => {
    const { v, text } = values(['t = W[i]', 'a = W.T[j]', 'b = W.data[j]', 'c = W.value[j]', 'd = W.mT[j]', 'e = W.rows[j]']);
    const source = (e: Expr): string => text.slice(e.span.start, e.span.end);
    const other = (n: string): boolean => readsOtherEntry(v('t'), v(n), source, () => undefined);
    assert.deepEqual(['a', 'b', 'c', 'd'].map(other), [false, false, false, false]);
    assert.equal(other('e'), true);
  });
});
