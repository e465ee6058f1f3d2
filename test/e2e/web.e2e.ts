// Nabla in a browser, as on vscode.dev and github.dev: the web extension (package.json's `browser`
// entry) and its language server in a web worker (dist/browser/). Two checks, both in Debian's
// Chromium through playwright-core, on 127.0.0.1 only:
// - the worker bundle alone, in a blank page, spoken to in LSP: it loads the parsers' WASM from
//   the URL it is given, publishes the same findings as the engine in Node, hovers, says that
//   Lint Workspace cannot run, and has no Node in it;
// - the packaged .vsix in code-server's web worker extension host (the `remote.extensionKind`
//   setting sends it there, as vscode.dev has no other): a squiggle, a hover with typeset math,
//   the update-rule panel, Lint Workspace's message, and no Node process for Nabla's server.
// Run with `npm run test:e2e`.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { initEngine, lintText } from '../../server/engine';
import { LINT_WORKSPACE_NEEDS_DISK, LINT_WORKSPACE_REQUEST } from '../../server/lsp/protocol';
import { goToLine, hoverOver, openFromExplorer, squiggles, textPosition } from './editor';
import { chromiumPath, repoRoot, resultsDir, startSession, stopSession, type Session } from './harness';

// Browser globals, for the functions that run in the page only (tsconfig has no DOM library).
declare const nabla: any;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/** Serves a blank page and dist/ on 127.0.0.1 (what an extension's files are to vscode.dev: static files). */
function serveDist(): Promise<{ server: http.Server; origin: string }> {
  const dist = path.join(repoRoot, 'dist');
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      response.writeHead(200, { 'content-type': TYPES['.html'] }).end('<!doctype html><title>Nabla worker</title>');
      return;
    }
    const file = path.join(dist, path.normalize(url.pathname.replace(/^\/dist\//, '/')));
    if (!url.pathname.startsWith('/dist/') || !file.startsWith(dist + path.sep) || !fs.existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, timeout: 60_000, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
}

/** A minimal LSP client in the page, speaking to the worker with postMessage (as vscode-languageclient/browser does). */
class WorkerClient {
  private nextId = 1;
  constructor(private readonly page: Page) {}

  static async start(page: Page, script: string): Promise<WorkerClient> {
    await page.evaluate((url: string) => {
      const worker = new (globalThis as any).Worker(url);
      const state = { worker, messages: [] as any[], errors: [] as string[] };
      worker.onmessage = (event: any) => {
        const message = event.data;
        state.messages.push(message);
        // Requests from the server (none are expected with these capabilities) get an empty answer.
        if (message.method && message.id !== undefined) worker.postMessage({ jsonrpc: '2.0', id: message.id, result: null });
      };
      worker.onerror = (event: any) => state.errors.push(String(event.message));
      (globalThis as any).nabla = state;
    }, script);
    return new WorkerClient(page);
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.page.evaluate((message) => nabla.worker.postMessage(message), { jsonrpc: '2.0', method, params });
  }

  async request(method: string, params: unknown): Promise<{ result?: any; error?: { code: number; message: string } }> {
    const id = this.nextId++;
    await this.page.evaluate((message) => nabla.worker.postMessage(message), { jsonrpc: '2.0', id, method, params });
    const handle = await this.page.waitForFunction((id: number) => nabla.messages.find((m: any) => m.id === id && m.method === undefined), id, { timeout: 60_000 });
    return handle.jsonValue();
  }

  async notification(method: string, matches: (params: any) => boolean): Promise<any> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = (await this.page.evaluate((method: string) => nabla.messages.filter((m: any) => m.method === method).map((m: any) => m.params), method)).find(matches);
      if (found) return found;
      const errors: string[] = await this.page.evaluate(() => nabla.errors);
      if (errors.length > 0) throw new Error(`the worker failed: ${errors.join('; ')}`);
      if (Date.now() > deadline) throw new Error(`no ${method} came in 60 s: ${JSON.stringify(await this.page.evaluate(() => nabla.messages))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('Nabla in a browser: the language server in a web worker (dist/browser/server.js)', function () {
  this.timeout(120_000);
  let served: { server: http.Server; origin: string } | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let client: WorkerClient;
  const uri = 'file:///workspace/numpy_softmax_wrong.py';
  const text = fs.readFileSync(path.join(repoRoot, 'examples/numpy_softmax_wrong.py'), 'utf8');

  before(async function () {
    if (!fs.existsSync(path.join(repoRoot, 'dist/browser/server.js'))) throw new Error('dist/browser/server.js is missing: run npm run package (npm run test:e2e does)');
    served = await serveDist();
    browser = await launch();
    const context = await browser.newContext();
    // No request may leave the machine.
    await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
    page = await context.newPage();
    await page.goto(`${served.origin}/`);
    client = await WorkerClient.start(page, '/dist/browser/server.js');
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    served?.server.close();
  });

  it('initializes with the WASM files at the URL it is given', async () => {
    const { result } = await client.request('initialize', {
      processId: null,
      rootUri: null,
      capabilities: { textDocument: { hover: { contentFormat: ['markdown', 'plaintext'] } } },
      initializationOptions: { wasmBase: `${served!.origin}/dist/wasm/` },
    });
    assert.equal(result.serverInfo.name, 'Nabla');
    assert.equal(result.capabilities.hoverProvider, true);
    await client.notify('initialized', {});
  });

  it('runs where there is no Node: no process, no require', async () => {
    const [worker] = page.workers();
    assert.ok(worker, 'the page has no worker');
    assert.deepEqual(await worker.evaluate(() => [typeof (globalThis as any).process, typeof (globalThis as any).require, typeof (globalThis as any).importScripts]), ['undefined', 'undefined', 'function']);
  });

  it('publishes the findings the engine gives in Node', async () => {
    await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
    const published = await client.notification('textDocument/publishDiagnostics', (params) => params.uri === uri && params.diagnostics.length > 0);
    await initEngine();
    const expected = lintText(text, { language: 'python' }).findings.map((f) => `${f.code}@${f.range.start.line}:${f.range.start.character}`);
    const got = published.diagnostics.map((d: any) => `${d.code}@${d.range.start.line}:${d.range.start.character}`);
    assert.deepEqual(got.sort(), expected.sort());
    assert.ok(got.includes('NB101@37:10'), got.join(', ')); // dW += reg * np.sum(W * W), line 38
  });

  it('publishes the same findings as the engine in Node for every example, Python, TypeScript and JavaScript', async () => {
    await initEngine();
    const languages: Record<string, 'python' | 'typescript' | 'javascript'> = { '.py': 'python', '.ts': 'typescript', '.js': 'javascript' };
    for (const name of fs.readdirSync(path.join(repoRoot, 'examples')).sort()) {
      const language = languages[path.extname(name)];
      if (!language || name === 'numpy_softmax_wrong.py') continue;
      const exampleText = fs.readFileSync(path.join(repoRoot, 'examples', name), 'utf8');
      const exampleUri = `file:///workspace/${name}`;
      await client.notify('textDocument/didOpen', { textDocument: { uri: exampleUri, languageId: language, version: 1, text: exampleText } });
      const published = await client.notification('textDocument/publishDiagnostics', (params) => params.uri === exampleUri && params.version === 1);
      const expected = lintText(exampleText, { language }).findings.map((f) => `${f.code}@${f.range.start.line}:${f.range.start.character}`);
      const got = published.diagnostics.map((d: any) => `${d.code}@${d.range.start.line}:${d.range.start.character}`);
      assert.deepEqual(got.sort(), expected.sort(), name);
    }
  });

  it('hovers with the math, in TeX for the client to typeset and in Unicode', async () => {
    const { result } = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 37, character: 20 } });
    const markdown: string = result.contents.value;
    assert.ok(markdown.includes('```latex'), markdown);
    assert.ok(markdown.includes('∂L/∂W ← ∂L/∂W + 2λW'), markdown);
  });

  it('answers Lint Workspace with why it cannot run', async () => {
    const { error } = await client.request(LINT_WORKSPACE_REQUEST, { folders: ['file:///workspace'] });
    assert.equal(error?.message, LINT_WORKSPACE_NEEDS_DISK);
  });
});

