// The language server end to end: spawns `node dist/server.js --stdio` and speaks LSP to it.
// Run `npm run build` first; these tests exercise the bundle, not the compiled sources.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Diagnostic } from 'vscode-languageserver';
import { LspTestClient, ResponseError, serverPath, textAt } from './lspClient';

const PY_BUG = ['import numpy as np', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');
const PENALTY = 'reg * np.sum(W * W)';
const GRADIENT = '2 * reg * W';
const PENALTY_RANGE = { start: { line: 2, character: 20 }, end: { line: 2, character: 20 + PENALTY.length } };

const TS_LINE = 'w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));';
const TS_BUG = [
  'function step(w, g, lr, reg) {',
  `  ${TS_LINE}`,
  '  return w;',
  '}',
  '',
].join('\n');

let nextId = 0;
function uri(name: string): string {
  return `file:///nabla-test/${++nextId}-${name}`;
}

function assertNb101(diagnostic: Diagnostic): void {
  assert.equal(diagnostic.code, 'NB101');
  assert.equal(diagnostic.source, 'nabla');
  assert.match(diagnostic.codeDescription?.href ?? '', /docs\/rules\/NB101\.md$/);
}

describe('language server (stdio)', function () {
  this.timeout(30000);
  let client: LspTestClient;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    const started = await LspTestClient.start();
    client = started.client;
    const sync = started.result.capabilities.textDocumentSync;
    assert.equal(typeof sync === 'object' ? sync.change : sync, 2, 'declares incremental sync');
  });

  after(async function () {
    await client?.stop();
  });

  afterEach(async function () {
    // Leave the settings as a fresh server has them, whatever a test did.
    if (Object.keys(client.config).length > 0) await client.configure({});
  });

  it('reports NB101 on a Python penalty used as a gradient, then clears it after an incremental fix', async function () {
    const doc = uri('step.py');
    await client.open(doc, 'python', PY_BUG);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    const [d] = diagnostics;
    assertNb101(d);
    assert.equal(d.severity, 1);
    assert.deepEqual(d.range.start, { line: 2, character: 20 });
    assert.equal(textAt(PY_BUG, d.range), PENALTY);
    assert.ok(typeof d.message === 'string' && d.message.length > 0);

    const version = await client.change(doc, [{ range: PENALTY_RANGE, text: GRADIENT }]);
    assert.ok(client.text(doc).includes(`(dW + ${GRADIENT})`));
    assert.deepEqual(await client.diagnosticsFor(doc, version), []);
    await client.close(doc);
  });

  it('reports NB101 on a bare TypeScript update statement', async function () {
    const doc = uri('line.ts');
    await client.open(doc, 'typescript', TS_LINE + '\n');
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assertNb101(diagnostics[0]);
    await client.close(doc);
  });

  it('reports NB101 in TypeScript tensor code, and clears diagnostics on close', async function () {
    const doc = uri('step.ts');
    await client.open(doc, 'typescript', TS_BUG);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assertNb101(diagnostics[0]);
    assert.equal(diagnostics[0].range.start.line, 1);

    const since = client.publishes.length;
    await client.close(doc);
    const cleared = await client.waitForPublish(doc, () => true, since);
    assert.deepEqual(cleared.diagnostics, []);
  });

  it('does not lint languages it does not know', async function () {
    const plain = uri('notes.txt');
    await client.open(plain, 'plaintext', PY_BUG);
    const py = uri('after-plain.py');
    await client.open(py, 'python', PY_BUG);
    await client.diagnosticsFor(py, 1);
    await sleep(300);
    assert.equal(client.publishes.filter((p) => p.uri === plain).length, 0);
    await client.close(plain);
    await client.close(py);
  });

  it('publishes nothing when nabla.enable is false, and lints again when re-enabled', async function () {
    const doc = uri('enable.py');
    await client.open(doc, 'python', PY_BUG);
    assert.equal((await client.diagnosticsFor(doc, 1)).length, 1);

    let since = client.publishes.length;
    await client.configure({ enable: false });
    assert.deepEqual((await client.waitForPublish(doc, () => true, since)).diagnostics, []);

    since = client.publishes.length;
    await client.configure({ enable: true });
    assert.equal((await client.waitForPublish(doc, () => true, since)).diagnostics.length, 1);
    await client.close(doc);
  });

  it('drops ignored codes (nabla.ignore) and applies severity overrides (nabla.severity)', async function () {
    const doc = uri('ignore.py');
    await client.open(doc, 'python', PY_BUG);
    assert.equal((await client.diagnosticsFor(doc, 1)).length, 1);

    let since = client.publishes.length;
    await client.configure({ ignore: ['NB101'] });
    assert.deepEqual((await client.waitForPublish(doc, () => true, since)).diagnostics, []);

    since = client.publishes.length;
    await client.configure({ severity: { NB101: 'warning' } });
    const warned = (await client.waitForPublish(doc, () => true, since)).diagnostics;
    assert.equal(warned.length, 1);
    assert.equal(warned[0].severity, 2);

    since = client.publishes.length;
    await client.configure({ select: ['NB9'] });
    assert.deepEqual((await client.waitForPublish(doc, () => true, since)).diagnostics, []);
    await client.close(doc);
  });

  it('survives garbage, binary-ish text and syntax errors, and keeps answering', async function () {
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const noise = Array.from({ length: 4000 }, () => String.fromCharCode(Math.floor(random() * 0x3000))).join('');
    const inputs: [string, string][] = [
      ['python', noise],
      ['typescript', noise],
      ['python', '\u0000\u0001\u0002PK\u0003\u0004' + noise + '\u0000'],
      ['javascript', '\uD800\uDFFF\uD800 lone surrogates \uDC00 ' + noise],
      ['python', 'def step(W, dW, lr, reg:\n    W -= lr * (dW + reg * np.sum(W * W)\n  return )))\n\tclass :\n'],
      ['typescript', 'function (w, {{{ = => ;; w.sub(g.add(w.square().sum().mul(reg)).mul(lr)\n'],
      ['typescriptreact', '<div>{w.sub(</div>}</span>\n'],
      ['javascriptreact', '}'.repeat(500) + '('.repeat(3000)],
      ['python', '('.repeat(5000) + 'x' + ')'.repeat(5000)],
      ['python', '\r\n\r\r\n' + 'x = ' + '-'.repeat(20000) + '1\n'],
      ['python', ''],
    ];
    const docs: string[] = [];
    for (const [languageId, text] of inputs) {
      const doc = uri(`garbage.${languageId}`);
      docs.push(doc);
      await client.open(doc, languageId, text);
    }
    for (const doc of docs) await client.diagnosticsFor(doc, 1, 20000);

    // The process is alive and still reading: an unknown request gets a proper error back.
    await assert.rejects(client.connection.sendRequest('nabla/noSuchMethod', {}), (error: unknown) => {
      assert.ok(error instanceof ResponseError);
      assert.equal(error.code, -32601);
      return true;
    });
    // And it still lints.
    const doc = uri('after-garbage.py');
    await client.open(doc, 'python', PY_BUG);
    assert.equal((await client.diagnosticsFor(doc, 1)).length, 1);
    assert.equal(client.child.exitCode, null);
    for (const d of [...docs, doc]) await client.close(d);
  });

  it('after a burst of 20 changes, the last publish matches the final text', async function () {
    const doc = uri('burst.py');
    const fixed = PY_BUG.replace(PENALTY, GRADIENT);
    await client.open(doc, 'python', fixed);
    assert.deepEqual(await client.diagnosticsFor(doc, 1), []);
    const lineRange = (text: string) => {
      const line = text.split('\n')[2];
      return { start: { line: 2, character: 0 }, end: { line: 2, character: line.length } };
    };
    const buggyLine = PY_BUG.split('\n')[2];
    const fixedLine = fixed.split('\n')[2];
    const since = client.publishes.length;
    let version = 1;
    for (let i = 0; i < 20; i++) {
      // Alternate between the fixed and the buggy line; the last change (version 21) brings the
      // bug back and the one before (version 20) fixes it, so a stale result would show.
      const line = i % 2 === 1 ? buggyLine : fixedLine;
      version = await client.change(doc, [{ range: lineRange(client.text(doc)), text: line }]);
    }
    assert.equal(version, 21);
    assert.equal(client.text(doc), PY_BUG);
    const final = await client.diagnosticsFor(doc, 21);
    await sleep(500); // anything stale would arrive after the final result
    const burst = client.publishes.slice(since).filter((p) => p.uri === doc);
    assert.equal(burst[burst.length - 1].version, 21, `last publish is for the last version: ${burst.map((p) => p.version).join(',')}`);
    assert.ok(burst.length < 20, `edits were debounced (${burst.length} publishes)`);
    assert.equal(final.length, 1);
    assertNb101(final[0]);
    assert.equal(textAt(client.text(doc), final[0].range), PENALTY);
    await client.close(doc);
  });

  it('logs to the console, not the diagnostics, when a document has syntax errors', async function () {
    const doc = uri('broken.py');
    await client.open(doc, 'python', 'def f(:\n    return )\n');
    assert.deepEqual(await client.diagnosticsFor(doc, 1), []);
    assert.ok(
      client.logs.some((log) => log.message.includes(doc)),
      `a log line names the document: ${JSON.stringify(client.logs.map((l) => l.message))}`,
    );
    await client.close(doc);
  });
});

describe('language server (stdio) without workspace/configuration', function () {
  this.timeout(30000);
  let client: LspTestClient;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    client = (await LspTestClient.start({ configurationPull: false })).client;
  });

  after(async function () {
    await client?.stop();
  });

  it('uses the settings pushed with didChangeConfiguration', async function () {
    const doc = uri('push.py');
    await client.open(doc, 'python', PY_BUG);
    assert.equal((await client.diagnosticsFor(doc, 1)).length, 1);
    const since = client.publishes.length;
    await client.configure({ ignore: ['NB101'] });
    assert.deepEqual((await client.waitForPublish(doc, () => true, since)).diagnostics, []);
    assert.equal(client.configurationRequests, 0);
  });
});
