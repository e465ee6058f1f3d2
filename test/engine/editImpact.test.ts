// The first hover after an edit, answered from the previous version's analysis
// (server/engine/editImpact.ts), must be the answer of the new version's lint. Differential: after
// random edits of fixtures, the bench's generated files and its long training script, every early
// answer at every line is compared with `explainIn` on a lint of the new text made from scratch.
// And the cases that must wait: a hover in the edited function, and one in a function that calls
// (or is called by, or shares state with) the edited one, however far away.
//
// By default a sample runs (a few seconds). A long run, by hand:
//   NABLA_EARLY_FILES=all NABLA_EARLY_SEEDS=5 npx mocha --grep "early hover"
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath, lintDocumentSteps, ParseCache, withoutEngineCaches, type DocumentAnalysis, type Finding, type LanguageId } from '../../server/engine';
import { explainAfterEdit } from '../../server/engine/editImpact';
import { explainIn } from '../../server/engine/explain';
import { runSteps } from '../../server/engine/stepwise';
import { pythonFileOfLines } from '../../bench/corpus';
import { trainingScriptOfLines } from '../../bench/trainingScript';
import { fixtureFiles, random, seedOf } from './editCorpus';

const root = path.resolve(__dirname, '../../..');
const fixturesDir = path.join(root, 'test', 'fixtures');
const allFiles = process.env.NABLA_EARLY_FILES === 'all';
const seeds = Math.max(1, Number(process.env.NABLA_EARLY_SEEDS ?? 1));


/** One random edit of the kind people make while typing (most of them on one line). */
function edit(text: string, pick: (n: number) => number): { text: string; what: string } {
  const at = pick(text.length + 1);
  const splice = (from: number, to: number, insert: string, what: string): { text: string; what: string } => ({ text: text.slice(0, from) + insert + text.slice(to), what: `${what} at ${from}` });
  const lineEnd = ((): number => {
    const nl = text.indexOf('\n', at);
    return nl < 0 ? text.length : nl;
  })();
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const names = [...new Set(text.match(/\b[A-Za-z_]\w*\b/g) ?? [])];
  switch (pick(8)) {
    case 0:
      return splice(at, at, 'xW_1 .*+-=(:"#/}`'[pick(17)], 'type a character');
    case 1:
      return splice(at, Math.min(text.length, at + 1 + pick(3)), '', 'delete characters');
    case 2:
      return pick(2) === 0 ? splice(lineEnd, lineEnd, ' ', 'a space at the end of a line') : splice(lineStart, lineStart, pick(2) === 0 ? ' ' : '\t', 'a space at the start of a line');
    case 3:
    case 4: {
      // Rename one occurrence of a name to another name of the file (a call retargeted, a variable swapped).
      const word = /\b[A-Za-z_]\w*\b/g;
      word.lastIndex = at;
      const m = word.exec(text);
      if (!m || names.length === 0) return splice(at, at, '', 'nothing');
      return splice(m.index, m.index + m[0].length, names[pick(names.length)], `rename ${m[0]}`);
    }
    case 5: {
      // A number changed.
      const num = /\b\d+(\.\d+)?(e-?\d+)?\b/g;
      num.lastIndex = at;
      const m = num.exec(text);
      if (!m) return splice(at, at, '0', 'type a digit');
      return splice(m.index, m.index + m[0].length, ['0', '2', '0.5', '1e-4'][pick(4)], 'change a number');
    }
    case 6: {
      // An operator flipped.
      const op = /[-+*/]/g;
      op.lastIndex = at;
      const m = op.exec(text);
      if (!m) return splice(at, at, '', 'nothing');
      return splice(m.index, m.index + 1, { '-': '+', '+': '-', '*': '/', '/': '*' }[m[0]]!, 'flip an operator');
    }
    default:
      return splice(at, at, '\n', 'break a line');
  }
}

interface Linted {
  analysis: DocumentAnalysis;
  findings: Finding[];
}

function lintWith(text: string, language: LanguageId, parses?: ParseCache): Linted | undefined {
  const { outcome, analysis } = runSteps(lintDocumentSteps(text, { language }, parses));
  return analysis && { analysis, findings: outcome.findings };
}

/** Offsets to hover in a text: the first character of every line (of every other line, in a long text) and the middle of some. */
function hoverOffsets(text: string): number[] {
  const out: number[] = [];
  const lines = text.split('\n');
  const stride = allFiles || lines.length < 200 ? 1 : 2;
  let start = 0;
  lines.forEach((line, i) => {
    const lead = line.length - line.trimStart().length;
    if (line.trim() !== '' && i % stride === 0) out.push(start + lead);
    if (line.trim() !== '' && i % 3 === 0) out.push(start + Math.floor((lead + line.length) / 2));
    start += line.length + 1;
  });
  return out;
}

interface Tally {
  early: number;
  waited: number;
}

/** Random edits of one text; after each, every early answer must equal the new lint's. */
function checkFile(name: string, original: string, language: LanguageId, seed: number, edits: number, tally: Tally): void {
  const pick = random(seedOf(name, seed));
  const parses = new ParseCache(1, 1);
  let text = original;
  let before = lintWith(text, language, parses);
  const history: string[] = [];
  for (let i = 0; i < edits && before; i++) {
    const next = edit(text, pick);
    history.push(next.what);
    const tree = parses.treeOf(before.analysis.text, language);
    assert.ok(tree, 'the session keeps the tree of the published text');
    let after: Linted | undefined;
    for (const offset of hoverOffsets(next.text)) {
      const old = before;
      const early = explainAfterEdit(old.analysis, tree, next.text, offset, () => old.findings);
      if (!early) {
        tally.waited++;
        continue;
      }
      tally.early++;
      after ??= withoutEngineCaches(() => lintWith(next.text, language));
      assert.ok(after, `${name}: the new text was analysed`);
      const fresh = after;
      const expected = explainIn(fresh.analysis, offset, () => fresh.findings);
      assert.deepEqual(early.explanation, expected, `${name}, seed ${seed}, offset ${offset}: edits ${history.join('; ')}`);
    }
    text = next.text;
    before = lintWith(text, language, parses);
  }
  parses.clear();
}


