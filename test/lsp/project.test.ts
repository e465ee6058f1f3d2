// The project file (nabla.toml / pyproject.toml [tool.nabla]) in the language server: applied to
// open documents, layered under the editor settings, reloaded on workspace/didChangeWatchedFiles,
// and problems shown once. Spawns `node dist/server.js --stdio`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspTestClient, serverPath } from './lspClient';

/** NB101 on line 3. */
const PY_BUG = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-lsp-'));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

function fileUri(dir: string, rel: string): string {
  return pathToFileURL(path.join(dir, rel)).href;
}

describe('language server: project configuration', function () {
  this.timeout(30000);
  let client: LspTestClient;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    client = (await LspTestClient.start({ capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } })).client;
  });

  after(async function () {
    await client?.stop();
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (Object.keys(client.config).length > 0) await client.configure({});
  });

  async function changed(file: string): Promise<void> {
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToFileURL(file).href, type: 2 }] });
  }

  it('registers watchers for nabla.toml, pyproject.toml, the source files and the pages', async function () {
    const deadline = Date.now() + 5000;
    while (!client.registrations.some((r) => r.method === 'workspace/didChangeWatchedFiles') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const registration = client.registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles');
    assert.ok(registration, JSON.stringify(client.registrations));
    const patterns = (registration.registerOptions as { watchers: { globPattern: string }[] }).watchers.map((w) => w.globPattern);
    assert.deepEqual(patterns.sort(), ['**/*.{html,htm}', '**/*.{py,pyi,ts,mts,cts,tsx,js,jsx,mjs,cjs}', '**/nabla.toml', '**/pyproject.toml']);
  });

  it('applies nabla.toml to open documents and reloads it when it changes', async function () {
    const dir = project({ 'nabla.toml': 'ignore = ["NB101"]\n' });
    const doc = fileUri(dir, 'src/train.py');
    await client.open(doc, 'python', PY_BUG);
    assert.deepEqual(await client.diagnosticsFor(doc, 1), []);

    fs.writeFileSync(path.join(dir, 'nabla.toml'), '[severity]\nNB101 = "warning"\n');
    let since = client.publishes.length;
    await changed(path.join(dir, 'nabla.toml'));
    const warned = (await client.waitForPublish(doc, (p) => p.diagnostics.length > 0, since)).diagnostics;
    assert.deepEqual(
      warned.map((d) => [d.code, d.severity]),
      [['NB101', 2]],
    );

    fs.rmSync(path.join(dir, 'nabla.toml'));
    since = client.publishes.length;
    await changed(path.join(dir, 'nabla.toml'));
    const defaults = (await client.waitForPublish(doc, () => true, since)).diagnostics;
    assert.deepEqual(
      defaults.map((d) => [d.code, d.severity]),
      [['NB101', 1]],
    );
    await client.close(doc);
  });

  it('reads [tool.nabla] in pyproject.toml: per-file-ignores and exclude', async function () {
    const dir = project({
      'pyproject.toml': [
        '[project]',
        'name = "demo"',
        '',
        '[tool.nabla]',
        'exclude = ["generated/"]',
        '',
        '[tool.nabla.per-file-ignores]',
        '"tests/**" = ["NB1"]',
        '',
      ].join('\n'),
    });
    const src = fileUri(dir, 'src/train.py');
    const test = fileUri(dir, 'tests/test_train.py');
    const generated = fileUri(dir, 'generated/model.py');
    await client.open(src, 'python', PY_BUG);
    await client.open(test, 'python', PY_BUG);
    await client.open(generated, 'python', PY_BUG);
    assert.deepEqual((await client.diagnosticsFor(src, 1)).map((d) => d.code), ['NB101']);
    assert.deepEqual(await client.diagnosticsFor(test, 1), []);
    assert.deepEqual(await client.diagnosticsFor(generated, 1), []);
    for (const doc of [src, test, generated]) await client.close(doc);
  });

  it('layers the editor settings on top: select adds to the file, severity overrides it', async function () {
    const dir = project({ 'nabla.toml': 'select = ["NB0"]\n[severity]\nNB101 = "hint"\n' });
    const doc = fileUri(dir, 'train.py');
    await client.open(doc, 'python', PY_BUG);
    assert.deepEqual(await client.diagnosticsFor(doc, 1), [], 'the file selects NB0 only');

    let since = client.publishes.length;
    await client.configure({ select: ['NB1'] });
    const selected = (await client.waitForPublish(doc, (p) => p.diagnostics.length > 0, since)).diagnostics;
    assert.deepEqual(
      selected.map((d) => [d.code, d.severity]),
      [['NB101', 4]],
      'NB1 is added to the file select; the file severity applies',
    );

    since = client.publishes.length;
    await client.configure({ select: ['NB1'], severity: { NB101: 'error' } });
    const overridden = (await client.waitForPublish(doc, (p) => p.diagnostics[0]?.severity === 1, since)).diagnostics;
    assert.equal(overridden.length, 1);
    await client.close(doc);
  });

  it('shows a problem in the file once, naming the file and key, and lints with the rest', async function () {
    const dir = project({ 'nabla.toml': 'select = ["NB1", "NBX"]\n' });
    const doc = fileUri(dir, 'train.py');
    const before = client.messages.length;
    await client.open(doc, 'python', PY_BUG);
    assert.deepEqual((await client.diagnosticsFor(doc, 1)).map((d) => d.code), ['NB101']);
    const shown = client.messages.slice(before);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.equal(shown[0].type, 2, 'a warning');
    assert.match(shown[0].message, /nabla\.toml: select\[1\]: "NBX" is not a rule code/);
    assert.ok(client.logs.some((log) => log.message.includes('select[1]: "NBX" is not a rule code')));

    // The same problem after a reload is not shown again.
    const since = client.publishes.length;
    await changed(path.join(dir, 'nabla.toml'));
    await client.waitForPublish(doc, () => true, since);
    assert.equal(client.messages.length, before + 1);
    await client.close(doc);
  });

  it('falls back to the defaults for a file that is not valid TOML', async function () {
    const dir = project({ 'nabla.toml': 'select = [\n' });
    const doc = fileUri(dir, 'train.py');
    const before = client.messages.length;
    await client.open(doc, 'python', PY_BUG);
    assert.deepEqual((await client.diagnosticsFor(doc, 1)).map((d) => d.code), ['NB101']);
    assert.match(client.messages[before]?.message ?? '', /nabla\.toml: invalid TOML at line \d+/);
    await client.close(doc);
  });
});
