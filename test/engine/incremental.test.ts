// Re-parsing the next version of a document from the previous tree (server/engine/document.ts)
// must give exactly what a fresh parse gives: the IR, the syntax errors and the findings.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, lintText, type LanguageId } from '../../server/engine';
import { forgetDocuments, parseSteps, singleEdit } from '../../server/engine/document';
import { LineIndex } from '../../server/engine/lineIndex';
import { lower } from '../../server/engine/lower';
import { parse } from '../../server/engine/parse';
import { makeSourceFile } from '../../server/engine/source';
import { runSteps } from '../../server/engine/stepwise';
import { trainingScriptOfLines } from '../../bench/trainingScript';

const root = path.resolve(__dirname, '../../..');

/**
 * The IR of a document parsed as the editor's documents are (server/engine/document.ts): from the
 * previous version's kept tree when there is one. Only the IR: the facts built on it are not what
 * these tests compare (a document's findings after an edit are, below and in differential.test.ts).
 */
function parseDocument(text: string, language: LanguageId): ReturnType<typeof lower> {
  return runSteps(parseSteps(makeSourceFile(0, '', text, language))).module;
}

function fresh(text: string, language: LanguageId): string {
  const tree = parse(text, language);
  try {
    return JSON.stringify(lower(tree, text, language));
  } finally {
    tree.delete();
  }
}

/** A small deterministic generator, so a failure names an edit that can be replayed. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

/** Edits as people make them: type a character, delete a word, paste a line, delete a line, undo. */
function edit(text: string, pick: (n: number) => number): string {
  const at = pick(text.length + 1);
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
  switch (pick(6)) {
    case 0:
      return text.slice(0, at) + 'x' + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(Math.min(text.length, at + 1 + pick(8)));
    case 2:
      return text.slice(0, lineStart) + '    W -= lr * (dW + reg * W * W)\n' + text.slice(lineStart);
    case 3:
      return text.slice(0, lineStart) + text.slice(Math.min(text.length, lineEnd + 1));
    case 4:
      return text.slice(0, at) + '(' + text.slice(at);
    default:
      return text.slice(0, at) + '\n' + text.slice(at);
  }
}

describe('incremental re-parsing', () => {
  before(() => initEngine());
  afterEach(() => forgetDocuments());

  it('describes the changed region of two texts', () => {
    assert.deepEqual(singleEdit('a = 1\nb = 2\n', 'a = 1\nb = 22\n'), {
      startIndex: 11,
      oldEndIndex: 11,
      newEndIndex: 12,
      startPosition: { row: 1, column: 5 },
      oldEndPosition: { row: 1, column: 5 },
      newEndPosition: { row: 1, column: 6 },
    });
    assert.equal(singleEdit('completely different', 'another text here'), undefined);
  });

  it("places the edit's rows and columns with the line breaks LineIndex counts (\\n, \\r\\n, a lone \\r)", () => {
    const pick = random(7);
    const pieces = ['a', 'bc', ' ', '\n', '\r\n', '\r', 'W -= lr'];
    for (let i = 0; i < 300; i++) {
      let before = '';
      for (let j = 0; j < 40; j++) before += pieces[pick(pieces.length)];
      const at = pick(before.length + 1);
      const after = before.slice(0, at) + pieces[pick(pieces.length)] + before.slice(at + pick(3));
      const edit = singleEdit(before, after);
      if (!edit) continue;
      const point = (text: string, offset: number): { row: number; column: number } => {
        const { line, character } = new LineIndex(text).position(offset);
        return { row: line, column: character };
      };
      assert.deepEqual(edit.startPosition, point(before, edit.startIndex), JSON.stringify([before, after]));
      assert.deepEqual(edit.oldEndPosition, point(before, edit.oldEndIndex), JSON.stringify([before, after]));
      assert.deepEqual(edit.newEndPosition, point(after, edit.newEndIndex), JSON.stringify([before, after]));
    }
  });

  const files: [string, LanguageId][] = [
    ['examples/numpy_softmax_wrong.py', 'python'],
    ['examples/tfjs_linear_regression.ts', 'typescript'],
    ['test/fixtures/NB201/torch_double.py', 'python'],
    ['bench/trainingScript.ts', 'python'], // the long training script it writes
  ];
  for (const [file, language] of files) {
    // Python re-lowers only the top-level statements an edit touched (server/engine/lower/reuse.ts).
    it(`gives the fresh parse's IR after each of 60 edits of ${file}`, function () {
      this.timeout(180_000); // 120 parses of a 600-line script: some seconds idle, over 60 s at a load of 40 (stop 40)
      let text = file.startsWith('bench/') ? trainingScriptOfLines(600) : fs.readFileSync(path.join(root, file), 'utf8');
      const pick = random(file.length);
      parseDocument(text, language);
      for (let i = 0; i < 60; i++) {
        text = edit(text, pick);
        const incremental = JSON.stringify(parseDocument(text, language));
        assert.equal(incremental, fresh(text, language), `edit ${i} of ${file}`);
      }
    });
  }

  it('lowers to a tree: no node is reachable twice (span objects aside), so reused statements are copied exactly', () => {
    const texts: [string, LanguageId][] = [[trainingScriptOfLines(600), 'python']];
    for (const [dir, language] of [['test/fixtures/NB101', 'python'], ['test/fixtures/NB201', 'python'], ['test/fixtures/NB301', 'python']] as const) {
      for (const name of fs.readdirSync(path.join(root, dir)).filter((n) => n.endsWith('.py'))) texts.push([fs.readFileSync(path.join(root, dir, name), 'utf8'), language]);
    }
    for (const [text, language] of texts) {
      const seen = new Set<object>();
      const visit = (value: unknown, key: string): void => {
        if (typeof value !== 'object' || value === null || key === 'span' || key === 'opSpan' || key === 'nameSpan' || key === 'headSpan' || key === 'parenSpan') return;
        assert.ok(!seen.has(value), `an IR node reachable twice (under ${key})`);
        seen.add(value);
        for (const [k, v] of Object.entries(value)) visit(v, Array.isArray(value) ? key : k);
      };
      visit(parseDocument(text, language).body, 'body');
    }
  });

  it('reports the same findings after an edit as a fresh lint does', () => {
    const before = 'import numpy as np\n\ndef step(W, dW, lr, reg):\n    W -= lr * (dW + reg * np.sum(W * W))\n    return W\n';
    const after = before.replace('W -= lr', 'W -= 2 * lr');
    lintText(before, { language: 'python' });
    const incremental = lintText(after, { language: 'python' });
    forgetDocuments();
    const once = lintText(after + ' ', { language: 'python' });
    assert.equal(incremental.findings.length, 1);
    assert.deepEqual(incremental.findings, once.findings);
  });
});