describe('early hover after an edit equals the hover after the lint', function () {
  this.timeout(300_000);
  before(() => initEngine());

  it('on fixtures, generated files and the long training script, after random edits', () => {
    const tally: Tally = { early: 0, waited: 0 };
    const files = fixtureFiles(fixturesDir);
    const sample = allFiles ? files : files.filter((_, i) => i % 16 === 5);
    for (let seed = 1; seed <= seeds; seed++) {
      for (const file of sample) checkFile(path.relative(root, file), fs.readFileSync(file, 'utf8'), languageForPath(file)!, seed, 3, tally);
      // Six edits of each long text by default (twelve in the long run): the six after them gave no
      // early answer to compare (604 early answers with twelve or six; only 4,900 more hovers waited).
      checkFile('generated 500 lines', pythonFileOfLines(500, 11 + seed), 'python', seed, allFiles ? 12 : 6, tally);
      checkFile('training script', trainingScriptOfLines(500), 'python', seed, allFiles ? 12 : 6, tally);
    }
    if (process.env.NABLA_EARLY_TALLY) console.log(tally);
    // The comparison means something only if early answers were given (and some hovers waited).
    assert.ok(tally.early > 100, `early answers: ${tally.early}, waited: ${tally.waited}`);
    assert.ok(tally.waited > 100, `early answers: ${tally.early}, waited: ${tally.waited}`);
  });
});

describe('early hover: what waits for the lint', () => {
  before(() => initEngine());

  const text = [
    'import numpy as np',
    '',
    '',
    'def l2_grad(W, reg):',
    '    return reg * W',
    '',
    '',
    'def unrelated(x):',
    '    y = x * 2',
    '    return y',
    '',
    '',
    'def sgd_step(W, dW, lr, reg):',
    '    W -= lr * (dW + l2_grad(W, reg))',
    '    return W',
    '',
  ].join('\n');

  function early(before: string, after: string, hoverLine: number): { explanation: unknown } | undefined {
    const parses = new ParseCache(1, 1);
    try {
      const linted = lintWith(before, 'python', parses)!;
      const tree = parses.treeOf(linted.analysis.text, 'python')!;
      const lines = after.split('\n');
      const offset = lines.slice(0, hoverLine).reduce((n, l) => n + l.length + 1, 0) + lines[hoverLine].search(/\S/);
      return explainAfterEdit(linted.analysis, tree, after, offset, () => linted.findings);
    } finally {
      parses.clear();
    }
  }

  it('a hover on a step waits when a helper it calls is edited, however far above', () => {
    const edited = text.replace('    return reg * W', '    return 2 * reg * W');
    assert.equal(early(text, edited, 13), undefined);
  });

  it('a hover inside the edited function waits', () => {
    const edited = text.replace('    return y', '    return y + 1');
    assert.equal(early(text, edited, 8), undefined);
    const stepEdited = text.replace('    return W\n', '    return W * 1\n');
    assert.equal(early(text, stepEdited, 13), undefined);
  });

  it('a hover on a step is answered at once when only a function it does not depend on is edited', () => {
    const edited = text.replace('    y = x * 2', '    y = x * 3');
    const answer = early(text, edited, 13);
    assert.ok(answer?.explanation, 'answered from the previous analysis');
  });

  it('waits when the edit may span lines, is in a string or comment, or the old text has a syntax error', () => {
    assert.equal(early(text, text.replace('    y = x * 2', '    y = (x * 2'), 13), undefined);
    assert.equal(early(text, text.replace('    y = x * 2', '    y = x * 2  # note'), 13), undefined);
    assert.equal(early(text, text.replace('    y = x * 2', '    y = x * 2\n    z = 1'), 13), undefined);
    const broken = text.replace('    y = x * 2', '    y = x * (2');
    assert.equal(early(broken, broken.replace('y = x', 'y = 3 * x'), 13), undefined);
  });

  it('waits when the edit makes or unmakes a keyword (the parser may recover from the new error across statements)', () => {
    assert.equal(early(text, text.replace('def unrelated(x):', 'de unrelated(x):'), 13), undefined);
    assert.equal(early(text, text.replace('    return y', '    retur y'), 13), undefined);
    assert.equal(early(text, text.replace('    y = x * 2', '    y = x if 2'), 13), undefined);
    // A name that only contains a keyword is not one.
    assert.notEqual(early(text, text.replace('    y = x * 2', '    y = x * 3'), 13), undefined);
    // A space typed right after a keyword leaves every word as it was: answered at once.
    assert.notEqual(early(text, text.replace('    return y', '    return\t y'), 13), undefined);
  });

  it('waits when the edited line names something the hovered statement reads', () => {
    // Renaming the unrelated function to the helper's name would make it the helper the step calls.
    const edited = text.replace('def unrelated(x):', 'def l2_grad(x):');
    assert.equal(early(text, edited, 13), undefined);
  });
});
