// Randomized differential test of the per-function answers a session keeps from its document's
// previous version (server/engine/functionReuse.ts): after each random edit, the lint made as the
// language server makes it (`lintDocumentSteps` with the document's ParseCache) must equal a fresh
// lint of the same text (outcome: code, range, message, related, fix, math; notices), and so must
// the reused facts themselves (`unstoredStates` field by field; `optimizerSteps` as each step's function,
// states, parameter updates, counts and corrections with their spans).
//
// Edits are code edits, most of them reaching other functions: a character typed into a name or at
// the end of a line's last name (the bench's keystroke), characters deleted, a line inserted from
// update code, a line deleted or duplicated, a name replaced by another name of the file (which
// links two functions, or unlinks them), a number changed (what the file assigns to a key). Texts: the bench's training script, a generated file, and
// each chosen rule folder's Python fixtures joined into one file.
//
// By default a sample runs (a few seconds). A long run, by hand:
//   NABLA_REUSE_DIRS=all (or NB401,NB407,…) NABLA_REUSE_SEEDS=3 NABLA_REUSE_EDITS=25 npx mocha --no-config --timeout 0 out/test/engine/functionReuse.test.js
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, lintDocumentSteps, ParseCache, withoutEngineCaches } from '../../server/engine';
import { unstoredStates } from '../../server/engine/facts/unstoredState';
import { optimizerSteps, type OptimizerStep } from '../../server/engine/facts/optimizerSteps';
import { polyKey } from '../../server/math/poly';
import { reuseCounts } from '../../server/engine/functionReuse';
import { runSteps } from '../../server/engine/stepwise';
import { pythonFileOfLines } from '../../bench/corpus';
import { typeIntoName } from '../../bench/keystrokes';
import { trainingScriptOfLines } from '../../bench/trainingScript';
import { random, seedOf } from './editCorpus';

const root = path.resolve(__dirname, '../../..');
const fixturesDir = path.join(root, 'test', 'fixtures');
const seeds = Math.max(1, Number(process.env.NABLA_REUSE_SEEDS ?? 1));
const edits = Math.max(1, Number(process.env.NABLA_REUSE_EDITS ?? 4));
const chosen = process.env.NABLA_REUSE_DIRS;
const dirs = chosen === 'all' ? fs.readdirSync(fixturesDir).filter((d) => /^NB\d+$/.test(d)) : chosen ? chosen.split(',') : ['NB407', 'NB401'];
/** Fixtures joined per folder: all of them in a long run, a few by default (npm test). */
const perFolder = process.env.NABLA_REUSE_DIRS ? Infinity : 4;

const updateLines = [
  'v = mu * v - lr * g',
  'self.m = beta1 * self.m + (1 - beta1) * grad',
  'W -= lr * (dW + reg * W)',
  'cache = decay * cache + (1 - decay) * dw ** 2',
  'self.v[i] = v',
  'return w + v',
  'lr = 0.01',
  'm_hat = m / (1 - beta1 ** t)',
];

