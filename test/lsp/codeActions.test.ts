// Code actions, fix-all and suppressions through the real server (`node dist/server.js --stdio`).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { CodeAction, Diagnostic, InitializeResult, TextEdit } from 'vscode-languageserver';
import { LspTestClient, serverPath } from './lspClient';

/** NB101 on line 3 with an unsafe fix (`2 * reg * W`). */
const PY_FIXABLE = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');
const PY_OK = PY_FIXABLE.replace('reg * np.sum(W * W)', '2 * reg * W');
const TS_BUG = ['function step(w, g, lr, reg) {', '  w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));', '  return w;', '}', ''].join('\n');

let nextId = 0;
function uri(name: string): string {
  return `file:///nabla-actions/${++nextId}-${name}`;
}

/** Applies a WorkspaceEdit's edits for `doc` through didChange (last edit first, so positions hold). */
async function apply(client: LspTestClient, doc: string, edits: TextEdit[]): Promise<number> {
  const sorted = [...edits].sort((a, b) => b.range.start.line - a.range.start.line || b.range.start.character - a.range.start.character);
  return client.change(
    doc,
    sorted.map((edit) => ({ range: edit.range, text: edit.newText })),
  );
}

function editsOf(action: CodeAction, doc: string): TextEdit[] {
  const edits = action.edit?.changes?.[doc];
  assert.ok(edits && edits.length > 0, `${action.title} has edits for the document`);
  return edits;
}

