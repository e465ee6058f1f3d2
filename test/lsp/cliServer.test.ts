// `nabla server`, as other editors start it: spawns `node dist/cli.js server` and speaks LSP to it as
// a client without VS Code's conventions would (no `nabla` settings section, documents whose
// language id is empty or the client's own). Run `node scripts/build.mjs` first.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CodeAction, Diagnostic, Hover, MarkupContent } from 'vscode-languageserver';
import { runCli } from '../cli/helpers';
import { cliPath, LspTestClient, textAt } from './lspClient';

const PY_BUG = ['import numpy as np', '', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');
const PENALTY = 'reg * np.sum(W * W)';
const JS_BUG = ["const tf = require('@tensorflow/tfjs');", 'function step(w, g, lr, reg) {', '  w.assign(w.sub(g.add(w.square().sum().mul(reg)).mul(lr)));', '}', ''].join('\n');

let nextId = 0;
const uri = (name: string): string => `file:///nabla-cli-server-test/${++nextId}-${name}`;

describe('nabla server (the CLI starts the language server on stdio)', function () {
  this.timeout(30000);
  let client: LspTestClient;

  before(async function () {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run node scripts/build.mjs first`);
    // Like Helix or eglot: no workspace/configuration, hovers in markdown.
    const started = await LspTestClient.start({
      command: [cliPath, 'server'],
      configurationPull: false,
      capabilities: { textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] } } },
    });
    client = started.client;
    assert.equal(started.result.capabilities.hoverProvider, true);
  });

  after(async function () {
    await client?.stop();
  });

  async function hover(doc: string, line: number, character: number): Promise<string | undefined> {
    const answer = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: doc }, position: { line, character } });
    return answer ? (answer.contents as MarkupContent).value : undefined;
  }

  function assertPenaltyFinding(doc: string, diagnostics: Diagnostic[]): void {
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assert.equal(diagnostics[0].code, 'NB101');
    assert.equal(diagnostics[0].source, 'nabla');
    assert.equal(textAt(client.text(doc), diagnostics[0].range), PENALTY);
  }

  it('publishes diagnostics, answers hovers with the Unicode lines and TeX, and offers code actions', async function () {
    const doc = uri('train.py');
    await client.open(doc, 'python', PY_BUG);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assertPenaltyFinding(doc, diagnostics);

    const md = await hover(doc, 3, 10);
    assert.ok(md, 'a hover on the update');
    assert.ok(md.includes('Correct update: W ← W − η(∂L/∂W + 2λW)'), md);
    assert.ok(md.includes('```latex\nW \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + 2\\lambda W\\right)\n```'), md);

    const actions = await client.connection.sendRequest<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri: doc },
      range: diagnostics[0].range,
      context: { diagnostics },
    });
    assert.deepEqual(actions.map((a) => a.title), [
      'Replace the penalty with its gradient 2 * reg * W (unsafe)',
      'Ignore NB101 on this line',
      'Ignore NB101 in this file',
      'Show documentation for NB101',
    ]);
    await client.close(doc);
  });

  it('judges a document with an empty language id by its file extension', async function () {
    const doc = uri('train.py');
    await client.open(doc, '', PY_BUG);
    assertPenaltyFinding(doc, await client.diagnosticsFor(doc, 1));
    assert.ok((await hover(doc, 3, 10))?.includes('Correct update: W ← W − η(∂L/∂W + 2λW)'));
    await client.close(doc);
  });

  it("judges a language id the LSP specification does not list (eglot's js) by the extension", async function () {
    const doc = uri('step.js');
    await client.open(doc, 'js', JS_BUG);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.deepEqual(diagnostics.map((d) => d.code), ['NB101']);
    assert.equal(textAt(JS_BUG, diagnostics[0].range), 'w.square().sum().mul(reg)');
    await client.close(doc);
  });

  it('ignores other languages the client names, and files of other extensions without a language id', async function () {
    const ignored = [
      [uri('notes.txt'), ''],
      [uri('README'), ''],
      [uri('notes.txt'), 'text'],
      [uri('train.py'), 'plaintext'],
      [uri('train.py'), 'markdown'],
    ];
    for (const [doc, languageId] of ignored) await client.open(doc, languageId, PY_BUG);
    // A document opened after them is linted: they had their turn.
    const after = uri('after.py');
    await client.open(after, '', PY_BUG);
    await client.diagnosticsFor(after, 1);
    await sleep(300);
    for (const [doc, languageId] of ignored) {
      assert.equal(client.publishes.filter((p) => p.uri === doc).length, 0, `${doc} (${JSON.stringify(languageId)}) is not linted`);
      assert.equal(await hover(doc, 3, 10), undefined);
    }
    for (const [doc] of [...ignored, [after]]) await client.close(doc);
  });
});

describe('nabla server --help', function () {
  it('in-process (no process of its own to serve on), exits 2 and says why', async function () {
    const { status, stdout, stderr } = await runCli(['server']);
    assert.equal(status, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /the language server needs a process of its own/);
  });

  it('says it starts the language server on stdio, and nabla --help lists it', function () {
    const help = spawnSync(process.execPath, [cliPath, 'server', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: nabla server \[--stdio\]\n/);
    assert.match(help.stdout, /language server, the same one the VS Code extension runs/);
    assert.match(help.stdout, /stdin and stdout/);
    const general = spawnSync(process.execPath, [cliPath, '--help'], { encoding: 'utf8' });
    assert.match(general.stdout, /^ {2}server {17}Start the language server on stdin\/stdout/m);
  });

  it('exits when the client closes stdin without shutting down, with or without --stdio', function () {
    this.timeout(20000);
    for (const args of [['server'], ['server', '--stdio']]) {
      const run = spawnSync(process.execPath, [cliPath, ...args], { input: '', encoding: 'utf8', timeout: 10000 });
      assert.equal(run.signal, null, 'it ended on its own');
      assert.equal(run.status, 1, 'without shutdown, as the protocol asks');
      assert.equal(run.stdout, '');
    }
  });
});

describe('nabla server with settings in initializationOptions', function () {
  this.timeout(30000);
  const clients: LspTestClient[] = [];

  before(function () {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run node scripts/build.mjs first`);
  });

  after(async function () {
    await Promise.all(clients.map((client) => client.stop()));
  });

  async function start(initializationOptions: unknown, configurationPull: boolean): Promise<LspTestClient> {
    const { client } = await LspTestClient.start({ command: [cliPath, 'server'], configurationPull, initializationOptions });
    clients.push(client);
    return client;
  }

  it('reads them from a client that neither answers workspace/configuration nor has pushed settings (Helix, eglot); a push wins key by key', async function () {
    const client = await start({ severity: { NB101: 'hint' }, ignore: ['NB204'] }, false);
    const doc = uri('helix.py');
    await client.open(doc, 'python', PY_BUG);
    const [d] = await client.diagnosticsFor(doc, 1);
    assert.equal(d.severity, 4, 'nabla.severity from the initialization options');
    const since = client.publishes.length;
    await client.connection.sendNotification('workspace/didChangeConfiguration', { settings: {} });
    const again = await client.waitForPublish(doc, () => true, since);
    assert.equal(again.diagnostics[0]?.severity, 4, 'a push without a nabla section keeps them');
    const pushed = client.publishes.length;
    await client.configure({ severity: { NB101: 'error' } });
    const errors = await client.waitForPublish(doc, () => true, pushed);
    assert.equal(errors.diagnostics[0]?.severity, 1, 'the pushed key wins');
    assert.equal(client.configurationRequests, 0);
  });

  it('reads a nabla section of them under a pulled configuration that leaves the keys out; a key it sets wins', async function () {
    const client = await start({ nabla: { ignore: ['NB101'] } }, true);
    const doc = uri('neovim.py');
    await client.open(doc, 'python', PY_BUG);
    assert.deepEqual(await client.diagnosticsFor(doc, 1), [], 'nabla.ignore from the initialization options');
    assert.ok(client.configurationRequests > 0, 'the configuration was asked for');
    const since = client.publishes.length;
    await client.configure({ ignore: [] });
    const published = await client.waitForPublish(doc, () => true, since);
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['NB101'],
      'the configuration sets nabla.ignore, and wins',
    );
  });
});
