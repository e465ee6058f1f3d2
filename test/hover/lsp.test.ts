// `textDocument/hover` and `nabla/explain` end to end: spawns `node dist/server.js --stdio`.
// Run `node scripts/build.mjs` first; these tests exercise the bundle.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { LspTestClient, serverPath } from '../lsp/lspClient';
import type { ExplainParams, ExplainResult } from '../../server/lsp/protocol';
import { assertKatex } from './helpers';
import { explanationToPanel } from '../../client/explain';

const PY = ['import numpy as np', '', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');
/** A JS array Adam that divides by the second moment without its square root (NB402). */
const ADAM_NO_ROOT = [
  'export function adamStep(w, g, s, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8) {',
  '  s.t += 1;',
  '  for (let i = 0; i < w.length; i++) {',
  '    s.m[i] = b1 * s.m[i] + (1 - b1) * g[i];',
  '    s.v[i] = b2 * s.v[i] + (1 - b2) * g[i] * g[i];',
  '    const mHat = s.m[i] / (1 - b1 ** s.t);',
  '    const vHat = s.v[i] / (1 - b2 ** s.t);',
  '    w[i] -= (lr * mHat) / (vHat + eps);',
  '  }',
  '}',
  '',
].join('\n');
const TS = ["import * as tf from '@tensorflow/tfjs';", 'function step(w, g, lr, reg) {', '  w.assign(w.sub(g.add(w.square().sum().mul(reg)).mul(lr)));', '}', ''].join('\n');

let nextId = 0;
const uri = (name: string): string => `file:///nabla-hover-test/${++nextId}-${name}`;

function hoverAt(client: LspTestClient, doc: string, line: number, character: number): Promise<Hover | null> {
  return client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: doc }, position: { line, character } });
}

describe('hover: language server (stdio)', function () {
  this.timeout(30000);
  let client: LspTestClient;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run node scripts/build.mjs first`);
    const started = await LspTestClient.start({ capabilities: { textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] } } } });
    client = started.client;
    assert.equal(started.result.capabilities.hoverProvider, true);
  });

  after(async function () {
    await client?.stop();
  });

  afterEach(async function () {
    if (Object.keys(client.config).length > 0) await client.configure({});
  });

  it('answers a hover on a faulty Python update with typeset math and the correct update', async function () {
    const doc = uri('step.py');
    await client.open(doc, 'python', PY);
    await client.diagnosticsFor(doc, 1);
    const hover = await hoverAt(client, doc, 3, 10);
    assert.ok(hover, 'a hover');
    const contents = hover.contents as MarkupContent;
    assert.equal(contents.kind, 'markdown');
    assert.deepEqual(hover.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 40 } });
    const md = contents.value;
    assert.ok(md.includes('```latex\nW \\leftarrow W - \\eta\\left(\\frac{\\partial L}{\\partial W} + 2\\lambda W\\right)\n```'), md);
    assert.ok(md.includes('Correct update: W ← W − η(∂L/∂W + 2λW)'), md);
    assert.ok(md.includes('[NB101](https://github.com/nabla-lint/nabla/blob/main/docs/rules/NB101.md)'), md);
    assert.ok(md.length < 100_000);
    for (const m of md.matchAll(/^```latex\n([\s\S]*?)\n```$/gm)) assertKatex(m[1]);
    await client.close(doc);
  });

  it('answers on TS/JS method chains, and null where there is nothing to explain', async function () {
    const doc = uri('step.ts');
    await client.open(doc, 'typescript', TS);
    const hover = await hoverAt(client, doc, 2, 4);
    assert.ok((hover?.contents as MarkupContent).value.includes('Computes: w ← w − η(∂L/∂w + λΣw²)'));
    assert.equal(await hoverAt(client, doc, 0, 3), null);
    assert.equal(await hoverAt(client, doc, 99, 0), null, 'past the end');
    assert.equal(await hoverAt(client, uri('never-opened.py'), 0, 0), null, 'an unknown document');
    await client.close(doc);
  });

  it('shows the corrected line of an optimizer-step finding in the hover and in the Show Update Rule panel alike', async function () {
    const doc = uri('adam.js');
    await client.open(doc, 'javascript', ADAM_NO_ROOT);
    const diagnostics = await client.diagnosticsFor(doc, 1);
    assert.deepEqual(diagnostics.map((d) => d.code), ['NB402']);
    const corrected = 'w ← w − (η·m)/((1 − b1^t)·(√v/√(1 − b2^t) + ε))';
    const hover = await hoverAt(client, doc, 7, 6);
    const md = (hover?.contents as MarkupContent).value;
    assert.ok(md.includes(`Corrected ([NB402](https://github.com/nabla-lint/nabla/blob/main/docs/rules/NB402.md)): ${corrected}`), md);
    const ex = await client.connection.sendRequest<ExplainResult>('nabla/explain', { uri: doc, position: { line: 7, character: 6 } });
    const panel = explanationToPanel(ex);
    const math = panel?.sections.flatMap((s) => s.math) ?? [];
    const line = math.find((m) => m.label === 'Corrected (NB402)');
    assert.ok(line, JSON.stringify(math.map((m) => m.label)));
    assert.equal(line.unicode, corrected);
    assertKatex(line.latex);
    assert.ok(md.includes(`\`\`\`latex\n${line.latex}\n\`\`\``), 'the hover typesets the same TeX as the panel');
    await client.close(doc);
  });

  it('serves nabla/explain with the Explanation, and honours nabla.enable', async function () {
    const doc = uri('explain.py');
    await client.open(doc, 'python', PY);
    const params: ExplainParams = { uri: doc, position: { line: 3, character: 6 } };
    const ex = await client.connection.sendRequest<ExplainResult>('nabla/explain', params);
    assert.ok(ex);
    assert.equal(ex.kind, 'update');
    assert.equal(ex.computed?.unicode, 'W ← W − η(∂L/∂W + λΣW²)');
    assert.equal(ex.findings[0]?.correctUnicode, 'W ← W − η(∂L/∂W + 2λW)');
    assert.ok(ex.equivalentForms?.knobs.length);
    assert.equal(await client.connection.sendRequest<ExplainResult>('nabla/explain', { uri: doc, position: { line: 1, character: 0 } }), null);

    await client.configure({ enable: false });
    assert.equal(await hoverAt(client, doc, 3, 10), null);
    assert.equal(await client.connection.sendRequest<ExplainResult>('nabla/explain', params), null);
    await client.close(doc);
  });
});