describe('language server: code actions', function () {
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

  function actions(doc: string, diagnostics: Diagnostic[], only?: string[]): Promise<CodeAction[]> {
    const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    return client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: doc },
      range,
      context: { diagnostics, ...(only ? { only } : {}) },
    });
  }

  it('declares quick fixes, source.fixAll.nabla and the documentation command', function () {
    const caps = result.capabilities;
    const provider = caps.codeActionProvider;
    assert.ok(typeof provider === 'object' && provider.codeActionKinds);
    assert.deepEqual([...provider.codeActionKinds].sort(), ['quickfix', 'source.fixAll.nabla']);
    assert.deepEqual(caps.executeCommandProvider?.commands, ['nabla.showDocumentation']);
  });

  it('offers the rule fix labelled unsafe, ignore-on-this-line, ignore-in-file and documentation', async function () {
    const doc = uri('grad.py');
    await client.open(doc, 'python', PY_FIXABLE);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    const list = await actions(doc, diagnostics);
    const titles = list.map((a) => a.title);
    assert.deepEqual(titles, [
      'Replace the penalty with its gradient 2 * reg * W (unsafe)',
      'Ignore NB101 on this line',
      'Ignore NB101 in this file',
      'Show documentation for NB101',
    ]);
    for (const action of list) {
      assert.equal(action.kind, 'quickfix');
      assert.deepEqual(action.diagnostics, diagnostics);
    }
    assert.equal(list[0].isPreferred, false, 'an unsafe fix is never preferred');
    assert.deepEqual(editsOf(list[0], doc), [{ range: diagnostics[0].range, newText: '2 * reg * W' }]);
    assert.deepEqual(list[3].command, { title: 'Show documentation for NB101', command: 'nabla.showDocumentation', arguments: [diagnostics[0].codeDescription?.href] });

    // Applying the unsafe fix gives the corrected file, which lints clean.
    const fixed = await apply(client, doc, editsOf(list[0], doc));
    assert.equal(client.text(doc), PY_OK);
    assert.deepEqual(await client.diagnosticsFor(doc, fixed), []);
    await client.close(doc);
  });

  it('"Ignore NB101 on this line" writes a suppression that the engine honours', async function () {
    const doc = uri('ignore.py');
    await client.open(doc, 'python', PY_FIXABLE);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    const ignore = (await actions(doc, diagnostics)).find((a) => a.title === 'Ignore NB101 on this line');
    assert.ok(ignore);
    const version = await apply(client, doc, editsOf(ignore, doc));
    assert.equal(client.text(doc).split('\n')[3], '    dW += reg * np.sum(W * W)  # nabla: ignore[NB101]');
    assert.deepEqual(await client.diagnosticsFor(doc, version), []);
    await client.close(doc);
  });

  it('writes // nabla-ignore in TypeScript', async function () {
    const doc = uri('step.ts');
    await client.open(doc, 'typescript', TS_BUG);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    const ignore = (await actions(doc, diagnostics)).find((a) => a.title === 'Ignore NB101 on this line');
    assert.ok(ignore);
    const version = await apply(client, doc, editsOf(ignore, doc));
    assert.match(client.text(doc).split('\n')[1], /\);  \/\/ nabla-ignore NB101$/);
    assert.deepEqual(await client.diagnosticsFor(doc, version), []);
    await client.close(doc);
  });

  it('reports an unused suppression (NB001, faded) with a preferred safe fix and no ignore action', async function () {
    const doc = uri('unused.py');
    await client.open(doc, 'python', PY_OK.replace('2 * reg * W', '2 * reg * W  # nabla: ignore[NB101]'));
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    const [d] = diagnostics;
    assert.equal(d.code, 'NB001');
    assert.equal(d.severity, 2);
    assert.deepEqual(d.tags, [1], 'DiagnosticTag.Unnecessary');
    const list = await actions(doc, diagnostics);
    assert.deepEqual(
      list.map((a) => [a.title, a.isPreferred ?? false]),
      [
        ['Remove the unused suppression', true],
        ['Show documentation for NB001', false],
      ],
    );
    const version = await apply(client, doc, editsOf(list[0], doc));
    assert.equal(client.text(doc), PY_OK);
    assert.deepEqual(await client.diagnosticsFor(doc, version), []);
    await client.close(doc);
  });

  it('source.fixAll.nabla applies the safe fixes only, without diagnostics in the request', async function () {
    const doc = uri('fixall.py');
    const text = `${PY_FIXABLE}x = 1  # nabla: ignore\ny = 2  # nabla: ignore[NB101]\n`;
    await client.open(doc, 'python', text);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.deepEqual(diagnostics.map((d) => d.code).sort(), ['NB001', 'NB001', 'NB101']);
    for (const only of [['source.fixAll'], ['source.fixAll.nabla'], ['source']]) {
      const list = await actions(doc, [], only);
      assert.equal(list.length, 1, `${only}: ${JSON.stringify(list)}`);
      assert.equal(list[0].kind, 'source.fixAll.nabla');
    }
    assert.deepEqual(await actions(doc, [], ['quickfix']), [], 'not a quick fix');
    assert.ok(!(await actions(doc, diagnostics)).some((a) => a.kind === 'source.fixAll.nabla'), 'not in the lightbulb');

    const [fixAll] = await actions(doc, [], ['source.fixAll']);
    const version = await apply(client, doc, editsOf(fixAll, doc));
    assert.equal(client.text(doc), `${PY_FIXABLE}x = 1\ny = 2\n`, 'the unsafe NB101 fix is not applied');
    assert.deepEqual((await client.diagnosticsFor(doc, version)).map((d) => d.code), ['NB101']);
    assert.deepEqual(await actions(doc, [], ['source.fixAll']), [], 'nothing left to fix safely');
    await client.close(doc);
  });

  it('nabla.showDocumentation asks the client to open the rule page', async function () {
    const href = 'https://github.com/nabla-lint/nabla/blob/main/docs/rules/NB101.md';
    await client.connection.sendRequest('workspace/executeCommand', { command: 'nabla.showDocumentation', arguments: [href] });
    assert.deepEqual(client.shownDocuments.at(-1), { uri: href, external: true });
  });

  it('ignores diagnostics from other tools', async function () {
    const doc = uri('other.py');
    await client.open(doc, 'python', PY_OK);
    await client.diagnosticsFor(doc, 1);
    const foreign: Diagnostic = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } }, message: 'x', source: 'ruff', code: 'F401' };
    assert.deepEqual(await actions(doc, [foreign]), []);
    await client.close(doc);
  });
});