function edit(text: string, pick: (n: number) => number): { text: string; what: string } {
  const lines = text.split('\n');
  const at = pick(lines.length);
  const line = lines[at];
  const indent = /^[ \t]*/.exec(line)![0];
  const words = [...line.matchAll(/[A-Za-z_]\w*/g)];
  switch (pick(8)) {
    case 0: {
      if (words.length === 0) break;
      const w = words[pick(words.length)];
      const i = w.index! + pick(w[0].length + 1);
      lines[at] = line.slice(0, i) + 'x_1'[pick(3)] + line.slice(i);
      return { text: lines.join('\n'), what: `type into line ${at}` };
    }
    case 1: {
      const i = pick(line.length + 1);
      lines[at] = line.slice(0, i) + line.slice(i + 1 + pick(3));
      return { text: lines.join('\n'), what: `delete on line ${at}` };
    }
    case 2:
      lines.splice(at, 0, indent + updateLines[pick(updateLines.length)]);
      return { text: lines.join('\n'), what: `insert a line at ${at}` };
    case 3:
      lines.splice(at, 1);
      return { text: lines.join('\n'), what: `delete line ${at}` };
    case 4:
      lines.splice(at, 0, line);
      return { text: lines.join('\n'), what: `duplicate line ${at}` };
    case 5: {
      // A name replaced by another name of the file: links a function to another statement, or unlinks it.
      const all = [...new Set(text.match(/[A-Za-z_]\w*/g) ?? [])];
      if (words.length === 0 || all.length === 0) break;
      const w = words[pick(words.length)];
      lines[at] = line.slice(0, w.index!) + all[pick(all.length)] + line.slice(w.index! + w[0].length);
      return { text: lines.join('\n'), what: `rename on line ${at}` };
    }
    case 6: {
      // A number changed (a start value, a rate, an ε): what the file assigns to a key, which a step may read beyond its cone.
      const numbers = [...line.matchAll(/(?<![\w.])\d+(?:\.\d*)?(?:e-?\d+)?(?![\w.])/g)];
      if (numbers.length === 0) break;
      const n = numbers[pick(numbers.length)];
      lines[at] = line.slice(0, n.index!) + ['0', '1', '1.0', '0.5', '1e-8', '0.9'][pick(6)] + line.slice(n.index! + n[0].length);
      return { text: lines.join('\n'), what: `number on line ${at}` };
    }
    default:
      break;
  }
  // The bench's keystroke: a character typed at the end of the line's last name.
  const m = /[A-Za-z_]\w*(?=\W*$)/.exec(line);
  if (!m) return { text: text + '\n', what: 'a line added at the end' };
  lines[at] = line.slice(0, m.index + m[0].length) + 'x' + line.slice(m.index + m[0].length);
  return { text: lines.join('\n'), what: `keystroke on line ${at}` };
}

let lints = 0;

function check(name: string, original: string, seed: number, count: number): void {
  const pick = random(seedOf(name, seed));
  const options = { language: 'python' as const };
  const parses = new ParseCache(1, 1);
  let text = original;
  runSteps(lintDocumentSteps(text, options, parses));
  const history: string[] = [];
  for (let i = 0; i < count; i++) {
    const next = edit(text, pick);
    history.push(next.what);
    text = next.text;
    const lint = runSteps(lintDocumentSteps(text, options, parses));
    const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, options)));
    lints++;
    assert.deepEqual(lint.outcome, fresh.outcome, `${name}, seed ${seed}: edits ${history.join('; ')}`);
    if (!lint.reused && lint.analysis && fresh.analysis) {
      assert.deepEqual(JSON.parse(JSON.stringify(unstoredStates(lint.analysis.facts))), JSON.parse(JSON.stringify(unstoredStates(fresh.analysis.facts))), `${name}, seed ${seed}: unstoredStates after edits ${history.join('; ')}`);
      assert.deepEqual(optimizerSteps(lint.analysis.facts).map(stepShape), optimizerSteps(fresh.analysis.facts).map(stepShape), `${name}, seed ${seed}: optimizerSteps after edits ${history.join('; ')}`);
    }
  }
}

/** A step as plain data (its function, states, parameter updates, counts, corrections, with their spans): what a reused "no step" could have hidden. */
function stepShape(step: OptimizerStep): unknown {
  return {
    fn: [step.fn.name, step.fn.span.start, step.fn.span.end],
    states: [...step.states].map(([key, s]) => [key, polyKey(s.eq.value), s.eq.spans.map((x) => [x.start, x.end])]),
    params: step.params.map((p) => [p.eq.key, polyKey(p.eq.value), p.eq.spans.map((x) => [x.start, x.end])]),
    counters: [...step.counters],
    corrections: step.corrections.length,
    family: step.family,
  };
}

function joinedFixtures(dir: string): string {
  const folder = path.join(fixturesDir, dir);
  return fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .slice(0, perFolder)
    .map((f) => fs.readFileSync(path.join(folder, f), 'utf8'))
    .join('\n\n');
}

