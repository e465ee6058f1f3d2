// Jupyter notebooks over LSP notebook sync, and nabla/lintWorkspace, through the real server.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, Hover, InitializeResult } from 'vscode-languageserver';
import { LspTestClient, serverPath, textAt } from './lspClient';

const CELLS = [
  'import numpy as np\n%matplotlib inline\nW = np.random.randn(3, 3)\nreg = 1e-3',
  '# the penalty, defined here\npenalty = reg * np.sum(W * W)',
  '!pip install numpy\ndW = X.T.dot(dout)\ndW += penalty\nW -= 0.1 * dW',
];
const PY_BUG = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');

let nextId = 0;

describe('language server: notebooks', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let result: InitializeResult;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    ({ client, result } = await LspTestClient.start());
  });

  after(async function () {
    await client?.stop();
  });

  function notebook(cells: string[]): { uri: string; cellUris: string[] } {
    const id = ++nextId;
    const uri = `file:///nabla-nb/${id}/analysis.ipynb`;
    return { uri, cellUris: cells.map((_, i) => `vscode-notebook-cell:/nabla-nb/${id}/analysis.ipynb#cell${i}`) };
  }

  async function openNotebook(cells: string[]): Promise<{ uri: string; cellUris: string[] }> {
    const nb = notebook(cells);
    await client.connection.sendNotification('notebookDocument/didOpen', {
      notebookDocument: { uri: nb.uri, notebookType: 'jupyter-notebook', version: 1, cells: nb.cellUris.map((document) => ({ kind: 2, document })) },
      cellTextDocuments: cells.map((text, i) => ({ uri: nb.cellUris[i], languageId: 'python', version: 1, text })),
    });
    return nb;
  }

  it('declares notebook sync for Jupyter notebooks with Python cells', function () {
    assert.deepEqual(result.capabilities.notebookDocumentSync, {
      notebookSelector: [{ notebook: { notebookType: 'jupyter-notebook' }, cells: [{ language: 'python' }] }],
    });
  });

  it('lints the cells as one program and publishes per cell: a penalty defined in one cell, misused in another', async function () {
    const nb = await openNotebook(CELLS);
    const published = await client.waitForPublish(nb.cellUris[2], (p) => p.diagnostics.length > 0);
    const [d] = published.diagnostics;
    assert.equal(published.diagnostics.length, 1, JSON.stringify(published.diagnostics));
    assert.equal(d.code, 'NB101');
    assert.deepEqual(d.range.start, { line: 2, character: 6 }, 'line 3 of the third cell');
    assert.equal(textAt(CELLS[2], d.range), 'penalty');
    const related = d.relatedInformation ?? [];
    assert.ok(
      related.some((r) => r.location.uri === nb.cellUris[1] && r.location.range.start.line === 1),
      `related information points into the second cell: ${JSON.stringify(related)}`,
    );
    // No diagnostics for the other cells, and magics (%matplotlib, !pip) are not syntax errors.
    assert.ok(!client.publishes.some((p) => (p.uri === nb.cellUris[0] || p.uri === nb.cellUris[1]) && p.diagnostics.length > 0));
    assert.ok(!client.logs.some((log) => log.message.includes(nb.uri) && /syntax error/.test(log.message)), JSON.stringify(client.logs));

    // Fixing the definition in cell 2 clears the finding in cell 3.
    const since = client.publishes.length;
    await client.connection.sendNotification('notebookDocument/didChange', {
      notebookDocument: { uri: nb.uri, version: 2 },
      change: {
        cells: {
          textContent: [
            {
              document: { uri: nb.cellUris[1], version: 2 },
              changes: [{ range: { start: { line: 1, character: 10 }, end: { line: 1, character: 29 } }, text: '2 * reg * W' }],
            },
          ],
        },
      },
    });
    const cleared = await client.waitForPublish(nb.cellUris[2], () => true, since);
    assert.deepEqual(cleared.diagnostics, []);

    const closing = client.publishes.length;
    await client.connection.sendNotification('notebookDocument/didClose', { notebookDocument: { uri: nb.uri }, cellTextDocuments: nb.cellUris.map((uri) => ({ uri })) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(client.publishes.slice(closing).every((p) => p.diagnostics.length === 0));
  });

  it('hovers in a cell as in a .py file with the same code, and names cells in messages', async function () {
    const cells = [
      'import numpy as np\n%matplotlib inline\nreg = 5e-4\nW = 0.01 * np.random.randn(784, 10)',
      'scores = X.dot(W)\nloss = np.mean((scores - y) ** 2) + reg * np.sum(W * W)',
      'dW = 2 * X.T.dot(scores - y) / len(X)\ndW += reg * W\nW -= 0.1 * dW',
    ];
    const nb = await openNotebook(cells);
    const { diagnostics } = await client.waitForPublish(nb.cellUris[2], (p) => p.diagnostics.length > 0);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range.start.line]),
      [['NB103', 1]],
    );
    assert.match(String(diagnostics[0].message), /on line 2 of cell 2, whose gradient/, 'the line of the concatenation is not shown');
    const pyUri = `file:///nabla-nb/${++nextId}/same.py`;
    await client.open(pyUri, 'python', cells.join('\n').replace('%matplotlib inline', ' '.repeat('%matplotlib inline'.length)));
    await client.diagnosticsFor(pyUri, 1);
    // The update and the gradient line of the third cell, and the same lines of the file.
    for (const [line, end] of [
      [2, 13],
      [1, 13],
    ]) {
      const inCell = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: nb.cellUris[2] }, position: { line, character: 4 } });
      const inFile = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: pyUri }, position: { line: line + 6, character: 4 } });
      assert.ok(inCell && inFile, `hovers: ${JSON.stringify([inCell, inFile])}`);
      assert.deepEqual(inCell.contents, inFile.contents);
      assert.deepEqual(inCell.range, { start: { line, character: 0 }, end: { line, character: end } });
      assert.deepEqual(inFile.range, { start: { line: line + 6, character: 0 }, end: { line: line + 6, character: end } });
    }
    await client.close(pyUri);
    await client.connection.sendNotification('notebookDocument/didClose', { notebookDocument: { uri: nb.uri }, cellTextDocuments: nb.cellUris.map((uri) => ({ uri })) });
  });

  it("names another cell's line as the notebook numbers its cells, markdown included, where the related place points", async function () {
    const id = ++nextId;
    const uri = `file:///nabla-nb/${id}/softmax.ipynb`;
    const cells: { kind: 1 | 2; languageId: string; text: string }[] = [
      { kind: 1, languageId: 'markdown', text: '# Linear classifier\nTrained with an L2 penalty.' },
      { kind: 2, languageId: 'python', text: 'import numpy as np\nreg = 5e-4\nW = 0.001 * np.random.randn(3073, 10)' },
      { kind: 1, languageId: 'markdown', text: '## Loss' },
      { kind: 2, languageId: 'python', text: 'scores = X_train.dot(W)\ndata_loss = np.mean((scores - y_train) ** 2)\nloss = data_loss + reg * np.sum(W * W)' },
      { kind: 2, languageId: 'python', text: 'dW = 2 * X_train.T.dot(scores - y_train) / len(X_train)\ndW += reg * W\nW -= 1e-7 * dW' },
    ];
    const cellUris = cells.map((_, i) => `vscode-notebook-cell:/nabla-nb/${id}/softmax.ipynb#cell${i}`);
    await client.connection.sendNotification('notebookDocument/didOpen', {
      notebookDocument: { uri, notebookType: 'jupyter-notebook', version: 1, cells: cells.map((cell, i) => ({ kind: cell.kind, document: cellUris[i] })) },
      cellTextDocuments: cells.map((cell, i) => ({ uri: cellUris[i], languageId: cell.languageId, version: 1, text: cell.text })),
    });
    const { diagnostics } = await client.waitForPublish(cellUris[4], (p) => p.diagnostics.length > 0);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range.start.line]),
      [['NB103', 1]],
    );
    assert.match(String(diagnostics[0].message), / the loss adds reg·ΣW² on line 3 of cell 4, whose gradient/);
    assert.deepEqual(
      (diagnostics[0].relatedInformation ?? []).map((r) => [r.location.uri, r.location.range.start.line + 1]),
      [[cellUris[3], 3]],
      'the related place is line 3 of the fourth cell',
    );
    await client.connection.sendNotification('notebookDocument/didClose', { notebookDocument: { uri }, cellTextDocuments: cellUris.map((cell) => ({ uri: cell })) });
  });

  it("logs a syntax error with its cell and the cell's line", async function () {
    const nb = await openNotebook(['import numpy as np\nreg = 1e-4', '# evaluation\ndef evaluate(model, X:\n    pass']);
    const found = (): boolean => client.logs.some((log) => log.message === `${nb.uri}: syntax error in cell 2 at 2:1; the rest of the notebook was still checked`);
    for (let waited = 0; !found() && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(found(), JSON.stringify(client.logs.filter((log) => log.message.includes(nb.uri))));
    await client.connection.sendNotification('notebookDocument/didClose', { notebookDocument: { uri: nb.uri }, cellTextDocuments: nb.cellUris.map((uri) => ({ uri })) });
  });

  it('offers code actions in a cell, with edits for that cell', async function () {
    const nb = await openNotebook(['import numpy as np', 'def grad(W, X, dout, reg):\n    dW = X.T.dot(dout)\n    dW += reg * np.sum(W * W)\n    return dW']);
    const { diagnostics } = await client.waitForPublish(nb.cellUris[1], (p) => p.diagnostics.length > 0);
    assert.equal(diagnostics[0].range.start.line, 2);
    const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: nb.cellUris[1] },
      range: diagnostics[0].range,
      context: { diagnostics },
    });
    const fix = actions.find((a) => a.title.endsWith('(unsafe)'));
    assert.ok(fix, JSON.stringify(actions.map((a) => a.title)));
    assert.deepEqual(Object.keys(fix.edit?.changes ?? {}), [nb.cellUris[1]]);
    assert.deepEqual(fix.edit?.changes?.[nb.cellUris[1]], [{ range: diagnostics[0].range, newText: '2 * reg * W' }]);
    const ignore = actions.find((a) => a.title === 'Ignore NB101 on this line');
    assert.deepEqual(ignore?.edit?.changes?.[nb.cellUris[1]]?.[0].newText, '  # nabla: ignore[NB101]');
    await client.connection.sendNotification('notebookDocument/didClose', { notebookDocument: { uri: nb.uri }, cellTextDocuments: nb.cellUris.map((uri) => ({ uri })) });
  });
});

