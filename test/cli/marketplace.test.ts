// `nabla check` for fixes, statistics, GitHub annotations, --exit-zero, suppressions, project
// files and notebooks, through the real bundle (`node dist/cli.js`).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeData, escapeProperty } from '../../server/cli/format/github';
import { makeTree, removeTrees, runCli } from './helpers';

/** NB101 at 4:11 with an unsafe fix (`2 * reg * W`). */
const PY_FIXABLE = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');
const PY_FIXED = PY_FIXABLE.replace('reg * np.sum(W * W)', '2 * reg * W');
/** A clean file with an unused suppression: NB001 at 4:24 with a safe fix. */
const PY_UNUSED = PY_FIXED.replace('2 * reg * W', '2 * reg * W  # nabla: ignore[NB101]');

interface JsonOut {
  files: number;
  fixed?: number;
  diagnostics: { file: string; cell?: number; line: number; column: number; code: string; related: { cell?: number; line: number }[]; fix?: { safety: string } }[];
}

function json(stdout: string): JsonOut {
  return JSON.parse(stdout) as JsonOut;
}

function notebookJson(cells: { type: 'code' | 'markdown'; source: string }[], language = 'python'): string {
  const nb = {
    cells: cells.map((cell) => ({
      cell_type: cell.type,
      metadata: {},
      source: cell.source.match(/[^\n]*\n|[^\n]+$/g) ?? [],
      ...(cell.type === 'code' ? { execution_count: null, outputs: [] } : {}),
    })),
    metadata: { kernelspec: { display_name: 'Python 3', language, name: 'python3' }, language_info: { name: language } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(nb, null, 1)}\n`;
}

describe('nabla check: fixes, formats, suppressions, configuration, notebooks', function () {
  this.timeout(60000);
  after(removeTrees);

  describe('--fix', function () {
    it('applies safe fixes only, writes the file, and reports what remains', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE.replace('    return dW', '    x = 1  # nabla: ignore\n    return dW') });
      const { status, stdout } = await runCli(['check', '--fix', 'a.py'], dir);
      assert.equal(fs.readFileSync(path.join(dir, 'a.py'), 'utf8'), PY_FIXABLE.replace('    return dW', '    x = 1\n    return dW'));
      assert.match(stdout, /^a\.py:4:11: NB101 /m, 'the unsafe fix is not applied');
      assert.match(stdout, /^Fixed 1 problem in 1 file\.$/m);
      assert.equal(status, 1);
    });

    it('with --unsafe-fixes applies NB101 too: the fixed file is right and lints clean', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE, 'b.py': PY_UNUSED });
      const { status, stdout } = await runCli(['check', '--fix', '--unsafe-fixes', '.'], dir);
      assert.equal(fs.readFileSync(path.join(dir, 'a.py'), 'utf8'), PY_FIXED);
      assert.equal(fs.readFileSync(path.join(dir, 'b.py'), 'utf8'), PY_FIXED);
      assert.equal(stdout, 'Fixed 2 problems in 2 files.\nAll checks passed (2 files checked).\n');
      assert.equal(status, 0);
      assert.equal((await runCli(['check', '.'], dir)).status, 0, 'lints clean afterwards');
    });

    it('reports the fixed count in JSON and leaves files without fixes untouched', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE });
      const before = fs.statSync(path.join(dir, 'a.py')).mtimeMs;
      const { stdout } = await runCli(['check', '--fix', '--format', 'json', 'a.py'], dir);
      const out = json(stdout);
      assert.equal(out.fixed, 0);
      assert.equal(out.diagnostics.length, 1);
      assert.equal(fs.statSync(path.join(dir, 'a.py')).mtimeMs, before);
    });

    it('does not fix a file with syntax errors', async function () {
      const broken = `${PY_UNUSED}def f(:\n`;
      const dir = makeTree({ 'a.py': broken });
      await runCli(['check', '--fix', 'a.py'], dir);
      assert.equal(fs.readFileSync(path.join(dir, 'a.py'), 'utf8'), broken);
    });

    it('suggests --fix when safe fixes are available', async function () {
      const dir = makeTree({ 'a.py': PY_UNUSED });
      const { stdout } = await runCli(['check', 'a.py'], dir);
      assert.match(stdout, /^\[\*\] 1 fixable with --fix\.$/m);
    });

    it('rejects --unsafe-fixes without --fix', async function () {
      const { status, stderr } = await runCli(['check', '--unsafe-fixes', '.']);
      assert.equal(status, 2);
      assert.match(stderr, /--unsafe-fixes only applies with --fix/);
    });
  });

  describe('--statistics', function () {
    it('counts findings per code, marking safe [*] and unsafe [-] fixes', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE, 'b.py': PY_FIXABLE, 'c.py': PY_UNUSED });
      const { status, stdout } = await runCli(['check', '--statistics', '.'], dir);
      assert.equal(stdout, '2  NB101  [-] penalty-as-gradient\n1  NB001  [*] unused-suppression\nFound 3 problems in 3 files (3 files checked).\n');
      assert.equal(status, 1);
    });

    it('prints JSON with --format json, and rejects sarif', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE });
      const { stdout } = await runCli(['check', '--statistics', '--format', 'json', '.'], dir);
      assert.deepEqual(JSON.parse(stdout), [{ code: 'NB101', name: 'penalty-as-gradient', count: 1, fixable: 0, unsafeFixable: 1 }]);
      assert.equal((await runCli(['check', '--statistics', '--format', 'sarif', '.'], dir)).status, 2);
    });
  });

  describe('--format github', function () {
    it('prints one workflow annotation per finding', async function () {
      const dir = makeTree({ 'src/a.py': PY_FIXABLE, 'src/b.py': PY_UNUSED });
      const { status, stdout } = await runCli(['check', '--format', 'github', 'src'], dir);
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.length, 2, stdout);
      assert.match(lines[0], /^::error file=src\/a\.py,line=4,col=11,endLine=4,endColumn=30,title=NB101::\S.*$/);
      assert.match(lines[1], /^::warning file=src\/b\.py,line=4,col=24,endLine=4,endColumn=46,title=NB001::unused suppression/);
      assert.equal(status, 1);
    });

    it('escapes properties and messages', async function () {
      assert.equal(escapeProperty('a,b:c%\n'), 'a%2Cb%3Ac%25%0A');
      assert.equal(escapeData('50% a,b:c\r\n'), '50%25 a,b:c%0D%0A');
    });
  });

  describe('--exit-zero', function () {
    it('exits 0 with findings, and still 2 for a missing path', async function () {
      const dir = makeTree({ 'a.py': PY_FIXABLE });
      const found = await runCli(['check', '--exit-zero', 'a.py'], dir);
      assert.match(found.stdout, /NB101/);
      assert.equal(found.status, 0);
      assert.equal((await runCli(['check', '--exit-zero', 'a.py', 'missing.py'], dir)).status, 2);
    });
  });

  describe('suppressions', function () {
    it('honours # nabla: ignore[...] and reports unused ones as NB001', async function () {
      const dir = makeTree({
        'a.py': PY_FIXABLE.replace('np.sum(W * W)', 'np.sum(W * W)  # nabla: ignore[NB101]'),
        'b.py': PY_UNUSED,
        'c.ts': 'function step(w, g, lr, reg) {\n  w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr)); // nabla-ignore NB101\n  return w;\n}\n',
      });
      const { stdout } = await runCli(['check', '--format', 'json', '.'], dir);
      assert.deepEqual(
        json(stdout).diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.fix?.safety}`),
        ['b.py:4 NB001 safe'],
      );
    });

    it('NB001 follows --ignore', async function () {
      const dir = makeTree({ 'b.py': PY_UNUSED });
      assert.equal((await runCli(['check', '--ignore', 'NB001', 'b.py'], dir)).status, 0);
    });
  });

  describe('project configuration', function () {
    it('reads nabla.toml: ignore, severity, exclude, per-file-ignores', async function () {
      const dir = makeTree({
        'nabla.toml': ['exclude = ["vendor/"]', '[per-file-ignores]', '"tests/*.py" = ["NB101"]', '[severity]', 'NB101 = "warning"', ''].join('\n'),
        'src/a.py': PY_FIXABLE,
        'tests/test_a.py': PY_FIXABLE,
        'vendor/lib.py': PY_FIXABLE,
      });
      const { status, stdout, stderr } = await runCli(['check', '--format', 'json', '.'], dir);
      assert.equal(stderr, '');
      const out = json(stdout);
      assert.equal(out.files, 2, 'vendor/ is excluded');
      assert.deepEqual(
        out.diagnostics.map((d) => `${d.file} ${d.code}`),
        ['src/a.py NB101'],
      );
      assert.equal((JSON.parse(stdout) as { diagnostics: { severity: string }[] }).diagnostics[0].severity, 'warning');
      assert.equal(status, 1);
      // Named explicitly, an excluded file is still checked (as the walker does for .gitignore).
      assert.match((await runCli(['check', 'vendor/lib.py'], dir)).stdout, /NB101/);
    });

    it('--force-exclude: exclude covers files and folders named explicitly too (as pre-commit names them)', async function () {
      const dir = makeTree({
        'nabla.toml': 'exclude = ["vendor/", "**/*_pb2.py"]\n',
        'src/a.py': PY_FIXABLE,
        'src/model_pb2.py': PY_FIXABLE,
        'vendor/lib.py': PY_FIXABLE,
      });
      const named = ['check', '--force-exclude', '--format', 'json', 'src/a.py', 'src/model_pb2.py', 'vendor/lib.py', 'vendor'];
      const some = await runCli(named, dir);
      assert.equal(some.stderr, '');
      assert.equal(some.status, 1);
      assert.deepEqual(json(some.stdout).diagnostics.map((d) => d.file), ['src/a.py']);
      assert.equal(json(some.stdout).files, 1);
      // Every file named is excluded: nothing checked, exit 0 (a commit of vendored code only), as for an empty folder.
      const none = await runCli(['check', '--force-exclude', 'vendor/lib.py', 'src/model_pb2.py'], dir);
      assert.deepEqual([none.status, none.stderr], [0, 'nabla: warning: no Python, TypeScript or JavaScript files found\n']);
      // Without a project file, nothing is excluded.
      assert.equal((await runCli(['check', '--force-exclude', '--no-config', 'vendor/lib.py'], dir)).status, 1);
    });

    it('reads [tool.nabla] in pyproject.toml, the nearest config above each file', async function () {
      const dir = makeTree({
        'pyproject.toml': '[project]\nname = "x"\n\n[tool.nabla]\nignore = ["NB101"]\n',
        'a.py': PY_FIXABLE,
        'sub/pyproject.toml': '[project]\nname = "no nabla table here"\n',
        'sub/b.py': PY_FIXABLE,
        'other/nabla.toml': 'select = ["NB1"]\n',
        'other/c.py': PY_FIXABLE,
      });
      const { stdout } = await runCli(['check', '--format', 'json', '.'], dir);
      assert.deepEqual(
        json(stdout).diagnostics.map((d) => d.file),
        ['other/c.py'],
        'a pyproject.toml without [tool.nabla] is passed over; nabla.toml in other/ applies there',
      );
    });

    it('--select replaces the file select, --ignore adds to its ignore', async function () {
      const dir = makeTree({ 'nabla.toml': 'select = ["NB0"]\n', 'a.py': PY_FIXABLE, 'b.py': PY_UNUSED });
      const codes = async (args: string[]): Promise<string[]> => json((await runCli(['check', '--format', 'json', ...args, '.'], dir)).stdout).diagnostics.map((d) => d.code);
      assert.deepEqual(await codes([]), [], 'NB101 is not selected, so its suppression in b.py cannot be judged');
      assert.deepEqual(await codes(['--select', 'NB1']), ['NB101']);
      assert.deepEqual(await codes(['--select', 'NB0,NB1']), ['NB101', 'NB001']);
      assert.deepEqual(await codes(['--select', 'NB0,NB1', '--ignore', 'NB001']), ['NB101']);
    });

    it('warns about invalid values on stderr, naming the file and key, keeps the rest, and keeps the exit status', async function () {
      const dir = makeTree({ 'nabla.toml': 'select = ["NB1", "NBX"]\ncolour = "blue"\n[severity]\nNB101 = "loud"\n', 'good.py': PY_FIXED });
      const { status, stdout, stderr } = await runCli(['check', '.'], dir);
      assert.equal(stdout, 'All checks passed (1 file checked).\n');
      assert.match(stderr, /^nabla: warning: nabla\.toml: select\[1\]: "NBX" is not a rule code$/m);
      assert.match(stderr, /^nabla: warning: nabla\.toml: colour: unknown key/m);
      assert.match(stderr, /^nabla: warning: nabla\.toml: severity\.NB101: "loud" is not one of error, warning, information, hint$/m);
      assert.equal(status, 0);
      const bad = makeTree({ 'nabla.toml': 'select = ["NB1", "NBX"]\n', 'a.py': PY_FIXABLE });
      assert.match((await runCli(['check', '.'], bad)).stdout, /NB101/, 'the valid part of select applies');
    });

    it('uses the defaults for a file that is not valid TOML', async function () {
      const dir = makeTree({ 'nabla.toml': 'ignore = ["NB101"\n', 'a.py': PY_FIXABLE });
      const { status, stdout, stderr } = await runCli(['check', '.'], dir);
      assert.match(stderr, /^nabla: warning: nabla\.toml: invalid TOML at line \d+, column \d+: .*; using the defaults$/m);
      assert.match(stdout, /NB101/);
      assert.equal(status, 1);
    });

    it('--config PATH and --no-config', async function () {
      const dir = makeTree({ 'nabla.toml': 'ignore = ["NB101"]\n', 'ci/strict.toml': 'select = ["ALL"]\n', 'a.py': PY_FIXABLE });
      assert.equal((await runCli(['check', '.'], dir)).status, 0);
      assert.equal((await runCli(['check', '--no-config', '.'], dir)).status, 1);
      assert.equal((await runCli(['check', '--config', 'ci/strict.toml', '.'], dir)).status, 1);
      const missing = await runCli(['check', '--config', 'nope.toml', '.'], dir);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /--config: no such file: nope\.toml/);
    });
  });

  describe('notebooks', function () {
    const cells: { type: 'code' | 'markdown'; source: string }[] = [
      { type: 'markdown', source: '# Training' },
      { type: 'code', source: 'import numpy as np\n%matplotlib inline\nW = np.random.randn(3, 3)\nreg = 1e-3' },
      { type: 'code', source: 'penalty = reg * np.sum(W * W)' },
      { type: 'code', source: '!nvidia-smi\ndW = X.T.dot(dout)\ndW += penalty' },
    ];

    it('lints .ipynb files as one program: a penalty defined in one cell, misused in another', async function () {
      const dir = makeTree({ 'nb.ipynb': notebookJson(cells) });
      const { status, stdout, stderr } = await runCli(['check', '.'], dir);
      assert.equal(stderr, '', 'magics are not syntax errors');
      const lines = stdout.trimEnd().split('\n');
      assert.match(lines[0], /^nb\.ipynb:cell 4:3:7: NB101 gradient dW adds the penalty /);
      assert.equal(lines[1], '    nb.ipynb:cell 3:1:1: note: penalty is defined here');
      assert.equal(status, 1);

      const out = json((await runCli(['check', '--format', 'json', 'nb.ipynb'], dir)).stdout);
      assert.equal(out.diagnostics.length, 1);
      const [d] = out.diagnostics;
      assert.deepEqual({ file: d.file, cell: d.cell, line: d.line, column: d.column }, { file: 'nb.ipynb', cell: 4, line: 3, column: 7 });
      assert.deepEqual(
        d.related.map((r) => [r.cell, r.line]),
        [[3, 1]],
      );
    });

    it("names another cell's line in a message as the cell and its line, where its related place points (text and json); a .py file keeps its lines", async function () {
      const softmax: typeof cells = [
        { type: 'markdown', source: '# Linear classifier\nTrained with an L2 penalty.' },
        { type: 'code', source: 'import numpy as np\n%matplotlib inline\nreg = 5e-4\nW = 0.001 * np.random.randn(3073, 10)' },
        { type: 'markdown', source: '## Loss' },
        { type: 'code', source: 'scores = X_train.dot(W)\ndata_loss = np.mean((scores - y_train) ** 2)\nloss = data_loss + reg * np.sum(W * W)' },
        { type: 'code', source: 'dW = 2 * X_train.T.dot(scores - y_train) / len(X_train)\ndW += reg * W\nW -= 1e-7 * dW' },
        { type: 'code', source: 'def evaluate(model, X:\n    pass' },
      ];
      const script = softmax
        .filter((cell) => cell.type === 'code')
        .map((cell) => cell.source.replace('%matplotlib inline', '# inline plots'))
        .join('\n')
        .replace('def evaluate(model, X:', 'def evaluate(model, X):');
      const dir = makeTree({ 'softmax.ipynb': notebookJson(softmax), 'softmax.py': `${script}\n` });
      const text = await runCli(['check', 'softmax.ipynb'], dir);
      const lines = text.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^softmax\.ipynb:cell 5:2:7: NB103 .* the loss adds reg·ΣW² on line 3 of cell 4, whose gradient/);
      assert.equal(lines[1], '    softmax.ipynb:cell 4:3:20: note: the penalty reg·ΣW² is added to the loss here', 'the related place is the line the message names');
      assert.equal(text.stderr, 'softmax.ipynb: note: syntax error in cell 6 at 1:1; the rest of the notebook was still checked\n');

      const out = JSON.parse((await runCli(['check', '--format', 'json', 'softmax.ipynb'], dir)).stdout) as { diagnostics: { cell: number; message: string; related: { cell: number; line: number }[] }[] };
      const [d] = out.diagnostics;
      assert.match(d.message, / on line 3 of cell 4, /);
      assert.deepEqual(
        d.related.map((r) => [r.cell, r.line]),
        [[4, 3]],
      );

      const py = await runCli(['check', 'softmax.py'], dir);
      assert.match(py.stdout, /^softmax\.py:9:7: NB103 .* the loss adds reg·ΣW² on line 7, whose gradient/m);
      assert.match(py.stdout, /^ {4}softmax\.py:7:20: note: the penalty reg·ΣW² is added to the loss here$/m);
    });

    it('skips notebooks in other languages, and reports broken ones', async function () {
      const dir = makeTree({ 'r.ipynb': notebookJson(cells, 'R'), 'broken.ipynb': '{"cells": [' });
      const { status, stderr } = await runCli(['check', '.'], dir);
      assert.match(stderr, /^broken\.ipynb: warning: skipped: not a valid notebook/m);
      assert.match(stderr, /^r\.ipynb: warning: skipped: a r notebook, not Python/m);
      assert.equal(status, 0);
    });

    it('--fix edits the cells and keeps the notebook JSON as Jupyter writes it', async function () {
      const fixable: typeof cells = [
        { type: 'markdown', source: '# Training' },
        { type: 'code', source: 'import numpy as np\n%time x = 1' },
        { type: 'code', source: 'def grad(W, X, dout, reg):\n    dW = X.T.dot(dout)\n    dW += reg * np.sum(W * W)\n    return dW' },
        { type: 'code', source: 'y = 2  # nabla: ignore[NB101]' },
      ];
      const dir = makeTree({ 'nb.ipynb': notebookJson(fixable) });
      const { status, stdout } = await runCli(['check', '--fix', '--unsafe-fixes', 'nb.ipynb'], dir);
      assert.equal(stdout, 'Fixed 2 problems in 1 file.\nAll checks passed (1 file checked).\n');
      assert.equal(status, 0);
      const expected = notebookJson([
        fixable[0],
        fixable[1],
        { type: 'code', source: fixable[2].source.replace('reg * np.sum(W * W)', '2 * reg * W') },
        { type: 'code', source: 'y = 2' },
      ]);
      assert.equal(fs.readFileSync(path.join(dir, 'nb.ipynb'), 'utf8'), expected);
    });
  });
});