/** Runs a command from the Command Palette, as a user would. */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor();
  await page.keyboard.type(title);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

describe("Nabla in a browser: the web extension in code-server's web worker extension host", function () {
  this.timeout(180_000);
  let session: Session | undefined;
  const page = (): Page => {
    if (!session) throw new Error('code-server did not start');
    return session.page;
  };

  before(async function () {
    this.timeout(300_000);
    // vscode.dev runs every extension in the browser; code-server would run Nabla in its Node
    // extension host. This setting sends it to the web worker one, where `browser` is the entry.
    session = await startSession('dark', { name: 'web', settings: { 'remote.extensionKind': { 'nabla-dev.nabla': ['web'] } } });
    // The web worker extension host logs to the browser's console (a failing test prints it).
    session.page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    session.page.on('pageerror', (error) => consoleLines.push(`[pageerror] ${error.message}`));
  });
  const consoleLines: string[] = [];

  after(async function () {
    this.timeout(60_000);
    await stopSession(session);
    session = undefined;
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && session) {
      const name = `web-${this.currentTest.title.replace(/[^\w]+/g, '-').slice(0, 80)}.png`;
      await session.page.screenshot({ path: path.join(resultsDir, name) }).catch(() => undefined);
      console.log(`      screenshot: ${path.join(resultsDir, name)}; code-server log: ${session.serverLog}`);
      fs.writeFileSync(path.join(resultsDir, 'web-console.log'), consoleLines.join('\n'));
      console.log(`      browser console: ${path.join(resultsDir, 'web-console.log')}`);
    }
  });

  it('squiggles the NB101 line and hovers with typeset math', async () => {
    await openFromExplorer(page(), 'numpy_softmax_wrong.py');
    await goToLine(page(), 38);
    const deadline = Date.now() + 90_000;
    let drawn = await squiggles(page());
    while (!drawn.some((s) => s.line === 38) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      drawn = await squiggles(page());
    }
    assert.ok(
      drawn.some((s) => s.line === 38 && s.covered === 'reg * np.sum(W * W)'),
      `squiggles: ${JSON.stringify(drawn)}`,
    );
    const hover = await hoverOver(page(), 38, 'np.sum', '∂L/∂W');
    await hover.locator('img').first().waitFor({ state: 'attached', timeout: 30_000 });
    const text = (await hover.innerText()).replace(/[ \t]+/g, ' ');
    assert.ok(text.includes('2·reg·W'), text);
    assert.match(text, /NB101/, text);
  });

  it('shows the update rule in a webview, typeset by KaTeX', async () => {
    // The cursor on the faulty update (the panel shows the math at the cursor).
    const at = await textPosition(page(), 38, 'np.sum');
    await page().mouse.click(at.x, at.y);
    await runCommand(page(), 'Nabla: Show Update Rule');
    await page().locator('.tab', { hasText: 'Nabla: Update Rule' }).waitFor({ timeout: 30_000 });
    // The webview's document is in a frame of a frame; its math is KaTeX's HTML with the font loaded.
    const deadline = Date.now() + 30_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      for (const frame of page().frames()) {
        const count = await frame.locator('.katex').count().catch(() => 0);
        if (count > 0) found = true;
      }
      if (!found) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(found, 'no KaTeX in any frame of the update-rule panel');
  });

  it('says that Lint Workspace needs the files on disk', async () => {
    await runCommand(page(), 'Nabla: Lint Workspace');
    await page().locator('.notification-toast', { hasText: 'Lint Workspace needs the files on disk' }).waitFor({ timeout: 30_000 });
  });

  it('ran the server in the browser: no Node process runs dist/server.js', () => {
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    const installed = path.join(session!.root, 'extensions');
    const nodeServer = processes.split('\n').filter((line) => line.includes(installed) && line.includes('server.js'));
    assert.deepEqual(nodeServer, []);
  });
});
