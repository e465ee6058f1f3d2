// Files a walk leaves out, opened in the editor: the server lints what `nabla check <folder>` and Lint
// Workspace list, and leaves alone what they skip (build output, installed packages, virtual
// environments, minified JavaScript, the project file's `exclude`), as Ruff's server does with its
// `exclude`; the Output channel says why, once. A negated pattern brings a file back everywhere.
// Spawns `node dist/server.js --stdio`, and `dist/cli.js` for the comparison with the CLI.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cliPath, LspTestClient, serverPath } from './lspClient';

/** NB101 on line 3. */
const PY_BUG = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');
/** NB101 on line 4. */
const JS_BUG = [
  'function step(W, dW, reg, lr) {',
  '  for (let i = 0; i < W.length; i++) {',
  '    let pen = 0;',
  '    for (let j = 0; j < W.length; j++) pen += W[j] * W[j];',
  '    W[i] -= lr * (dW[i] + reg * pen);',
  '  }',
  '}',
  '',
].join('\n');
/** The same step as a bundler writes it: one long line of code (defaultExclude.ts `looksMinified`). */
const JS_BUNDLE =
  'function step(W,dW,reg,lr){for(let i=0;i<W.length;i++){let pen=0;for(let j=0;j<W.length;j++)pen+=W[j]*W[j];W[i]-=lr*(dW[i]+reg*pen);}}' +
  Array.from({ length: 24 }, (_, i) => `function f${i}(a,b){return g(a,b)+h(a);}`).join('') +
  '\n';

function uriOf(dir: string, rel: string): string {
  return pathToFileURL(path.join(dir, rel)).href;
}

function relOf(dir: string, uri: string): string {
  return path.relative(dir, new URL(uri).pathname).split(path.sep).join('/');
}

describe('language server: files a walk leaves out', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let dir: string;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-excluded-')));
    const files: Record<string, string> = {
      'nabla.toml': 'exclude = ["legacy/", "!dist/", "!static/app.bundle.js"]\n',
      'src/train.py': PY_BUG,
      'build/lib/train.py': PY_BUG, // build output, left out by default
      'dist/train.py': PY_BUG, // left out by default, brought back by `!dist/`
      'legacy/train.py': PY_BUG, // the project file's exclude
      'env2/pyvenv.cfg': 'home = /usr/bin\n', // a virtual environment under any name
      'env2/lib/train.py': PY_BUG,
      'static/step.js': JS_BUG,
      'static/step.min.js': JS_BUG, // minified by its name
      'static/vendor.js': JS_BUNDLE, // minified by its content
      'static/app.bundle.js': JS_BUNDLE, // minified, brought back by name
    };
    for (const [rel, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    client = (await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href] })).client;
  });

  after(async function () {
    await client?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The codes published for a file opened with its text on disk. */
  async function opened(rel: string): Promise<string[]> {
    const uri = uriOf(dir, rel);
    await client.open(uri, rel.endsWith('.py') ? 'python' : 'javascript', fs.readFileSync(path.join(dir, rel), 'utf8'));
    const codes = (await client.diagnosticsFor(uri, 1)).map((d) => String(d.code));
    await client.close(uri);
    return codes;
  }

  it('lints an open file a folder walk lists, and leaves alone one it leaves out', async function () {
    assert.deepEqual(await opened('src/train.py'), ['NB101']);
    assert.deepEqual(await opened('static/step.js'), ['NB101']);
    assert.deepEqual(await opened('build/lib/train.py'), [], 'build output');
    assert.deepEqual(await opened('env2/lib/train.py'), [], 'a virtual environment');
    assert.deepEqual(await opened('legacy/train.py'), [], "the project file's exclude");
    assert.deepEqual(await opened('static/step.min.js'), [], 'minified by name');
    assert.deepEqual(await opened('static/vendor.js'), [], 'minified by content');
    // A negated pattern brings back what the defaults leave out, in the editor as on the command line.
    assert.deepEqual(await opened('dist/train.py'), ['NB101']);
    assert.deepEqual(await opened('static/app.bundle.js'), ['NB101']);
  });

  it('says once in the output why an open file is not checked, and how to check it', async function () {
    const notes = () => client.logs.filter((l) => l.message.includes('build/lib/train.py is not checked'));
    const before = notes().length;
    await opened('build/lib/train.py');
    await opened('build/lib/train.py');
    const added = notes().slice(before);
    assert.ok(added.length <= 1, JSON.stringify(added));
    const all = notes();
    assert.ok(all.length >= 1);
    assert.equal(all[0].type, 3, 'an information');
    assert.match(all[0].message, /it is in build\/, a folder Nabla leaves out by default.*negated pattern.*exclude = \["!build\/"\]/);
  });

  it('follows an open file\'s text: minified JavaScript typed into a file is left alone, and checked again when it is not', async function () {
    const uri = uriOf(dir, 'static/step.js');
    await client.open(uri, 'javascript', JS_BUG);
    assert.deepEqual((await client.diagnosticsFor(uri, 1)).map((d) => d.code), ['NB101']);
    const v2 = await client.change(uri, [{ text: JS_BUNDLE }]);
    assert.deepEqual(await client.diagnosticsFor(uri, v2), []);
    const v3 = await client.change(uri, [{ text: JS_BUG }]);
    assert.deepEqual((await client.diagnosticsFor(uri, v3)).map((d) => d.code), ['NB101']);
    await client.close(uri);
  });

  it("leaves alone a notebook in Jupyter's checkpoints folder, and lints the same notebook beside it", async function () {
    const cells = ['import numpy as np\npen = reg * np.sum(W * W)', 'dW += pen'];
    const openNotebook = async (rel: string): Promise<string[]> => {
      const uri = uriOf(dir, rel);
      const cellUris = cells.map((_, i) => `vscode-notebook-cell:${new URL(uri).pathname}#cell${i}`);
      await client.connection.sendNotification('notebookDocument/didOpen', {
        notebookDocument: { uri, notebookType: 'jupyter-notebook', version: 1, cells: cellUris.map((document) => ({ kind: 2, document })) },
        cellTextDocuments: cells.map((text, i) => ({ uri: cellUris[i], languageId: 'python', version: 1, text })),
      });
      return cellUris;
    };
    const since = client.publishes.length;
    const checkpoint = await openNotebook('.ipynb_checkpoints/train-checkpoint.ipynb');
    const notebook = await openNotebook('train.ipynb');
    const published = await client.waitForPublish(notebook[1], (p) => p.diagnostics.length > 0, since);
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['NB101'],
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const leaked = client.publishes.slice(since).filter((p) => checkpoint.includes(p.uri) && p.diagnostics.length > 0);
    assert.deepEqual(leaked, []);
  });

  it('Lint Workspace and nabla check report the same files', async function () {
    const since = client.publishes.length;
    await client.connection.sendRequest('nabla/lintWorkspace', {});
    const editor = client.publishes
      .slice(since)
      .filter((p) => p.diagnostics.length > 0)
      .map((p) => relOf(dir, p.uri))
      .sort();
    const json = execFileSync(process.execPath, [cliPath, 'check', '.', '--no-cache', '--exit-zero', '--format', 'json'], { cwd: dir, encoding: 'utf8' });
    const cli = [...new Set((JSON.parse(json) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file))].sort();
    assert.deepEqual(editor, ['dist/train.py', 'src/train.py', 'static/app.bundle.js', 'static/step.js']);
    assert.deepEqual(editor, cli);
  });
});
