// The default exclusions of a folder walk (server/engine/defaultExclude.ts): which JavaScript reads as minified.
import * as assert from 'node:assert/strict';
import { isDefaultExcludedFolder, isMinifiedName, looksMinified, mayBeMinified } from '../../server/engine/defaultExclude';

describe('engine/defaultExclude', function () {
  it('names build output, environments and caches, and only whole names', function () {
    for (const name of ['build', 'dist', '_build', 'buck-out', 'venv', '.venv', 'node_modules', '.git', '__pycache__']) assert.ok(isDefaultExcludedFolder(name), name);
    for (const name of ['builder', 'distributed', 'Build', 'src', 'models']) assert.ok(!isDefaultExcludedFolder(name), name);
  });

  it('reads JavaScript only, and a .min name as minified', function () {
    assert.ok(mayBeMinified('a.js') && mayBeMinified('a.mjs') && mayBeMinified('a.cjs'));
    assert.ok(!mayBeMinified('a.ts') && !mayBeMinified('a.py'));
    assert.ok(isMinifiedName('jquery-1.8.3.min.js') && isMinifiedName('ort.min.mjs'));
    assert.ok(!isMinifiedName('admin.js') && !isMinifiedName('min.js'));
  });

  it('tells minified code from long lines of data and from hand-written code', function () {
    const code = 'var a=f(a);if(b){c(d);}'.repeat(100);
    assert.ok(looksMinified(`/*! lib v1 | MIT */\n${code}\n`), 'a licence line, then one long line of code');
    assert.ok(!looksMinified(`export const table = [${'0.125, '.repeat(400)}0];\n`), 'one long line of numbers');
    assert.ok(!looksMinified(`const x = {${'"k": [1, 2], '.repeat(100)}};\n`), 'a long object of data');
    const handWritten = Array.from({ length: 200 }, (_, i) => `  const v${i} = compute(v${i - 1}, rate);`).join('\n');
    assert.ok(!looksMinified(`${handWritten}\nconst icon = '${'<path d="M0 0L1 1"/>'.repeat(60)}';\n`), 'a script with one long inlined image');
    assert.ok(!looksMinified(''), 'empty');
  });
});
