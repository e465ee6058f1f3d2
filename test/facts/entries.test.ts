// `readsOtherEntry` (facts/entries.ts): does a read pick another entry of the array an update writes?
// A whole axis (`:`, `::`, `...`) is told from the slice's parts in the IR, not from its text, and a
// view of the array (`W.T[i]`, `p.data[i]`) is not compared at all.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { readsOtherEntry, writtenAlike } from '../../server/engine/facts/entries';
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
    const { v } = values(['t = W[i]', 'a = W[i, :]', 'b = W[i, ::]', 'c = W[i, ...]', 'd = W[j]', 'e = W[i, ::2]', 'f = W[1:]', 'g = W[i][:]']);
    const other = (n: string): boolean => readsOtherEntry(v('t'), v(n), () => undefined);
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

  it('compares slices, comparisons and sequences by their parts in the IR, not their text', () => {
    const { v } = values(['a = W[i, 1:n]', 'b = W[i, 1 : n]', 'c = W[i, 1:m]', 'd = W[i, :1]', 'e = W[i, 1:]', 'f = W[x < y]', 'g = W[x <= y]', 'h = W[x<y]', 'k = W[(i, j)]', 'l = W[(i, k)]', 'm = W[i, ...]']);
    const alike = (x: string, y: string): boolean => writtenAlike(v(x), v(y));
    assert.equal(alike('a', 'b'), true);
    assert.equal(alike('a', 'c'), false);
    assert.equal(alike('d', 'e'), false);
    assert.equal(alike('f', 'h'), true);
    assert.equal(alike('f', 'g'), false);
    assert.equal(alike('k', 'k'), true);
    assert.equal(alike('k', 'l'), false);
    assert.equal(alike('m', 'm'), true);
    assert.equal(alike('m', 'a'), false);
  });

  it('an index bound elsewhere (another file, other offsets) compares by what it is', () => {
    // `k` and `j` are bound to the same comparison in two texts: the same entry.
    const here = values(['t = W[k]', 'r = W[j]', 'k = x < y']);
    const there = values(['', '', '', '', 'j = x < y']);
    const valueOf = (n: string): Expr | undefined => (n === 'k' ? here.v('k') : n === 'j' ? there.v('j') : undefined);
    assert.equal(readsOtherEntry(here.v('t'), here.v('r'), valueOf), false);
  });

  it('reads no entry through a view of the array (`W.T[j]`, `p.data[j]`, `v.value[j]`)', () => {
    const { v } = values(['t = W[i]', 'a = W.T[j]', 'b = W.data[j]', 'c = W.value[j]', 'd = W.mT[j]', 'e = W.rows[j]']);
    const other = (n: string): boolean => readsOtherEntry(v('t'), v(n), () => undefined);
    assert.deepEqual(['a', 'b', 'c', 'd'].map(other), [false, false, false, false]);
    assert.equal(other('e'), true);
  });
});
