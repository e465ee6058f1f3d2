// `exprKey` (facts/keys.ts) keys a subscript by its index as the IR holds it: a slice by the parts
// written, `...`, a comparison mask by its operands and operators. Two different indices never share
// a key; an index with no key is `[?]`.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { exprKey } from '../../server/engine/facts/keys';
import type { LanguageId } from '../../server/engine/types';

function keys(lines: string[], language: LanguageId = 'python'): (string | undefined)[] {
  const text = [...lines, ''].join('\n');
  return analyzeDocument(text, language).module.body.map((s) => (s.kind === 'assign' ? exprKey(s.value) : undefined));
}

describe('facts: keys of subscripts', () => {
  before(() => initEngine());

  it('keys a slice by its parts, and the whole axis as `:`', () => {
    assert.deepEqual(keys(['a = W[:]', 'b = W[::]', 'c = W[1:]', 'd = W[:n]', 'e = W[::2]', 'f = W[1:n:2]', 'g = W[:-1]', 'h = W[i, :]', 'k = W[...]', 'l = W[i, ...]']), [
      'W[:]',
      'W[:]',
      'W[1:]',
      'W[:n]',
      'W[::2]',
      'W[1:n:2]',
      'W[:-1]',
      'W[i, :]',
      'W[...]',
      'W[i, ...]',
    ]);
  });

  it('tells different computed indices apart, and gives an index it cannot key `[?]`', () => {
    assert.deepEqual(keys(['a = W[g > 0]', 'b = W[g < 0]', 'c = W[0 < g <= 1]', 'd = W[m and k]', 'e = W[a + 1:]', 'f = W[i + 1]', 'g = W["dW"]']), [
      'W[g > 0]',
      'W[g < 0]',
      'W[0 < g <= 1]',
      'W[m and k]',
      'W[?]',
      'W[?]',
      'W["dW"]',
    ]);
    assert.deepEqual(keys(['a = w[i++];', 'b = w[x === y];', 'c = w[i];'], 'javascript'), ['w[?]', 'w[x == y]', 'w[i]']);
  });

  it('keeps the grouping of a mask made of masks: nested comparisons and boolean operators are not one chain', () => {
    assert.deepEqual(keys(['a = W[(x < y) == z]', 'b = W[x < y == z]', 'c = W[x < (y == z)]', 'd = W[m and k or j]', 'e = W[m and (k or j)]']), [
      'W[(x < y) == z]',
      'W[x < y == z]',
      'W[x < (y == z)]',
      'W[(m and k) or j]',
      'W[m and (k or j)]',
    ]);
    assert.deepEqual(keys(['a = w[(x < y) === z];', 'b = w[x < (y === z)];'], 'javascript'), ['w[(x < y) == z]', 'w[x < (y == z)]']);
  });

  it("keys an entry built from a literal by its text, in every spelling: 'W%d' % i, 'W{}'.format(i), 'W' + str(i), f'W{i}'", () => {
    assert.deepEqual(keys(["a = p['W%d' % i]", "b = p['gamma%d' % i]", "c = p['W{}'.format(i)]", "d = p['W' + str(i)]", "e = p[f'W{i}']", "f = p['W%d_%s' % (i, j)]", "g = p['W%%%d' % i]"]), [
      'p["W{i}"]',
      'p["gamma{i}"]',
      'p["W{i}"]',
      'p["W{i}"]',
      'p["W{i}"]',
      'p["W{i}_{j}"]',
      'p["W%{i}"]',
    ]);
    // `'W' + tag` with `tag = str(i)` bound elsewhere: by its text, one key per name, never `[?]`.
    assert.deepEqual(keys(["a = p['W' + tag]", "b = p['b' + tag]", "c = p['W' + str(tag)]", "d = p['' + tag]"]), ['p["W{tag}"]', 'p["b{tag}"]', 'p["W{tag}"]', 'p[?]']);
    // An index computed from the loop variable: one key in every spelling, whatever the spaces.
    assert.deepEqual(
      keys(["a = p['W{}'.format(i + 1)]", "b = p[f'W{i+1}']", "c = p['W%d' % (i + 1)]", "d = p['W' + str(i + 1)]", "e = p[f'W{i + 1}']", "f = p['b' + str(2 * (l - 1))]", "g = p[f'b{2*(l-1)}']"]),
      ['p["W{i+1}"]', 'p["W{i+1}"]', 'p["W{i+1}"]', 'p["W{i+1}"]', 'p["W{i+1}"]', 'p["b{2*(l-1)}"]', 'p["b{2*(l-1)}"]'],
    );
    // An f-string field with a conversion or a format spec keeps its text; `W{i+1}` and `W{i-1}` are two keys.
    assert.deepEqual(keys(["a = p[f'W{i:02d}']", "b = p[f'W{i!r}']", "c = p['W{}'.format(i - 1)]"]), ['p["W{i:02d}"]', 'p["W{i!r}"]', 'p["W{i-1}"]']);
    // No key when the text cannot be told: a mapping key, another conversion, an argument with no key, a count that differs.
    assert.deepEqual(keys(["a = p['W%(i)d' % v]", "b = p['W%x' % i]", "c = p['W%d' % (i / 2)]", "d = p['W%d%d' % i]", "e = p['W%d' % (i, j)]"]), ['p[?]', 'p[?]', 'p[?]', 'p[?]', 'p[?]']);
  });
});