describe('language server: nabla/lintWorkspace', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let dir: string;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-ws-'));
    const files: Record<string, string> = {
      'src/bad.py': PY_BUG,
      'src/good.py': PY_BUG.replace('reg * np.sum(W * W)', '2 * reg * W'),
      'src/open.py': PY_BUG,
      'vendor/lib.py': PY_BUG,
      'ignored/skip.py': PY_BUG,
      '.gitignore': 'ignored/\n',
      'nabla.toml': 'exclude = ["vendor/"]\n',
      'nb.ipynb': JSON.stringify({
        cells: [
          { cell_type: 'markdown', source: ['# notes'], metadata: {} },
          { cell_type: 'code', source: ['import numpy as np\n', 'pen = reg * np.sum(W * W)'], metadata: {}, outputs: [], execution_count: null },
          { cell_type: 'code', source: ['dW += pen'], metadata: {}, outputs: [], execution_count: null },
        ],
        metadata: { kernelspec: { language: 'python', name: 'python3', display_name: 'Python 3' } },
        nbformat: 4,
        nbformat_minor: 5,
      }),
    };
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    client = (await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href], capabilities: { window: { workDoneProgress: true } } })).client;
  });

  after(async function () {
    await client?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the findings of every file, respecting exclude and .gitignore, with progress', async function () {
    const open = pathToFileURL(path.join(dir, 'src/open.py')).href;
    await client.open(open, 'python', PY_BUG.replace('reg * np.sum(W * W)', '2 * reg * W'));
    await client.diagnosticsFor(open, 1);
    const since = client.publishes.length;
    const token = 'lint-workspace-1';
    const result = await client.connection.sendRequest<{ files: number; filesWithFindings: number; findings: number; open: number; cancelled: boolean }>('nabla/lintWorkspace', { workDoneToken: token });
    assert.deepEqual(result, { files: 3, filesWithFindings: 2, findings: 2, open: 1, cancelled: false });
    const published = client.publishes.slice(since);
    const names = published.filter((p) => p.diagnostics.length > 0).map((p) => path.relative(dir, new URL(p.uri).pathname).split(path.sep).join('/'));
    assert.deepEqual(names.sort(), ['nb.ipynb', 'src/bad.py']);
    assert.ok(!published.some((p) => p.uri === open), 'the open document keeps its live diagnostics');
    const nb = published.find((p) => p.uri.endsWith('nb.ipynb'));
    assert.match(String(nb?.diagnostics[0].message ?? ''), /^cell 3, line 1: /);
    const kinds = client.progress.filter((p) => p.token === token).map((p) => p.value.kind);
    assert.equal(kinds[0], 'begin');
    assert.equal(kinds.at(-1), 'end');
    await client.close(open);
  });
});

