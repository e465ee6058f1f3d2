// Which files `nabla check` finds and how it reads them: .gitignore, skipped folders,
// symlinks, encodings, binary and oversized files, syntax errors.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTree, PY_BUG, PY_OK, removeTrees, runCli, summarize } from './helpers';

interface JsonOut {
  files: number;
  diagnostics: { file: string; line: number; column: number; code: string }[];
  notices: { file: string; kind: string; message: string }[];
}

async function checkJson(args: string[], cwd: string): Promise<{ status: number | null; out: JsonOut; stderr: string }> {
  const { status, stdout, stderr } = await runCli(['check', '--format', 'json', ...args], cwd);
  return { status, out: JSON.parse(stdout) as JsonOut, stderr };
}

function flaggedFiles(out: JsonOut): string[] {
  return out.diagnostics.map((d) => d.file);
}

describe('nabla check file discovery', function () {
  this.timeout(60000);
  after(removeTrees);

  it('skips node_modules, virtual environments, caches, notebook checkpoints, macOS resource forks and build output', async function () {
    const dir = makeTree({
      'train.py': PY_BUG,
      'node_modules/pkg/index.js': 'w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));\n',
      'node_modules/pkg/bad.py': PY_BUG,
      '.venv/pyvenv.cfg': 'home = /usr/bin\n',
      '.venv/lib/python3.12/site-packages/lib/bad.py': PY_BUG,
      'myenv/pyvenv.cfg': 'home = /usr/bin\n',
      'myenv/bad.py': PY_BUG,
      'vendor/site-packages/bad.py': PY_BUG,
      '__pycache__/bad.py': PY_BUG,
      '.tox/py312/bad.py': PY_BUG,
      '.mypy_cache/bad.py': PY_BUG,
      '.ipynb_checkpoints/train-checkpoint.py': PY_BUG,
      'nb/.ipynb_checkpoints/train-checkpoint.ipynb': JSON.stringify({ cells: [{ cell_type: 'code', source: PY_BUG }], metadata: {}, nbformat: 4 }),
      '__MACOSX/proj/._train.py': Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00]),
      '__MACOSX/proj/bad.py': PY_BUG,
      '._train.py': Buffer.from([0x00, 0x05, 0x16, 0x07, 0x00, 0x02, 0x00, 0x00]),
      'dist/bad.py': PY_BUG,
      'build/lib/pkg/bad.py': PY_BUG,
      'docs/_build/html/_static/bad.py': PY_BUG,
      'venv/lib/bad.py': PY_BUG, // no pyvenv.cfg (a conda environment): skipped by its name
      'pkg/builder/ok.py': PY_OK, // only the exact names
    });
    const { status, out, stderr } = await checkJson(['.'], dir);
    assert.deepEqual(flaggedFiles(out), ['train.py']);
    assert.equal(out.files, 2);
    assert.equal(stderr, '', 'no "skipped: binary" notice for a resource fork');
    assert.equal(status, 1);
  });

  it('skips minified JavaScript found by a walk, by name or by content, and lints it when named or brought back by exclude', async function () {
    const bug = 'w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));';
    const minified = `/*! lib v1.0 | MIT */\n!function(){${'var a=f(a);'.repeat(60)}${bug}}();\n`;
    const dir = makeTree({
      'static/lib.min.js': `${bug}\n`, // by its name
      'static/bundle.js': minified, // by its content
      'static/types.ts': `export const table = [${'0.125, '.repeat(200)}0];\n${bug}\n`, // TypeScript is never minified
      // A hand-written script with one long line of data (no code in it) is kept.
      'demo/data.js': `const samples = [${'[0.5, 1.5], '.repeat(100)}[0, 0]];\nfor (let i = 0; i < 3; i++) {\n  ${bug}\n}\n`,
      'app.js': `${bug}\n`,
    });
    assert.deepEqual(flaggedFiles((await checkJson(['.'], dir)).out), ['app.js', 'demo/data.js', 'static/types.ts']);
    assert.deepEqual(flaggedFiles((await checkJson(['static/bundle.js', 'static/lib.min.js'], dir)).out), ['static/bundle.js', 'static/lib.min.js']);
    // A folder named explicitly is linted, but minified files found inside it are still skipped.
    assert.deepEqual(flaggedFiles((await checkJson(['static'], dir)).out), ['static/types.ts']);
    fs.writeFileSync(path.join(dir, 'nabla.toml'), 'exclude = ["!static/bundle.js"]\n');
    assert.deepEqual(flaggedFiles((await checkJson(['.'], dir)).out), ['app.js', 'demo/data.js', 'static/bundle.js', 'static/types.ts']);
  });

  it('lints build output named explicitly or brought back by a negated exclude pattern', async function () {
    const dir = makeTree({
      'train.py': PY_BUG,
      'dist/bad.py': PY_BUG,
      'tools/build/bad.py': PY_BUG,
    });
    assert.deepEqual(flaggedFiles((await checkJson(['.'], dir)).out), ['train.py']);
    assert.deepEqual(flaggedFiles((await checkJson(['dist', 'tools/build/bad.py'], dir)).out), ['dist/bad.py', 'tools/build/bad.py']);
    fs.writeFileSync(path.join(dir, 'nabla.toml'), 'exclude = ["!build/"]\n');
    assert.deepEqual(flaggedFiles((await checkJson(['.'], dir)).out), ['tools/build/bad.py', 'train.py']);
    // --force-exclude does not drop what the defaults leave out when it is named: only `exclude` can.
    assert.deepEqual(flaggedFiles((await checkJson(['--force-exclude', 'dist/bad.py'], dir)).out), ['dist/bad.py']);
  });

  it('honours .gitignore files, nested ones relative to their folder', async function () {
    const dir = makeTree({
      '.gitignore': 'dist/\n*_generated.py\n/top_only.py\nignored_*.py\n',
      'dist/bad.py': PY_BUG,
      'model_generated.py': PY_BUG,
      'top_only.py': PY_BUG,
      'ignored_root.py': PY_BUG,
      'pkg/top_only.py': PY_BUG, // `/top_only.py` is anchored to the root folder
      'pkg/dist/bad.py': PY_BUG, // `dist/` matches at any depth
      'pkg/.gitignore': 'local.py\n!ignored_but_kept.py\n',
      'pkg/local.py': PY_BUG,
      'pkg/ignored_but_kept.py': PY_BUG, // re-included by the deeper .gitignore
      'pkg/ignored_other.py': PY_BUG,
      'pkg/keep.py': PY_BUG,
      'other/local.py': PY_BUG, // pkg/.gitignore does not reach here
    });
    const { out } = await checkJson(['.'], dir);
    assert.deepEqual(flaggedFiles(out), ['other/local.py', 'pkg/ignored_but_kept.py', 'pkg/keep.py', 'pkg/top_only.py']);
  });

  it('honours the .gitignore files above a folder inside a git repository', async function () {
    const dir = makeTree({
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'secret_*.py\n',
      'src/secret_bad.py': PY_BUG,
      'src/bad.py': PY_BUG,
    });
    const { out } = await checkJson(['src'], dir);
    assert.deepEqual(flaggedFiles(out), ['src/bad.py']);
  });

  it('lints an ignored file or folder that is named explicitly', async function () {
    const dir = makeTree({
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.gitignore': 'generated/\nbad.py\n',
      'generated/bad2.py': PY_BUG,
      'bad.py': PY_BUG,
    });
    assert.deepEqual(flaggedFiles((await checkJson(['.'], dir)).out), []);
    assert.deepEqual(flaggedFiles((await checkJson(['bad.py'], dir)).out), ['bad.py']);
    assert.deepEqual(flaggedFiles((await checkJson(['generated'], dir)).out), ['generated/bad2.py']);
  });

  it('lints every supported extension and nothing else', async function () {
    const tsBug = 'w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));\n';
    const dir = makeTree({
      'a.py': PY_BUG,
      'b.pyi': PY_OK,
      'c.ts': tsBug,
      'd.tsx': tsBug,
      'e.mts': tsBug,
      'f.cts': tsBug,
      'g.js': tsBug,
      'h.jsx': tsBug,
      'i.mjs': tsBug,
      'j.cjs': tsBug,
      'notes.txt': PY_BUG,
      'README.md': PY_BUG,
      'script': PY_BUG,
    });
    const { out } = await checkJson(['.'], dir);
    assert.equal(out.files, 10);
  });

  it('leaves TypeScript declaration files out: types only, whatever syntax the grammar cannot read', async function () {
    const dir = makeTree({
      'src/step.ts': 'export function step(w: number[], g: number[], lr: number) {\n  return w.map((x, i) => x + lr * g[i]);\n}\n',
      'dist/step.d.ts': 'export declare function step(w: number[], g: number[], lr: number): number[\n',
      'dist/index.d.mts': 'export declare const lr: (\n',
    });
    const { out } = await checkJson(['.'], dir);
    assert.equal(out.files, 1);
    assert.deepEqual(out.notices.filter((n) => n.kind === 'parse-error'), []);
    const named = await runCli(['check', 'dist/step.d.ts'], dir);
    assert.match(named.stderr, /^dist\/step\.d\.ts: warning: skipped: a TypeScript declaration file \(types only, no code that runs\)$/m);
    assert.equal(named.status, 0);
  });

  it('reads a folder with no project marker as one project when it is the working folder (imports between its modules resolve)', async function () {
    const base = 'class Stepper:\n    def __init__(self, lr):\n        self.lr = lr\n\n    def _decay(self, param, lr):\n        wd = getattr(self, "weight_decay", 0.0)\n        if wd == 0.0:\n            return\n        param.data -= lr * wd * param.data\n';
    const sgdw = 'from pkg.base import Stepper\n\n\nclass SGDW(Stepper):\n    def __init__(self, lr=0.01, weight_decay=1e-4):\n        super().__init__(lr)\n        self.weight_decay = weight_decay\n\n    def step(self, params):\n        for p in params:\n            g = p.grad + self.weight_decay * p.data\n            p.data -= self.lr * g\n            self._decay(p, self.lr)\n';
    const dir = makeTree({ 'course/pkg/__init__.py': '', 'course/pkg/base.py': base, 'course/pkg/sgdw.py': sgdw, 'elsewhere/notes.txt': '' });
    // Checked from the folder itself: the base class in pkg/base.py is read, and the second decay found.
    const inside = await checkJson(['.', '--no-cache'], path.join(dir, 'course'));
    assert.deepEqual(inside.out.diagnostics.map((d) => `${d.file}:${d.code}`), ['pkg/sgdw.py:NB107']);
    // From a folder the files are not in, each file is its own folder's project: pkg.base is not found.
    const outside = await checkJson([path.join(dir, 'course'), '--no-cache'], path.join(dir, 'elsewhere'));
    assert.deepEqual(outside.out.diagnostics, []);
  });

  it("takes a package's parent as the root when the package holds only a build script (cs231n's cs231n/setup.py)", async function () {
    const layers = 'import numpy as np\n\n\ndef l2_penalty(W, reg):\n    return 0.5 * reg * np.sum(W * W)\n';
    const net = 'import numpy as np\nfrom cs231n.layers import l2_penalty\n\n\ndef step(W, dW, reg, lr):\n    dW += l2_penalty(W, reg)\n    W -= lr * dW\n    return W\n';
    const dir = makeTree({
      'assignment2/cs231n/__init__.py': '',
      'assignment2/cs231n/setup.py': 'from distutils.core import setup\n',
      'assignment2/cs231n/layers.py': layers,
      'assignment2/cs231n/classifiers/__init__.py': '',
      'assignment2/cs231n/classifiers/fc_net.py': net,
    });
    // From outside the course folder (no working-folder fallback): `cs231n.layers` resolves from
    // assignment2/, so the helper's penalty is seen where its gradient belongs.
    const { out } = await checkJson([path.join(dir, 'assignment2'), '--no-cache'], os.tmpdir());
    assert.deepEqual(out.diagnostics.map((d) => `${d.file.replace(/^.*assignment2\//, '')}:${d.line}:${d.code}`), ['cs231n/classifiers/fc_net.py:6:NB101']);
  });

  it('warns about an explicitly named file it cannot lint', async function () {
    const dir = makeTree({ 'notes.txt': 'hello\n' });
    const { status, stderr } = await runCli(['check', 'notes.txt'], dir);
    assert.match(stderr, /^notes\.txt: warning: skipped/m);
    assert.equal(status, 0);
  });

  it('does not hang on symlink loops', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = makeTree({ 'pkg/bad.py': PY_BUG });
    fs.symlinkSync('..', path.join(dir, 'pkg', 'loop'));
    fs.symlinkSync(path.join(dir, 'pkg'), path.join(dir, 'alias'));
    fs.symlinkSync('missing-target.py', path.join(dir, 'dangling.py'));
    const { status, out } = await checkJson(['.'], dir);
    assert.equal(out.diagnostics.length, 1);
    assert.equal(status, 1);
  });

  it('reads files with invalid UTF-8, warns, and still lints them', async function () {
    const bytes = Buffer.concat([Buffer.from('# caf\xe9 latin-1 comment\n', 'latin1'), Buffer.from(PY_BUG, 'utf8')]);
    const dir = makeTree({ 'latin1.py': bytes });
    const { status, stdout, stderr } = await runCli(['check', 'latin1.py'], dir);
    assert.match(stderr, /^latin1\.py: warning: invalid UTF-8 replaced$/m);
    assert.match(stdout, /^latin1\.py:4:21: NB101 /m);
    assert.equal(status, 1);
  });

  it('checks an empty file without complaint', async function () {
    const dir = makeTree({ 'empty.py': '' });
    const { status, stdout, stderr } = await runCli(['check', 'empty.py'], dir);
    assert.equal(stdout, 'All checks passed (1 file checked).\n');
    assert.equal(stderr, '');
    assert.equal(status, 0);
  });

  it('skips a binary file with a notice', async function () {
    const dir = makeTree({ 'blob.py': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x00, 0xff, 0x01, 0x00]), 'good.py': PY_OK });
    const { status, stdout, stderr } = await runCli(['check', '.'], dir);
    assert.match(stderr, /^blob\.py: warning: skipped: .*binary/m);
    assert.doesNotMatch(stderr, /invalid UTF-8/);
    assert.equal(stdout, 'All checks passed (1 file checked).\n');
    assert.equal(status, 0);
  });

  it('skips a file larger than --max-file-size without linting it', async function () {
    const dir = makeTree({ 'big.py': PY_BUG, 'small.py': 'x = 1\n' });
    const { status, stdout, stderr } = await runCli(['check', '--max-file-size', '20', '.'], dir);
    assert.match(stderr, /^big\.py: warning: skipped: the file has \d+ bytes, over the limit of 20/m);
    assert.equal(stdout, 'All checks passed (1 file checked).\n');
    assert.equal(status, 0);
  });

  it("counts a notebook's code cells against --max-file-size, not its outputs", async function () {
    const plot = { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo'.padEnd(3_900_000, 'A'), 'text/plain': ['<Figure size 640x480 with 1 Axes>'] }, metadata: {} };
    const cell = (source: string, outputs: unknown[] = []) => ({ cell_type: 'code', execution_count: 1, metadata: {}, outputs, source });
    const notebook = JSON.stringify({
      cells: [
        cell('import numpy as np\nimport matplotlib.pyplot as plt\nW = np.random.randn(784, 10) * 0.01\nlam = 5e-4'),
        cell('plt.plot(history)\nplt.show()', [plot]),
        cell('for X, y in batches:\n    dW = X.T @ (softmax(X @ W) - y) / len(X)\n    W -= 0.1 * (dW + lam * np.sum(W ** 2))'),
      ],
      metadata: { kernelspec: { language: 'python', name: 'python3' } },
      nbformat: 4,
      nbformat_minor: 5,
    });
    const dir = makeTree({ 'mnist.ipynb': notebook });
    assert.ok(fs.statSync(path.join(dir, 'mnist.ipynb')).size > 3_900_000);
    for (const args of [['--no-cache'], [], []]) {
      const { status, out, stderr } = await checkJson([...args, '.'], dir);
      assert.equal(stderr, '');
      assert.deepEqual(summarize(out.diagnostics), ['mnist.ipynb:3:22 NB101']);
      assert.equal((out.diagnostics[0] as { cell?: number }).cell, 3);
      assert.equal(status, 1);
    }
    const small = await runCli(['check', '--no-cache', '--max-file-size', '200', '.'], dir);
    assert.match(small.stderr, /^mnist\.ipynb: warning: skipped: the notebook's code cells have \d+ characters, over the limit of 200 \(--max-file-size\)$/m);
    assert.equal(small.status, 0);
  });

  it('still lints a file with a syntax error, with a note', async function () {
    const source = `${PY_BUG}\ndef broken(:\n    pass\n`;
    const dir = makeTree({ 'broken.py': source });
    const { status, out, stderr } = await checkJson(['broken.py'], dir);
    assert.match(stderr, /^broken\.py: note: syntax error/m);
    assert.equal(out.files, 1);
    assert.deepEqual(summarize(out.diagnostics), ['broken.py:3:21 NB101']);
    assert.ok(out.notices.some((n) => n.kind === 'parse-error' && n.file === 'broken.py'));
    assert.equal(status, 1);
  });

  it('places a syntax error at a typographic quote in TS/JS, which the grammar reads as part of a name', async function () {
    const dir = makeTree({
      // The whole import statement is wrapped in an ERROR node; the mistake is the ‘ at column 21.
      'quoted_import.js': "import * as tf from \u2018@tensorflow/tfjs\u2019;\nconst net = tf.sequential();\nnet.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});\n",
      // The grammar parses ‘meanSquaredError’ as an identifier, with no error node at all.
      'quoted_option.ts': "import * as tf from '@tensorflow/tfjs';\nconst net = tf.sequential();\nnet.compile({optimizer: tf.train.sgd(0.1), loss: \u2018meanSquaredError\u2019});\n",
      // Typographic quotes in comments, strings, templates and a regular expression, and names JavaScript allows.
      'quotes_in_text.js':
        "import * as tf from '@tensorflow/tfjs';\n// Don\u2019t decay the \u201cbias\u201d.\nconst caf\u00e9 = 1, \u03c0 = 3.14, \u21132 = 0.01;\n" +
        "const label = 'it\u2019s', note = `\u03bb = ${\u21132} \u2019`, quote = /[\u2018\u2019]/g;\nconst net = tf.sequential();\nnet.compile({optimizer: tf.train.sgd(\u21132), loss: 'meanSquaredError'});\n",
    });
    const { out, stderr } = await checkJson(['--no-cache', '.'], dir);
    assert.match(stderr, /^quoted_import\.js: note: syntax error at 1:21; the rest of the file was still checked$/m);
    assert.match(stderr, /^quoted_option\.ts: note: syntax error at 3:50; the rest of the file was still checked$/m);
    assert.deepEqual(out.notices.filter((n) => n.file === 'quotes_in_text.js'), []);
  });

  it('warns when there is nothing to lint', async function () {
    const dir = makeTree({ 'README.md': '# hi\n' });
    const { status, stdout, stderr } = await runCli(['check', '.'], dir);
    assert.equal(stdout, 'All checks passed (0 files checked).\n');
    assert.match(stderr, /no Python, TypeScript or JavaScript files found/);
    assert.equal(status, 0);
  });
});
