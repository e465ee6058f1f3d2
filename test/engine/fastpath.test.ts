// The CLI's fast path (server/engine/prefilter.ts): what the lexical pre-check keeps and skips, and
// that it loses nothing on the fixtures and examples, linted as the CLI lints them
// (server/cli/lintFile.ts, then merge.ts) with the fast path and with NABLA_FULL_ANALYSIS=1.
// `npm run proof:fastpath` compares whole CLI runs on the fixtures, the bench corpus and any folders given.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initEngine, mayHoldTrainingMath } from '../../server/engine';
import { isLintablePath, lintFile, type FileResult } from '../../server/cli/lintFile';
import { mergeForeignFindings } from '../../server/cli/merge';

const root = path.resolve(__dirname, '../../..');

function lintableFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') lintableFiles(full, out);
    } else if (isLintablePath(entry.name)) out.push(full);
  }
  return out;
}

/** Every file's findings and notices, linted as the CLI lints them, with the fast path on or off. */
async function lintAll(files: string[], full: boolean, merge = true): Promise<Map<string, { findings: unknown[]; notices: unknown[] }>> {
  const before = process.env.NABLA_FULL_ANALYSIS;
  if (full) process.env.NABLA_FULL_ANALYSIS = '1';
  else delete process.env.NABLA_FULL_ANALYSIS;
  try {
    const linted: { display: string; absPath: string; result: FileResult }[] = [];
    for (const file of files) {
      const result = await lintFile(file, { maxFileSize: 1024 * 1024 });
      linted.push({ display: file, absPath: path.resolve(file).split(path.sep).join('/'), result });
    }
    if (!merge) {
      // Each file's own run alone: what it found in the file, and (as `<path> (from <entry>)`) in other files.
      const own = new Map(linted.map(({ absPath, result }) => [absPath, { findings: result.findings as unknown[], notices: result.notices as unknown[] }]));
      for (const { absPath, result } of linted) for (const f of result.foreign ?? []) own.set(`${f.path} (from ${absPath})`, { findings: f.findings, notices: [] });
      return own;
    }
    const reached = mergeForeignFindings(linted, () => ({}));
    return new Map([...linted, ...reached].map(({ absPath, result }) => [absPath, { findings: result.findings, notices: result.notices }]));
  } finally {
    if (before === undefined) delete process.env.NABLA_FULL_ANALYSIS;
    else process.env.NABLA_FULL_ANALYSIS = before;
  }
}

/**
 * What differs between the two runs, file by file. A file the fast path skips is parsed for its
 * syntax errors but not lowered: only lowering's notice about expressions nested too deeply may go.
 */
export function differences(full: Map<string, { findings: unknown[]; notices: unknown[] }>, fast: Map<string, { findings: unknown[]; notices: unknown[] }>, skipped: (absPath: string) => boolean): string[] {
  const out: string[] = [];
  for (const file of new Set([...full.keys(), ...fast.keys()])) {
    const a = full.get(file) ?? { findings: [], notices: [] };
    const b = fast.get(file) ?? { findings: [], notices: [] };
    const notices = skipped(file) ? a.notices.filter((n) => !(n as { message: string }).message.startsWith('some expressions nest too deeply')) : a.notices;
    if (JSON.stringify(a.findings) !== JSON.stringify(b.findings)) out.push(`${file}: findings differ\n  full: ${JSON.stringify(a.findings)}\n  fast: ${JSON.stringify(b.findings)}`);
    if (JSON.stringify(notices) !== JSON.stringify(b.notices)) out.push(`${file}: notices differ\n  full: ${JSON.stringify(a.notices)}\n  fast: ${JSON.stringify(b.notices)}`);
  }
  return out;
}

describe('fast path: the lexical pre-check', () => {
  it('keeps every kind of seed a rule starts from', () => {
    const kept = [
      'W -= lr * dW\n', // an update operator
      'acc = acc + step_size * direction\n', // a self-update, no role name
      'w = 0.9 * w + 0.1 * other\n', // a scaled self-update
      'new = jax.tree_util.tree_map(lambda p, q: p - 0.1 * q, a, b)\n', // an element update
      'def move(p, q):\n    return p - 0.1 * q\n',
      'const next = (p, q) => p - 0.1 * q;\n',
      'opt = torch.optim.Adam(model.parameters(), 1e-3)\n', // framework names
      'layer = Dense(10, kernel_regularizer=l2(1e-4))\n',
      'self.add_loss(lambda: 0.1 * tf.reduce_sum(v))\n',
      'loss.backward()\n', // differentiation
      'weight_decay = 5e-4\n', // role names
      'x = 1  # nabla: ignore[NB101]\n', // a suppression for NB001 to judge
      'cls = eval(args.model)\nmodel = cls(10)\nrunner.fit(model)\n', // a class chosen at run time (NB201 through the runner)
      'const m = tf.randomUniform(x.shape).less(this.keep);\n', // a dropout mask compared by a method (NB209)
      'u = np.random.rand(n)\nm = np.less(u, keep)\n', // a drawn name compared by a function
      'm = np.less(np.random.rand(n), keep)\n',
      'u = torch.rand(n)\nm = u.lt(keep)\n',
      'm = rng.binomial(n=1, p=keep, size=s)\n', // a one-trial binomial by keyword
    ];
    for (const text of kept) assert.equal(mayHoldTrainingMath(text), true, text);
  });

  it('skips code with none of them', () => {
    const skipped = [
      'import os\n\ndef load(path):\n    with open(path) as f:\n        return [line.strip() for line in f]\n',
      'for i in range(10):\n    count += 1\n    label += "x"\n',
      'x = self.conv(x)\nx = torch.relu(x)\n',
      'model.eval()\npreds = model(batch)\n', // a method named eval is not the builtin
      'export function bound(v: number, lo: number, hi: number): number {\n  return Math.min(hi, Math.max(lo, v));\n}\n',
      'import matplotlib.pyplot as plt\nplt.plot(history)\nplt.savefig("out.png")\n',
      'k = rng.binomial(n=10, p=q, size=s)\n', // a binomial of ten trials is no mask
    ];
    for (const text of skipped) assert.equal(mayHoldTrainingMath(text), false, text);
  });
});