describe('function reuse: a session keeps per-function answers, equal to a fresh lint', function () {
  // A long run by hand takes as long as it takes (minutes per folder on a loaded machine).
  this.timeout(chosen ? 0 : 120_000);
  const start = { ...reuseCounts };
  before(() => initEngine());
  after(() => {
    if (process.env.NABLA_REUSE_DIRS) console.log(`    ${lints} lints; per-function answers asked ${reuseCounts.asked - start.asked}, reused ${reuseCounts.reused - start.reused}`);
  });
  for (let seed = 1; seed <= seeds; seed++) {
    it(`the long training script after random edits (seed ${seed})`, () => {
      check('train_long.py', trainingScriptOfLines(process.env.NABLA_REUSE_DIRS ? 3000 : 300), seed, edits);
    });
    it(`a generated file after random edits (seed ${seed})`, () => {
      check('generated.py', pythonFileOfLines(process.env.NABLA_REUSE_DIRS ? 1500 : 200, seed), seed, edits);
    });
    for (const dir of dirs) {
      const text = joinedFixtures(dir);
      if (text.length === 0) continue;
      it(`${dir}'s Python fixtures in one file after random edits (seed ${seed})`, () => {
        check(`${dir}.py`, text, seed, edits);
      });
    }
  }

  // Edit sequences a careless cone gets wrong: an edit outside a function that changes what its walk finds, where the
  // changed statement binds no name the function mentions. Each sequence goes from silent to one NB407 finding and back.
  const rms = (bases: string, extra: string): string =>
    [
      'import numpy as np',
      '',
      '',
      'class Base:',
      '    def __init__(self, lr):',
      '        self.lr = lr',
      '',
      '',
      `class RMS${bases}:`,
      '    def __init__(self, layers, lr=1e-3, rho=0.9, eps=1e-8):',
      '        self.lr = lr',
      '        self.layers = layers',
      '        self.rho, self.eps = rho, eps',
      '',
      '    def step(self):',
      '        for i, layer in enumerate(self.layers):',
      '            g = layer.dW',
      '            self.sq_table[i] = self.rho * self.cache[i] + (1 - self.rho) * g * g',
      '            layer.W -= self.lr * g / (np.sqrt(self.cache[i]) + self.eps)',
      '',
      '',
      'def start(self, n):',
      '    for i in range(n):',
      '        self.cache[i] = 0.0',
      extra,
    ].join('\n');
  const table = (decl: string): string =>
    [
      'import numpy as np',
      '',
      decl,
      '',
      '',
      'def rmsprop_step(params, grads, lr=1e-3, rho=0.95, eps=1e-8):',
      '    for k in params:',
      '        square_avg_new[k] = rho * square_avg[k] + (1 - rho) * grads[k] ** 2',
      '        params[k] -= lr * grads[k] / (np.sqrt(square_avg[k]) + eps)',
      '',
      '',
      'def init_state(params):',
      '    for k, w in params.items():',
      '        square_avg[k] = np.zeros_like(w)',
      '',
    ].join('\n');
  const guarded = 'try:\n    from saved import square_avg_new\nexcept ImportError:\n    square_avg_new = {}\nsquare_avg = {}\n';
  const sequences: Record<string, string[]> = {
    // A class whose bases the file defines: its walk reads every statement of the file that names its state.
    // A module-level function that reads the table the average is written into (`self.sq_table`, never bound by a plain
    // assignment anywhere) is renamed away: the average is now unread (a read by another statement, not a binding).
    'a read of the written table elsewhere in the file goes away': [
      rms('(Base)', '\n\ndef report(self):\n    return [float(s.mean()) for s in self.sq_table]\n'),
      rms('(Base)', '\n\ndef report(self):\n    return [float(s.mean()) for s in self.sq_tablx]\n'),
      rms('(Base)', '\n\ndef report(self):\n    return [float(s.mean()) for s in self.sq_table]\n'),
    ],
    // A write of the table the step reads (`self.cache.append(g)`, no binding) elsewhere in the file goes away: it now only holds its start.
    'a write of the read table elsewhere in the file goes away': [
      rms('(Base)', '\n\ndef bump(self, g):\n    self.cache.append(g)\n'),
      rms('(Base)', '\n\ndef bump(self, g):\n    self.cachx.append(g)\n'),
      rms('(Base)', '\n\ndef bump(self, g):\n    self.cache.append(g)\n'),
    ],
    // The class's base becomes one the file defines: the whole file is read for its state.
    'the base class becomes one the file defines': [rms('(Basx)', ''), rms('(Base)', ''), rms('(Basx)', '')],
    // A module-level table is bound, or a module-level read of it goes away.
    'a module-level table is bound': [table('square_avg = {}'), table('square_avg = {}\nsquare_avg_new = {}'), table('square_avg = {}')],
    'a module-level read of the table goes away': [
      table('square_avg = {}\nsquare_avg_new = {}\nprint(square_avg_new)'),
      table('square_avg = {}\nsquare_avg_new = {}\nprint(square_avg_nex)'),
      table('square_avg = {}\nsquare_avg_new = {}\nprint(square_avg_new)'),
    ],
    // A table both imported and assigned (`try: from m import t` / `except ImportError: t = {}`): its assignment binds it,
    // so a changed reader of it reaches the function (an early cone left out every binder of an imported name).
    'a module-level read of an imported and assigned table goes away': [
      table(`${guarded}print(square_avg_new)`),
      table(`${guarded}print(square_avg_nex)`),
      table(`${guarded}print(square_avg_new)`),
    ],
  };
  for (const [name, texts] of Object.entries(sequences)) {
    it(`an edit outside the function: ${name}`, () => {
      const parses = new ParseCache(1, 1);
      const counts: number[] = [];
      for (const text of texts) {
        const lint = runSteps(lintDocumentSteps(text, { language: 'python' }, parses));
        const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, { language: 'python' })));
        assert.deepEqual(lint.outcome, fresh.outcome, `${name}: version ${counts.length}`);
        counts.push(fresh.outcome.findings.filter((f) => f.code === 'NB407').length);
      }
      // The sequence tests something: the finding comes and goes.
      assert.deepEqual(counts, [0, 1, 0]);
    });
  }

  // optimizerSteps reads the whole file's assignments of the keys it asks for (a local of another function too, which
  // binds nothing in the cone): its "no step" carries those lookups, and is reused only when they answer alike.
  it('a "no step" answer is not reused when another function changes what a key it read starts at', () => {
    const powers = (start: string, ret: string): string =>
      [
        'import numpy as np',
        '',
        '',
        'def advance(b1_t, b2_t, beta1, beta2):',
        '    b1_t *= beta1',
        '    b2_t *= beta2',
        '    return b1_t, b2_t',
        '',
        '',
        'def setup(beta1, beta2):',
        `    b1_t, b2_t = ${start}`,
        `    return ${ret}`,
        '',
      ].join('\n');
    const versions = [
      powers('beta1, beta2', 'b1_t, b2_t'),
      powers('1.0, 1.0', 'b1_t, b2_t'),
      powers('beta1, beta2', 'b1_t, b2_t'),
      // An edit of the other function that leaves the lookups' answers alone: the answer is reused.
      powers('beta1, beta2', 'b2_t, b1_t'),
    ];
    const parses = new ParseCache(1, 1);
    const counts = () => ({ ...(reuseCounts.byQuery.optimizerSteps ?? { reused: 0, readsChanged: 0 }) });
    const seen: { reused: number; readsChanged: number }[] = [];
    for (const text of versions) {
      const before = counts();
      const lint = runSteps(lintDocumentSteps(text, { language: 'python' }, parses));
      const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, { language: 'python' })));
      assert.deepEqual(lint.outcome, fresh.outcome);
      assert.deepEqual(optimizerSteps(lint.analysis!.facts).map(stepShape), optimizerSteps(fresh.analysis!.facts).map(stepShape));
      const after = counts();
      seen.push({ reused: after.reused - before.reused, readsChanged: after.readsChanged - before.readsChanged });
    }
    assert.deepEqual(seen, [
      { reused: 0, readsChanged: 0 },
      { reused: 0, readsChanged: 1 },
      { reused: 0, readsChanged: 1 },
      { reused: 1, readsChanged: 0 },
    ]);
  });

  // The ε test of a step's corrections (1 − βᵗ + ε) reads the numbers the whole file assigns to the symbol, another
  // function's local too (an exploration rate `eps = 0.5`): a "no step" answer that read them is not reused once they change.
  it('a "no step" answer is not reused when another function changes the numbers its ε test read', () => {
    const file = (rate: string): string =>
      [
        'import numpy as np',
        '',
        '',
        'def adam_direction(m, v, g, t, b1=0.9, b2=0.999, lr=1e-3, eps=1e-8):',
        '    m = b1 * m + (1 - b1) * g',
        '    v = b2 * v + (1 - b2) * g * g',
        '    return lr * (m / (1 - b1 ** t + eps)) / (np.sqrt(v) + eps)',
        '',
        '',
        'def explore(q, rng):',
        `    ${rate} = 0.5`,
        `    if rng.random() < ${rate}:`,
        '        return rng.integers(len(q))',
        '    return int(np.argmax(q))',
        '',
      ].join('\n');
    const parses = new ParseCache(1, 1);
    const counts: number[] = [];
    for (const text of [file('eps'), file('epsilon'), file('eps')]) {
      const lint = runSteps(lintDocumentSteps(text, { language: 'python' }, parses));
      const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, { language: 'python' })));
      assert.deepEqual(lint.outcome, fresh.outcome);
      assert.deepEqual(optimizerSteps(lint.analysis!.facts).map(stepShape), optimizerSteps(fresh.analysis!.facts).map(stepShape));
      counts.push(fresh.outcome.findings.filter((f) => f.code === 'NB401').length);
    }
    // The sequence tests something: the step (and its uncorrected second moment) comes and goes.
    assert.deepEqual(counts, [0, 1, 0]);
  });

  // callerValues' `escapes` keeps each top-level statement's names read other than as a callee, for the statement and its
  // moved copies (lower/reuse.ts): a read added to another statement (`run = fit`) lets NB201 see the penalty again, and
  // an earlier edit that moves every later statement keeps their answers.
  it('a strength every caller switches off: a read of the function elsewhere comes and goes, statements moved', () => {
    const file = (first: string, later: string): string =>
      [
        'import torch',
        'import torch.nn.functional as F',
        '',
        '',
        'def epochs():',
        `    return ${first}`,
        '',
        '',
        'def sq(net):',
        '    return sum((p ** 2).sum() for p in net.parameters())',
        '',
        '',
        'def fit(net, batches, reg):',
        '    opt = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=5e-4)',
        '    for xb, yb in batches:',
        '        opt.zero_grad()',
        '        loss = F.cross_entropy(net(xb), yb) + reg * sq(net)',
        '        loss.backward()',
        '        opt.step()',
        '',
        '',
        'def main(net, batches):',
        '    fit(net, batches, reg=0.0)',
        '',
        '',
        'def later(net):',
        `    ${later}`,
        '',
      ].join('\n');
    const parses = new ParseCache(1, 1);
    const counts: number[] = [];
    for (const text of [file('3', 'return net'), file('3', 'run = fit'), file('3', 'return net'), file('300', 'return net'), file('300', 'run = fit'), file('3', 'run = fit')]) {
      const lint = runSteps(lintDocumentSteps(text, { language: 'python' }, parses));
      const fresh = withoutEngineCaches(() => runSteps(lintDocumentSteps(text, { language: 'python' })));
      assert.deepEqual(lint.outcome, fresh.outcome);
      counts.push(fresh.outcome.findings.filter((f) => f.code === 'NB201').length);
    }
    assert.deepEqual(counts, [0, 1, 0, 0, 1, 1]);
  });

  it('reuses answers on the bench keystroke (a character typed into a name)', () => {
    const lines = trainingScriptOfLines(300).split('\n');
    const parses = new ParseCache(1, 1);
    runSteps(lintDocumentSteps(lines.join('\n'), { language: 'python' }, parses));
    const before = { ...reuseCounts };
    const stepsBefore = reuseCounts.byQuery.optimizerSteps?.reused ?? 0;
    for (let i = 0; i < 3; i++) {
      typeIntoName(lines, i);
      const text = lines.join('\n');
      const lint = runSteps(lintDocumentSteps(text, { language: 'python' }, parses));
      assert.deepEqual(lint.outcome, withoutEngineCaches(() => runSteps(lintDocumentSteps(text, { language: 'python' }))).outcome);
    }
    assert.ok(reuseCounts.reused - before.reused > 0, 'no answer was reused');
    assert.ok((reuseCounts.byQuery.optimizerSteps?.reused ?? 0) - stepsBefore > 0, 'no "no step" answer of optimizerSteps was reused');
  });
});