describe('language server: a notebook in its project', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let dir: string;
  const HELPER_PENALTY = ['import numpy as np', '', 'def l2_term(W, reg):', '    return reg * np.sum(W * W)', ''].join('\n');

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-nbproj-'));
    fs.mkdirSync(path.join(dir, 'course'));
    fs.writeFileSync(path.join(dir, 'requirements.txt'), 'numpy\n');
    fs.writeFileSync(path.join(dir, 'course', 'helpers.py'), HELPER_PENALTY);
    client = (await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href] })).client;
  });

  after(async function () {
    await client?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the module beside it that a cell imports, and lints again when that module is edited', async function () {
    const uri = pathToFileURL(path.join(dir, 'course', 'train.ipynb')).href;
    const cellUris = [0, 1].map((i) => `vscode-notebook-cell:${new URL(uri).pathname}#cell${i}`);
    const cells = ['import numpy as np\nfrom helpers import l2_term', 'W -= lr * (dW + l2_term(W, reg))'];
    await client.connection.sendNotification('notebookDocument/didOpen', {
      notebookDocument: { uri, notebookType: 'jupyter-notebook', version: 1, cells: cellUris.map((document) => ({ kind: 2, document })) },
      cellTextDocuments: cells.map((text, i) => ({ uri: cellUris[i], languageId: 'python', version: 1, text })),
    });
    // The helper returns the penalty, and the cell adds it to the gradient: NB101, found through the import.
    const published = await client.waitForPublish(cellUris[1], (p) => p.diagnostics.length > 0);
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['NB101'],
    );
    // The helper is opened and fixed in the editor: the notebook, unchanged, is linted again and its finding goes.
    const helper = pathToFileURL(path.join(dir, 'course', 'helpers.py')).href;
    await client.open(helper, 'python', HELPER_PENALTY);
    const since = client.publishes.length;
    await client.change(helper, [{ range: { start: { line: 3, character: 11 }, end: { line: 3, character: 30 } }, text: '2 * reg * W' }]);
    const cleared = await client.waitForPublish(cellUris[1], () => true, since);
    assert.deepEqual(cleared.diagnostics, []);
    await client.close(helper);
  });
});