describe('fast path: the same findings as the full analysis', function () {
  this.timeout(120000);
  before(() => initEngine());
  const toSlashes = (f: string): string => path.resolve(f).split(path.sep).join('/');

  // The fast path changes one thing: a skipped file's own run does not happen. So it loses nothing
  // exactly when that run, made in full, reports nothing anywhere (syntax-error notices aside).
  // npm run proof:fastpath compares whole CLI runs on these files, the corpus and real repositories.
  it('every fixture and example it skips reports nothing of its own in the full analysis', async function () {
    const files = [...lintableFiles(path.join(root, 'test', 'fixtures')), ...lintableFiles(path.join(root, 'examples'))];
    const skipped = files.filter((f) => !/\.ipynb$/i.test(f) && !mayHoldTrainingMath(fs.readFileSync(f, 'utf8')));
    assert.ok(skipped.length > 0, 'some fixture is skipped by the fast path, so the check tests something');
    const full = await lintAll(skipped, true, false);
    const problems: string[] = [];
    for (const file of skipped) {
      const own = full.get(toSlashes(file));
      const notices = (own?.notices ?? []).filter((n) => (n as { kind: string }).kind !== 'parse-error');
      if (own?.findings.length || notices.length > 0) problems.push(`${file}: ${JSON.stringify(own)}`);
    }
    for (const [file, result] of full) if (file.includes(' (from ') && result.findings.length > 0) problems.push(`${file}: ${JSON.stringify(result.findings)}`);
    assert.deepEqual(problems, [], problems.join('\n'));
  });

  it('end to end on a project whose helper it skips: the helper still gets its caller\'s finding', async function () {
    const files = lintableFiles(path.join(root, 'test', 'fixtures', 'projects', 'fastpath-helpers'));
    const helper = toSlashes(path.join(root, 'test', 'fixtures', 'projects', 'fastpath-helpers', 'linear', 'ops.py'));
    assert.equal(mayHoldTrainingMath(fs.readFileSync(helper, 'utf8')), false, 'the helper is skipped as an entry');
    const full = await lintAll(files, true);
    const fast = await lintAll(files, false);
    const found = differences(full, fast, (file) => file === helper);
    assert.deepEqual(found, [], found.join('\n'));
    assert.deepEqual(fast.get(helper)?.findings.map((f) => (f as { code: string }).code), ['NB101']);
  });

  it('the comparison reports a finding the fast path would lose', () => {
    const finding = { code: 'NB101', range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } } };
    const full = new Map([['/p/a.py', { findings: [finding], notices: [] }]]);
    const fast = new Map([['/p/a.py', { findings: [], notices: [] }]]);
    assert.equal(differences(full, fast, () => true).length, 1);
    const syntax = new Map([['/p/a.py', { findings: [], notices: [{ kind: 'parse-error', message: 'syntax error at 1:1' }] }]]);
    assert.equal(differences(syntax, fast, () => true).length, 1, 'a skipped file keeps its syntax-error notice');
    const nested = new Map([['/p/a.py', { findings: [], notices: [{ kind: 'parse-error', message: 'some expressions nest too deeply to analyse; they were skipped' }] }]]);
    assert.equal(differences(nested, fast, () => true).length, 0, 'a skipped file is not lowered, so it cannot say that');
    assert.equal(differences(nested, fast, () => false).length, 1);
  });

  it('a skipped file with syntax errors gets the notice a parsed file gets', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-fastpath-'));
    try {
      const files = {
        'loader.py': 'import os\n\ndef load(path:\n    return os.listdir(path)\n\nx = [1, 2\n',
        'plot.ts': 'export function bound(v: number): number {\n  return Math.min(1, v;\n}\n',
        'layout.py': 'def f():\nreturn 1\n', // a layout error (pythonLayout.ts), no ERROR node
        'clean.py': 'import os\nnames = sorted(os.listdir("."))\n',
      };
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
      const paths = Object.keys(files).map((name) => path.join(dir, name));
      for (const p of paths) assert.equal(mayHoldTrainingMath(fs.readFileSync(p, 'utf8')), false, p);
      const full = await lintAll(paths, true);
      const fast = await lintAll(paths, false);
      const found = differences(full, fast, () => true);
      assert.deepEqual(found, [], found.join('\n'));
      const kinds = paths.map((p) => (fast.get(toSlashes(p))?.notices ?? []).map((n) => (n as { kind: string }).kind).join(','));
      assert.deepEqual(kinds, ['parse-error', 'parse-error', 'parse-error', '']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
