// Notebook cells as one program: concatenation, magics, mapping back, and the .ipynb format.
import * as assert from 'node:assert/strict';
import { concatenateCells, initEngine, lintCells, lintText, locateRange, parseIpynb, Project, replaceIpynbSources } from '../../server/engine';
import { applyEdits, selectFixes } from '../../server/engine/fixes';

describe('notebooks', function () {
  before(() => initEngine());

  it('concatenates cells on fresh lines and blanks IPython syntax, keeping columns', function () {
    const nb = concatenateCells([
      { index: 0, text: 'import numpy as np\n%matplotlib inline\n!pip install x \\\n  y\nnp.sum?' },
      { index: 3, text: '%%bash\necho hi' },
      { index: 5, text: '%%time\nx = 1\n' },
    ]);
    const lines = nb.text.split('\n');
    assert.equal(lines[0], 'import numpy as np');
    assert.equal(lines[1], ' '.repeat('%matplotlib inline'.length));
    assert.equal(lines[2].trim() + lines[3].trim() + lines[4].trim(), '', 'shell escape with its continuation, and help');
    assert.equal(lines[5].trim() + lines[6].trim(), '', 'a %%bash cell is blanked whole');
    assert.equal(lines[8], 'x = 1', 'a %%time cell keeps its Python');
    assert.deepEqual(
      nb.cells.map((c) => [c.index, c.startLine, c.lineCount]),
      [
        [0, 0, 5],
        [3, 5, 2],
        [5, 7, 2],
      ],
    );
    assert.deepEqual(locateRange(nb, { start: { line: 8, character: 0 }, end: { line: 8, character: 5 } })?.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 5 } });
    assert.equal(locateRange(nb, { start: { line: 4, character: 0 }, end: { line: 6, character: 1 } }), undefined, 'across cells');
    const wholeLast = locateRange(nb, { start: { line: 6, character: 0 }, end: { line: 7, character: 0 } });
    assert.deepEqual(wholeLast?.range.end, { line: 1, character: 7 }, 'clamped to the end of the cell');
  });

  it('keeps a `%` that continues a logical line (modulo, formatting) and blanks one that starts it', function () {
    const cell = [
      'for epoch in range(3):',
      '    line = ("epoch %d: loss %.4f, acc %.2f"',
      '            % (epoch, loss, acc))',
      '    note = "step %d" \\',
      '        % step',
      '    doc = """',
      '%(name)s: a template line',
      '"""',
      '    print(line)  # (a comment does not open a bracket',
      '%timeit forward(X)',
      'np.sum?',
      'layers[0].W??',
    ].join('\n');
    const nb = concatenateCells([{ index: 0, text: cell }]);
    const lines = nb.text.split('\n');
    assert.equal(lines[2], '            % (epoch, loss, acc))');
    assert.equal(lines[4], '        % step');
    assert.equal(lines[6], '%(name)s: a template line');
    assert.equal(lines[9].trim() + lines[10].trim() + lines[11].trim(), '', 'magics and help at the start of a logical line are still blanked');
    assert.deepEqual([...nb.cells[0].blanked], [9, 10, 11]);
    const { notices } = lintCells([{ index: 0, text: 'loss, acc = 0.5, 0.9\nmsg = ("loss %.4f, acc %.2f"\n       % (loss, acc))\nprint(msg)\n' }], {});
    assert.deepEqual(notices, [], 'no syntax error');
  });

  it("blanks IPython's automagic commands (`cd data/`, `pip install x`) and keeps the same names used as Python", function () {
    const nb = concatenateCells([
      { index: 0, text: 'import numpy as np\ncd /content/project/examples/\npip install torch==2.1\nls -la' },
      { index: 2, text: 'cd = 3\nrun = cd * 2\nrun -= 1\nenv(run)\ncat.update(x)\nmkdir\nx = np.zeros(run)' },
    ]);
    assert.deepEqual([...nb.cells[0].blanked], [1, 2, 3]);
    assert.deepEqual([...nb.cells[1].blanked], [], 'assigned, updated, called, read as an attribute, or alone: Python');
    const { notices } = lintCells(
      [
        { index: 0, text: 'import numpy as np' },
        { index: 1, text: 'cd /content/project/examples/' },
        { index: 3, text: 'x = np.zeros(3)' },
      ],
      {},
    );
    assert.deepEqual(notices, [], 'no syntax error: the command is not Python');
  });

  it('reads a block of only magics as a body, and names an empty block\'s header by its line in the cell', function () {
    const magics = lintCells(
      [
        { index: 0, text: 'import numpy as np\nIN_COLAB = False' },
        { index: 1, text: '%matplotlib inline\nif IN_COLAB:\n    !pip install torch\n    %cd /content\nx = np.zeros(3)' },
      ],
      {},
    );
    assert.deepEqual(magics.notices, [], 'no syntax error: IPython runs the magics as the if\'s body');
    const empty = lintCells(
      [
        { index: 0, text: 'import numpy as np' },
        { index: 1, text: 'def init(dims):\n    params = {}\n    for l in range(1, len(dims)):\n        # YOUR CODE HERE\n    return params' },
      ],
      {},
    );
    assert.deepEqual(empty.notices, [{ kind: 'parse-error', message: "syntax error in cell 2 at 5:5 (expected an indented block after 'for' statement on line 3); the rest of the notebook was still checked" }]);
    // A cell that ends with a header: Jupyter compiles the cell alone, so the error is at its end, not in the next cell.
    const header = lintCells(
      [
        { index: 0, text: 'import numpy as np' },
        { index: 1, text: 'def grad(theta, x, y):' },
        { index: 2, text: 'rate = 0.1' },
      ],
      {},
    );
    assert.deepEqual(header.notices, [{ kind: 'parse-error', message: 'syntax error in cell 2 at 1:1 (expected an indented block after function definition on line 1); the rest of the notebook was still checked' }]);
    // The fast path (no training math in the notebook) names the cell too, alone and in a project.
    const plain = [
      { index: 0, text: 'import numpy as np' },
      { index: 1, text: 'def show(x):' },
      { index: 2, text: 'print(1)' },
    ];
    const plainNotice = [{ kind: 'parse-error', message: 'syntax error in cell 2 at 1:1 (expected an indented block after function definition on line 1); the rest of the notebook was still checked' }];
    assert.deepEqual(lintCells(plain, { prefilter: true }).notices, plainNotice);
    const project = new Project({ root: '/nb', host: { readFile: () => undefined } });
    assert.deepEqual(lintCells(plain, { prefilter: true }, undefined, { project, path: '/nb/plain.ipynb' }).notices, plainNotice);
    // Python 2's backtick repr in a cell: at the cell's line; backticks in a cell's comment are text.
    const backticks = lintCells(
      [
        { index: 0, text: 'import numpy as np  # see `np.ones`' },
        { index: 1, text: 'w = np.ones(3)\ns = `w`' },
      ],
      {},
    );
    assert.deepEqual(backticks.notices, [{ kind: 'parse-error', message: "syntax error in cell 2 at 2:5 (backticks are Python 2's repr(), which Python 3 removed: write repr(...)); the rest of the notebook was still checked" }]);
  });

  it('stays silent on a correct assignment notebook that formats with % on continuation lines', function () {
    const { findings, notices } = lintCells(
      [
        { index: 0, text: '%load_ext autoreload\n%autoreload 2\nimport numpy as np\nfrom data_utils import load_mnist' },
        { index: 2, text: 'X_train, y_train = load_mnist()\nprint("train: %d examples, %d features"\n      % X_train.shape)' },
        {
          index: 3,
          text: [
            'def l2_loss_and_grad(W, X, y, reg):',
            '    """Least squares with an L2 penalty.',
            '',
            '%(reg)s is the strength; the gradient of reg * sum(W**2) is 2 * reg * W.',
            '    """',
            '    residual = X.dot(W) - y',
            '    loss = 0.5 * np.mean(residual ** 2) + reg * np.sum(W * W)',
            '    dW = X.T.dot(residual) / X.shape[0] + 2 * reg * W',
            '    return loss, dW',
          ].join('\n'),
        },
        {
          index: 4,
          text: [
            'W = 0.001 * np.random.randn(X_train.shape[1])',
            'for it in range(500):',
            '    loss, dW = l2_loss_and_grad(W, X_train, y_train, reg=1e-4)',
            '    W -= 1e-2 * dW',
            '    if it % 100 == 0:',
            '        print("iteration %d / %d: loss %f" \\',
            '              % (it, 500, loss))',
            '%timeit l2_loss_and_grad(W, X_train, y_train, 1e-4)',
          ].join('\n'),
        },
      ],
      {},
    );
    assert.deepEqual(notices, []);
    assert.deepEqual(findings, []);
  });

  it('names the cell and its own line in messages and syntax-error notes', function () {
    const { findings, notices } = lintCells(
      [
        { index: 0, text: 'import numpy as np\nreg = 1e-3\nW = 0.001 * np.random.randn(3073, 10)' },
        { index: 2, text: 'scores = X_train.dot(W)\ndata_loss = np.mean((scores - y_train) ** 2)\nloss = data_loss + reg * np.sum(W * W)' },
        { index: 3, text: 'dW = 2 * X_train.T.dot(scores - y_train) / len(X_train)\ndW += reg * W\nW -= 1e-7 * dW' },
        { index: 5, text: 'def evaluate(:\n    pass' },
      ],
      {},
    );
    assert.deepEqual(
      findings.map((f) => [f.code, f.cell]),
      [['NB103', 3]],
    );
    assert.match(findings[0].message, /the loss adds reg·ΣW² on line 3 of cell 3, whose gradient/);
    assert.deepEqual(
      findings[0].related.map((r) => [r.cell, r.range.start.line]),
      [[2, 2]],
      'the related place is the same cell and line (0-based)',
    );
    assert.deepEqual(notices, [{ kind: 'parse-error', message: 'syntax error in cell 6 at 1:14; the rest of the notebook was still checked' }]);
  });

  it("writes another cell's line into a message as the rules report it, with the caller's cell names; without cells, the line of the text", function () {
    const cells = [
      { index: 0, text: 'import torch\nimport torch.nn.functional as F\nl1, l2 = 1e-5, 1e-4' },
      { index: 1, text: 'optimizer.zero_grad()\nreg = l1 * sum(p.abs().sum() for p in model.parameters())\nloss = F.mse_loss(model(x), y)' },
      { index: 3, text: '# try L2 instead\nreg = l2 * sum(p.pow(2).sum() for p in model.parameters())\nloss = loss + reg\nloss.backward()\noptimizer.step()' },
    ];
    const { findings, notices, notebook } = lintCells(cells, {}, (cell) => cell.index + 2);
    assert.deepEqual(notices, []);
    assert.deepEqual(
      findings.map((f) => [f.code, f.cell, f.message, f.related.map((r) => [r.cell, r.range.start.line + 1])]),
      [['NB304', 1, 'the penalty reg is overwritten on line 2 of cell 5 before it is used: it never reaches the loss', [[3, 2]]]],
    );
    const plain = lintText(notebook.text, { language: 'python' });
    assert.deepEqual(
      plain.findings.map((f) => [f.code, f.message]),
      [['NB304', 'the penalty reg is overwritten on line 8 before it is used: it never reaches the loss']],
    );
  });

  it('finds a penalty defined in one cell and misused in another', function () {
    const { findings, notices } = lintCells(
      [
        { index: 1, text: 'import numpy as np\n%load_ext autoreload\nreg = 1e-3' },
        { index: 2, text: 'penalty = reg * np.sum(W * W)' },
        { index: 4, text: 'dW = X.T.dot(dout)\ndW += penalty' },
      ],
      {},
    );
    assert.deepEqual(notices, []);
    assert.equal(findings.length, 1);
    assert.equal(findings[0].code, 'NB101');
    assert.equal(findings[0].cell, 4);
    assert.deepEqual(findings[0].range.start, { line: 1, character: 6 });
    assert.deepEqual(
      findings[0].related.map((r) => [r.cell, r.range.start.line]),
      [[2, 0]],
    );
  });

  it('maps fixes into their cell and applies them', function () {
    const cells = [
      { index: 0, text: 'import numpy as np' },
      { index: 1, text: 'def grad(W, X, dout, reg):\n    dW = X.T.dot(dout)\n    dW += reg * np.sum(W * W)\n    return dW' },
    ];
    const { findings } = lintCells(cells, {});
    const fix = findings[0].fix;
    assert.ok(fix);
    assert.deepEqual(
      fix.edits.map((e) => e.cell),
      [1],
    );
    const [chosen] = selectFixes([fix]);
    assert.equal(applyEdits(cells[1].text, chosen.edits), cells[1].text.replace('reg * np.sum(W * W)', '2 * reg * W'));
  });

  it('reads .ipynb JSON and writes new sources back in the same layout', function () {
    const json = '{\n "cells": [\n  {\n   "cell_type": "code",\n   "source": [\n    "a = 1\\n",\n    "b = 2"\n   ]\n  },\n  {\n   "cell_type": "markdown",\n   "source": "# hi"\n  }\n ],\n "metadata": {},\n "nbformat": 4\n}\n';
    const parsed = parseIpynb(json);
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.cells.map((c) => [c.index, c.kind, c.source]),
      [
        [0, 'code', 'a = 1\nb = 2'],
        [1, 'markdown', '# hi'],
      ],
    );
    assert.equal(parsed.language, 'python');
    const written = replaceIpynbSources(json, new Map([[0, 'a = 1\nb = 3']]));
    assert.equal(written, json.replace('"b = 2"', '"b = 3"'));
    // An empty language name declares nothing: the notebook is Python.
    const unnamed = parseIpynb('{"cells": [], "metadata": {"kernelspec": {"name": ""}, "language_info": {"name": ""}}, "nbformat": 4}');
    assert.ok(unnamed.ok && unnamed.language === 'python');
    const julia = parseIpynb('{"cells": [], "metadata": {"kernelspec": {"language": " "}, "language_info": {"name": "julia"}}, "nbformat": 4}');
    assert.ok(julia.ok && julia.language === 'julia');
    assert.equal(parseIpynb('{"cells": 3}').ok, false);
    assert.equal(parseIpynb('not json').ok, false);
  });

  it('reads nbformat 3 notebooks (cells in worksheets, code in `input`) and writes fixes back there', function () {
    const notebook = {
      metadata: { name: '' },
      nbformat: 3,
      worksheets: [
        {
          cells: [
            { cell_type: 'heading', level: 1, source: ['Softmax'] },
            { cell_type: 'code', language: 'python', input: ['penalty = reg * np.sum(W * W)\n'], outputs: [] },
          ],
        },
        { cells: [{ cell_type: 'code', language: 'python', input: 'dW = X.T.dot(dout)\ndW += penalty', outputs: [] }] },
      ],
    };
    // Jupyter's layout: one-space indentation and a final line break.
    const json = JSON.stringify(notebook, null, 1) + '\n';
    const parsed = parseIpynb(json);
    assert.ok(parsed.ok, 'an nbformat 3 notebook is read');
    assert.equal(parsed.language, 'python');
    assert.deepEqual(
      parsed.cells.map((c) => [c.index, c.kind, c.source]),
      [
        [0, 'heading', 'Softmax'],
        [1, 'code', 'penalty = reg * np.sum(W * W)\n'],
        [2, 'code', 'dW = X.T.dot(dout)\ndW += penalty'],
      ],
    );
    // The cells are one program across the worksheets: the penalty of cell 2 used as a gradient in cell 3.
    const linted = lintCells(parsed.cells.filter((c) => c.kind === 'code').map((c) => ({ index: c.index, text: c.source })), {});
    assert.deepEqual(linted.findings.map((f) => [f.code, f.cell]), [['NB101', 2]]);
    const written = replaceIpynbSources(json, new Map([[2, 'dW = X.T.dot(dout)\ndW += 2 * reg * W']]));
    assert.equal(written, json.replace('dW += penalty', 'dW += 2 * reg * W'));
  });

  it('selectFixes skips a fix that overlaps an earlier one', function () {
    const at = (line: number, from: number, to: number) => ({ range: { start: { line, character: from }, end: { line, character: to } }, newText: 'x' });
    const fixes = [{ edits: [at(0, 0, 5)] }, { edits: [at(0, 3, 8)] }, { edits: [at(0, 5, 6)] }, { edits: [at(1, 0, 1)] }];
    assert.deepEqual(selectFixes(fixes), [fixes[0], fixes[2], fixes[3]]);
  });
  it('reads the project modules its cells import, with related places in those modules', function () {
    // A course notebook beside its package: the optimizer decays, and the model's own method adds L2 to the loss.
    const model = ['import torch.nn as nn', '', 'class Net(nn.Module):', '    def __init__(self):', '        super().__init__()', '        self.fc = nn.Linear(10, 2)', '', '    def l2(self):', '        return sum((p ** 2).sum() for p in self.parameters())', ''].join('\n');
    const files = new Map([['/course/lib/__init__.py', ''], ['/course/lib/model.py', model]]);
    const cells = [
      { index: 0, text: 'import torch\nfrom lib.model import Net\n' },
      { index: 2, text: 'net = Net()\nopt = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=1e-4)\nfor x, y in batches:\n    loss = ((net(x) - y) ** 2).mean() + 1e-4 * net.l2()\n    opt.zero_grad()\n    loss.backward()\n    opt.step()\n' },
    ];
    const alone = lintCells(cells, {});
    assert.deepEqual(alone.findings.map((f) => f.code), [], 'alone, the method is unknown');
    const project = new Project({ root: '/course', host: { readFile: (p: string) => files.get(p) } });
    const inProject = lintCells(cells, {}, undefined, { project, path: '/course/train.ipynb' });
    const nb201 = inProject.findings.find((f) => f.code === 'NB201');
    assert.ok(nb201, 'NB201: the loss adds the method penalty and the optimizer decays');
    assert.deepEqual([nb201.cell, nb201.range.start.line], [2, 1]);
    const nb204 = inProject.findings.find((f) => f.code === 'NB204');
    assert.ok(nb204);
    // The biased layer is in the module: its place keeps its path, not a cell of the notebook.
    assert.deepEqual(nb204.related.map((r) => [r.path, r.cell, r.range.start.line]), [['/course/lib/model.py', undefined, 5]]);
  });
});
