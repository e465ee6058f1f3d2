import * as assert from 'node:assert/strict';
import { baseOf, fileIdOf, makeSourceFile } from '../../server/engine/source';

describe('engine/source: one position space for all files', function () {
  const cases: [id: number, length: number][] = [
    [0, 0],
    [0, 5_000],
    [1, 1_000_000],
    [2, 40],
    [300, 2 ** 21 - 1],
    [1023, 2 ** 21 - 1],
    [1024, 10],
    [7, 2 ** 21],
    [7, 50_000_000],
    [5_000, 3_000_000],
  ];

  it('maps every offset of a file, first and last, back to its id', function () {
    for (const [id, length] of cases) {
      const base = baseOf(id, length);
      assert.equal(fileIdOf(base), id, `start of file ${id} (${length} chars)`);
      assert.equal(fileIdOf(base + length), id, `end of file ${id} (${length} chars)`);
    }
  });

  it('never lets two files overlap, whatever their sizes', function () {
    const ranges = cases.map(([id, length]) => ({ id, start: baseOf(id, length), end: baseOf(id, length) + length }));
    for (const a of ranges) for (const b of ranges) if (a.id !== b.id) assert.ok(a.end < b.start || b.end < a.start, `files ${a.id} and ${b.id} overlap`);
  });

  it('keeps the offsets of the first 1,024 files of up to 2 MB below 2³¹ (small integers for V8)', function () {
    const file = makeSourceFile(1023, 'm.py', 'x'.repeat(2 ** 21 - 1), 'python');
    assert.ok(file.base + file.text.length < 2 ** 31);
    assert.ok(makeSourceFile(1024, 'n.py', 'x = 1\n', 'python').base >= 2 ** 31);
  });
});
