// The language server without a disk, as it runs in a browser worker (server/lsp/host.ts): open
// documents are linted alone and with the editor's settings, the project file is not read, no file
// watchers are asked for, and Lint Workspace answers why it cannot run. The same workspace in the
// Node server (nodeHost.ts) reads the project file. Spawns out/test/lsp/noDiskServer.js.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LINT_WORKSPACE_NEEDS_DISK, LINT_WORKSPACE_REQUEST } from '../../server/lsp/protocol';
import { LspTestClient, serverPath } from './lspClient';

const noDiskServer = path.join(__dirname, 'noDiskServer.js');

/** NB101 on line 4 (0-based 3). */
const HELPER = ['import numpy as np', 'def grad(W, X, dout, reg):', '    dW = X.T.dot(dout)', '    dW += reg * np.sum(W * W)', '    return dW', ''].join('\n');

describe('language server without a disk (the browser host)', function () {
  this.timeout(30000);
  let dir: string;
  const clients: LspTestClient[] = [];

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-nodisk-'));
    fs.writeFileSync(path.join(dir, 'nabla.toml'), '[severity]\nNB101 = "hint"\n');
    fs.writeFileSync(path.join(dir, 'helper.py'), HELPER);
  });

  after(async function () {
    for (const client of clients.splice(0)) await client.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(command: string[]): Promise<LspTestClient> {
    const { client } = await LspTestClient.start({ command, workspaceFolders: [pathToFileURL(dir).href], capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
    clients.push(client);
    return client;
  }

  it('lints an open document alone, with the editor settings, and asks for no file watchers', async function () {
    const client = await start([noDiskServer, '--stdio']);
    const helper = pathToFileURL(path.join(dir, 'helper.py')).href;
    await client.open(helper, 'python', HELPER);
    // nabla.toml's severity is not read: NB101 keeps its default severity (error).
    assert.deepEqual((await client.diagnosticsFor(helper, 1)).map((d) => [d.code, d.severity, d.range.start.line]), [['NB101', 1, 3]]);
    assert.deepEqual(client.registrations, []);
  });

  it('answers Lint Workspace with why it cannot run', async function () {
    const client = clients[0] ?? (await start([noDiskServer, '--stdio']));
    await assert.rejects(client.connection.sendRequest(LINT_WORKSPACE_REQUEST, { folders: [pathToFileURL(dir).href] }), (error: Error) => error.message === LINT_WORKSPACE_NEEDS_DISK);
  });

  it('(the Node server, for contrast, reads the project file)', async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    const client = await start([serverPath, '--stdio']);
    const helper = pathToFileURL(path.join(dir, 'helper.py')).href;
    await client.open(helper, 'python', HELPER);
    assert.deepEqual((await client.diagnosticsFor(helper, 1)).map((d) => [d.code, d.severity]), [['NB101', 4]]);
  });
});
