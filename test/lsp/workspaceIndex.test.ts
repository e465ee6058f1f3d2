// The workspace index: projects read through the editor, the import graph of the workspace
// folders, and the language server linting open documents across files: an edit of a helper
// module updates the diagnostics of the open file that imports it. The first suite uses the
// index alone; the others spawn `node dist/server.js --stdio`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Hover } from 'vscode-languageserver';
import { FileChangeType, MessageType } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { initEngine } from '../../server/engine';
import { MAX_IMPORTERS, mayImportProjectFile, toProjectPath, WorkspaceIndex } from '../../server/lsp/workspaceIndex';
import { LspTestClient, serverPath } from './lspClient';

const REG_PENALTY = ['import numpy as np', '', 'def l2_penalty(w, lam):', '    return lam * np.sum(w ** 2)', ''].join('\n');
const REG_GRADIENT = REG_PENALTY.replace('lam * np.sum(w ** 2)', '2 * lam * w');
const TRAIN = (module: string): string =>
  ['import numpy as np', `from ${module} import l2_penalty`, '', 'def step(W, dW, lr, lam):', '    W -= lr * (dW + l2_penalty(W, lam))', '    return W', ''].join('\n');

const TS_REG = ['export function l2(w: any, lam: number) {', '  return w.square().sum().mul(lam);', '}', ''].join('\n');
const TS_TRAIN = [
  "import { l2 } from './reg';",
  'export function step(w: any, g: any, lr: number, lam: number) {',
  '  w = w.sub(g.add(l2(w, lam)).mul(lr));',
  '  return w;',
  '}',
  '',
].join('\n');

const dirs: string[] = [];
function workspace(files: Record<string, string>): string {
  // realpath: on macOS the temporary folder is reached through a symlink.
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-index-')));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) write(dir, rel, content);
  return dir;
}

function write(dir: string, rel: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), content);
}

function uriOf(dir: string, rel: string): string {
  return pathToFileURL(path.join(dir, rel)).href;
}

/** The range of the first occurrence of `needle` (on one line) in `text`. */
function rangeOf(text: string, needle: string): { start: { line: number; character: number }; end: { line: number; character: number } } {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `${needle} is not in the text`);
  const character = lines[line].indexOf(needle);
  return { start: { line, character }, end: { line, character: character + needle.length } };
}

after(function () {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('lsp/workspaceIndex: which files are parsed for their imports', function () {
  const names = new Set(['models', 'reg', 'train', 'utils']);
  const py = (text: string): boolean => mayImportProjectFile(text, 'python', names);

  it('Python: relative imports and modules named like a workspace file or folder', function () {
    assert.equal(py('from . import reg\n'), true);
    assert.equal(py('from ..models import x\n'), true);
    assert.equal(py('from models.reg import l2_penalty\n'), true);
    assert.equal(py('import numpy as np, utils\n'), true);
    assert.equal(py('import torch.nn as nn\nimport models.reg as r\n'), true);
    assert.equal(py('def f():\n    import reg\n'), true, 'imports inside functions count too');
    assert.equal(py('import numpy as np, \\\n    utils\n'), true, 'a backslash continuation');
    assert.equal(py('from models import (\n    reg,\n)\n'), true);
  });

  it('Python: only packages from elsewhere', function () {
    assert.equal(py('import numpy as np\nimport torch.nn.functional as F\nfrom jax import grad\n'), false);
    assert.equal(py('x = 1\n'), false);
    assert.equal(py('from regularizers import l2\n'), false, 'a name is matched whole');
  });

  it('TS/JS: relative specifiers only', function () {
    const ts = (text: string): boolean => mayImportProjectFile(text, 'typescript', names);
    assert.equal(ts("import { l2 } from './reg';\n"), true);
    assert.equal(ts('const m = require("../models/reg");\n'), true);
    assert.equal(ts("export * from '.';\n"), true);
    assert.equal(ts("import * as tf from '@tensorflow/tfjs';\nimport { l2 } from 'reg';\n"), false);
  });
});

describe('lsp/workspaceIndex', function () {
  this.timeout(20000);
  let documents: Map<string, TextDocument>;
  let relinted: string[][];
  let index: WorkspaceIndex;

  before(async function () {
    await initEngine();
  });

  function create(dir: string, options: { maxFiles?: number; filesWatched?: () => boolean } = {}): WorkspaceIndex {
    documents = new Map();
    relinted = [];
    index = new WorkspaceIndex({
      documents,
      excludes: () => undefined,
      relint: (uris) => void relinted.push([...uris].sort()),
      log: (type, message) => {
        if (type === MessageType.Error) throw new Error(message);
      },
      ...options,
    });
    index.setFolders([dir]);
    return index;
  }

  afterEach(function () {
    index?.dispose();
  });

  const p = (dir: string, rel: string): string => toProjectPath(path.join(dir, rel));

  it('builds the import graph of a folder: importers, then importers of importers', async function () {
    const dir = workspace({
      'models/reg.py': REG_PENALTY,
      'models/__init__.py': '',
      'train.py': TRAIN('models.reg'),
      'run.py': 'import train\n',
      'ignored/x.py': 'from models.reg import l2_penalty\n',
      '.gitignore': 'ignored/\n',
      'web/reg.ts': TS_REG,
      'web/train.ts': TS_TRAIN,
    });
    create(dir).start();
    await index.idle();
    assert.deepEqual(index.importsOf(p(dir, 'train.py')), [p(dir, 'models/reg.py')]);
    assert.deepEqual(index.importersFor(p(dir, 'models/reg.py')), [p(dir, 'train.py'), p(dir, 'run.py')]);
    assert.deepEqual(index.importersFor(p(dir, 'web/reg.ts')), [p(dir, 'web/train.ts')]);
    assert.deepEqual(index.importersFor(p(dir, 'run.py')), []);
    assert.deepEqual(index.importsOf(p(dir, 'ignored/x.py')), [], '.gitignore is respected');
  });

  it('caps the importers a lint includes', async function () {
    const files: Record<string, string> = { 'reg.py': REG_PENALTY };
    for (let i = 0; i < MAX_IMPORTERS + 5; i++) files[`t${String(i).padStart(2, '0')}.py`] = TRAIN('reg');
    const dir = workspace(files);
    create(dir).start();
    await index.idle();
    const importers = index.importersFor(p(dir, 'reg.py'));
    assert.equal(importers.length, MAX_IMPORTERS);
    assert.equal(importers[0], p(dir, 't00.py'), 'in path order');
  });

  it('stops at the file limit', async function () {
    const dir = workspace({ 'a.py': 'import b\n', 'b.py': 'import c\n', 'c.py': 'x = 1\n', 'd.py': 'import c\n' });
    create(dir, { maxFiles: 2 }).start();
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'b.py')), [p(dir, 'a.py')]);
    assert.deepEqual(index.importersFor(p(dir, 'c.py')), [p(dir, 'b.py'), p(dir, 'a.py')], 'd.py is past the limit');
  });

  it('reads an open document instead of its file', async function () {
    const dir = workspace({ 'reg.py': REG_PENALTY, 'train.py': 'x = 1\n' });
    create(dir).start();
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'reg.py')), []);
    const uri = uriOf(dir, 'train.py');
    documents.set(uri, TextDocument.create(uri, 'python', 1, TRAIN('reg')));
    index.documentChanged(uri);
    assert.equal(index.read(p(dir, 'train.py')), TRAIN('reg'));
    index.linted(uri);
    assert.deepEqual(index.importersFor(p(dir, 'reg.py')), [p(dir, 'train.py')]);
    documents.delete(uri);
    index.documentClosed(uri, TRAIN('reg'));
    assert.equal(index.read(p(dir, 'train.py')), 'x = 1\n', 'closed: the file on disk counts again');
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'reg.py')), []);
  });

  it('follows created, changed and deleted files', async function () {
    const dir = workspace({ 'train.py': TRAIN('models.extra'), 'other.py': 'x = 1\n' });
    create(dir).start();
    await index.idle();
    assert.deepEqual(index.importsOf(p(dir, 'train.py')), []);

    write(dir, 'models/extra.py', REG_PENALTY);
    index.filesChanged([{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Created }]);
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'models/extra.py')), [p(dir, 'train.py')], 'a file that names the new module is read again');

    write(dir, 'other.py', 'from models.extra import l2_penalty\n');
    index.filesChanged([{ uri: uriOf(dir, 'other.py'), type: FileChangeType.Changed }]);
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'models/extra.py')), [p(dir, 'other.py'), p(dir, 'train.py')]);

    fs.rmSync(path.join(dir, 'models/extra.py'));
    index.filesChanged([{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Deleted }]);
    await index.idle();
    assert.deepEqual(index.importersFor(p(dir, 'models/extra.py')), []);
    assert.deepEqual(index.importsOf(p(dir, 'train.py')), []);
  });

  it('asks to lint again the open documents whose lint reads a changed file', async function () {
    const dir = workspace({ 'models/reg.py': REG_PENALTY, 'train.py': TRAIN('models.reg'), 'unrelated.py': 'x = 1\n' });
    create(dir).start();
    await index.idle();
    const open = (rel: string): string => {
      const uri = uriOf(dir, rel);
      documents.set(uri, TextDocument.create(uri, 'python', 1, fs.readFileSync(path.join(dir, rel), 'utf8')));
      index.documentChanged(uri);
      return uri;
    };
    const train = open('train.py');
    const reg = open('models/reg.py');
    const unrelated = open('unrelated.py');
    assert.deepEqual(relinted, [], 'opening a file as it is on disk changes nothing');

    // reg.py is read by train.py's lint (train imports it) ...
    index.documentChanged(reg);
    assert.deepEqual(relinted.pop(), [train]);
    // ... and train.py by reg.py's lint (reg.py is linted with the runs of its importers).
    index.documentChanged(train);
    assert.deepEqual(relinted.pop(), [reg]);
    index.documentChanged(unrelated);
    assert.deepEqual(relinted, []);

    // A change on disk of a file that is open is the editor's business.
    index.filesChanged([{ uri: reg, type: FileChangeType.Changed }]);
    assert.deepEqual(relinted, []);
  });

  // Classic scripts one page loads share their globals: the index links them like imports.
  const PAGE = (...scripts: string[]): string => ['<html><body>', ...scripts.map((s) => `<script src="${s}"></script>`), '</body></html>', ''].join('\n');
  const SCRIPT = (name: string): string => `function ${name}(w, lam) { return lam * w; }\n`;
  const openAt = (dir: string, rel: string): string => {
    const uri = uriOf(dir, rel);
    documents.set(uri, TextDocument.create(uri, 'javascript', 1, fs.readFileSync(path.join(dir, rel), 'utf8')));
    index.documentChanged(uri);
    return uri;
  };

  it('learns the scripts a page loads together when it indexes the folder, before any of them is linted', async function () {
    const dir = workspace({ 'demo/index.html': PAGE('lib/a.js', 'lib/b.js'), 'demo/lib/a.js': SCRIPT('a'), 'demo/lib/b.js': SCRIPT('b'), 'other/c.js': SCRIPT('c') });
    create(dir).start();
    await index.idle();
    const a = openAt(dir, 'demo/lib/a.js');
    const c = openAt(dir, 'other/c.js');
    assert.deepEqual(relinted, []);
    // b.js changes on disk: a.js (open, never linted) shares its page; c.js shares nothing.
    index.filesChanged([{ uri: uriOf(dir, 'demo/lib/b.js'), type: FileChangeType.Changed }]);
    assert.deepEqual(relinted.pop(), [a]);
    assert.ok(!(relinted as string[][]).some((uris) => uris.includes(c)));
  });

  it('follows pages created, changed and deleted: the open scripts they load are linted again, and their page-mates change', async function () {
    const dir = workspace({ 'demo/a.js': SCRIPT('a'), 'demo/b.js': 'import { x } from "./x.js";\nexport const b = x;\n', 'demo/x.js': 'export const x = 1;\n' });
    create(dir).start();
    await index.idle();
    const a = openAt(dir, 'demo/a.js');
    // No page yet: b.js (a module) shares nothing with a.js.
    index.filesChanged([{ uri: uriOf(dir, 'demo/b.js'), type: FileChangeType.Changed }]);
    assert.deepEqual(relinted, []);

    write(dir, 'demo/index.html', PAGE('a.js'));
    index.filesChanged([{ uri: uriOf(dir, 'demo/index.html'), type: FileChangeType.Created }]);
    await index.idle();
    assert.deepEqual(relinted.pop(), [a], 'a page that loads a.js appeared');

    write(dir, 'demo/index.html', PAGE('a.js', 'b.js'));
    index.filesChanged([{ uri: uriOf(dir, 'demo/index.html'), type: FileChangeType.Changed }]);
    await index.idle();
    assert.deepEqual(relinted.pop(), [a]);
    index.filesChanged([{ uri: uriOf(dir, 'demo/b.js'), type: FileChangeType.Changed }]);
    assert.deepEqual(relinted.pop(), [a], 'the page now loads b.js with a.js');

    fs.rmSync(path.join(dir, 'demo/index.html'));
    index.filesChanged([{ uri: uriOf(dir, 'demo/index.html'), type: FileChangeType.Deleted }]);
    await index.idle();
    assert.deepEqual(relinted.pop(), [a]);
    index.filesChanged([{ uri: uriOf(dir, 'demo/b.js'), type: FileChangeType.Changed }]);
    assert.deepEqual(relinted, [], 'no page links them any more');
  });

  it('keeps the folder listings that tell a lone script from one that may share a page, until a file appears there', async function () {
    const dir = workspace({ 'solo/x.js': SCRIPT('x') });
    create(dir, { filesWatched: () => true }).start();
    await index.idle();
    const x = openAt(dir, 'solo/x.js');
    const lint = (): void => {
      const steps = index.lintSteps(x, documents.get(x)!.getText(), { language: 'javascript' });
      while (!steps.next().done);
      index.linted(x);
    };
    lint();
    assert.equal(index.reads(x, uriOf(dir, 'solo/y.js')), false, 'alone: nothing beside it');
    write(dir, 'solo/y.js', SCRIPT('y'));
    lint();
    assert.equal(index.reads(x, uriOf(dir, 'solo/y.js')), false, 'the kept listing: no file event yet');
    index.filesChanged([{ uri: uriOf(dir, 'solo/y.js'), type: FileChangeType.Created }]);
    await index.idle();
    lint();
    assert.equal(index.reads(x, uriOf(dir, 'solo/y.js')), true, 'a classic script beside it now: linted with it');
  });

  it('reads the listings again on every lint when no file event would tell of a file created (the client watches nothing)', async function () {
    const dir = workspace({ 'solo/x.js': SCRIPT('x') });
    create(dir).start();
    await index.idle();
    const x = openAt(dir, 'solo/x.js');
    const lint = (): void => {
      const steps = index.lintSteps(x, documents.get(x)!.getText(), { language: 'javascript' });
      while (!steps.next().done);
      index.linted(x);
    };
    lint();
    assert.equal(index.reads(x, uriOf(dir, 'solo/y.js')), false, 'alone: nothing beside it');
    write(dir, 'solo/y.js', SCRIPT('y'));
    lint();
    assert.equal(index.reads(x, uriOf(dir, 'solo/y.js')), true, 'a classic script beside it, with no file event: linted with it, as nabla check does');
  });

  it('answers a batch of page and script events with one pass over the known scripts, not one per event', async function () {
    // A docs build or a checkout reports thousands of files at once: a scan of the known files per event
    // was quadratic (2,000 pages over 3,000 indexed scripts: 0.75 s CPU in one notification).
    const dir = workspace({ 'src/a.js': SCRIPT('a'), 'src/b.js': SCRIPT('b'), 'lib/c.js': SCRIPT('c') });
    create(dir).start();
    await index.idle();
    const scans: number[] = [];
    const spied = index as unknown as { scriptsBelow(dirs: ReadonlySet<string>, levels: number): string[] };
    const scriptsBelow = spied.scriptsBelow.bind(index);
    spied.scriptsBelow = (dirs, levels) => {
      scans.push(dirs.size);
      return scriptsBelow(dirs, levels);
    };
    const events: { uri: string; type: FileChangeType }[] = [];
    for (let i = 0; i < 100; i++) events.push({ uri: uriOf(dir, `docs/p${i}.html`), type: FileChangeType.Created });
    events.push({ uri: uriOf(dir, 'src/index.html'), type: FileChangeType.Created });
    for (let i = 0; i < 100; i++) events.push({ uri: uriOf(dir, `src/new${i}.js`), type: FileChangeType.Deleted });
    events.push({ uri: uriOf(dir, 'lib/gone.js'), type: FileChangeType.Deleted });
    index.filesChanged(events);
    assert.deepEqual(scans, [2, 2], 'one scan for the scripts beside those that appeared or disappeared, one for the pages');
    await index.idle();
  });
});

describe('language server: imports across the workspace', function () {
  this.timeout(30000);
  let client: LspTestClient;
  let dir: string;

  before(async function () {
    if (!fs.existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run build first`);
    dir = workspace({
      'pyproject.toml': '[project]\nname = "demo"\n',
      'models/__init__.py': '',
      'models/reg.py': REG_PENALTY,
      'train.py': TRAIN('models.reg'),
      'train_extra.py': TRAIN('models.extra'),
      'web/reg.ts': TS_REG,
      'web/train.ts': TS_TRAIN,
      // Build output and a minified bundle: left out of the workspace walk (engine/defaultExclude.ts).
      'build/lib/train.py': TRAIN('models.reg'),
      'web/static/bundle.js': `!function(){${'var a=f(a);'.repeat(60)}w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));}();\n`,
    });
    client = (await LspTestClient.start({ workspaceFolders: [pathToFileURL(dir).href], capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } })).client;
  });

  after(async function () {
    await client?.stop();
  });

  const disk = (rel: string): string => fs.readFileSync(path.join(dir, rel), 'utf8');

  it('watches the source files', async function () {
    const deadline = Date.now() + 5000;
    while (!client.registrations.some((r) => r.method === 'workspace/didChangeWatchedFiles') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const registration = client.registrations.find((r) => r.method === 'workspace/didChangeWatchedFiles');
    const patterns = (registration?.registerOptions as { watchers: { globPattern: string }[] } | undefined)?.watchers.map((w) => w.globPattern) ?? [];
    assert.ok(patterns.includes('**/*.{py,pyi,ts,mts,cts,tsx,js,jsx,mjs,cjs}'), JSON.stringify(patterns));
    assert.ok(patterns.includes('**/*.{html,htm}'), `pages are watched: ${JSON.stringify(patterns)}`);
  });

  it('reports NB101 in a file whose helper lives in another file, pointing at the helper', async function () {
    const train = uriOf(dir, 'train.py');
    await client.open(train, 'python', disk('train.py'));
    const diagnostics = await client.diagnosticsFor(train, 1);
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['NB101'],
    );
    assert.deepEqual(diagnostics[0].range, rangeOf(TRAIN('models.reg'), 'l2_penalty(W, lam)'));
    const related = diagnostics[0].relatedInformation ?? [];
    assert.deepEqual(
      related.map((r) => r.location.uri),
      [uriOf(dir, 'models/reg.py')],
    );
    assert.equal(related[0].location.range.start.line, 2, 'the def of l2_penalty');

    // The hover shows the finding the project lint found (the document alone has none).
    const hover = await client.connection.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri: train }, position: diagnostics[0].range.start });
    const markdown = hover && typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
    assert.match(markdown, /NB101/);
    await client.close(train);
  });

  it("lints an open file again when a file it imports is edited in the editor; the editor's unsaved text wins over the disk", async function () {
    const train = uriOf(dir, 'train.py');
    const reg = uriOf(dir, 'models/reg.py');
    await client.open(train, 'python', disk('train.py'));
    assert.equal((await client.diagnosticsFor(train, 1)).length, 1);
    await client.open(reg, 'python', disk('models/reg.py'));
    await client.diagnosticsFor(reg, 1);

    // The helper now returns its gradient: train.py is right, though neither it nor the disk changed.
    let since = client.publishes.length;
    await client.change(reg, [{ range: rangeOf(REG_PENALTY, 'lam * np.sum(w ** 2)'), text: '2 * lam * w' }]);
    const cleared = await client.waitForPublish(train, (p) => p.diagnostics.length === 0, since);
    assert.equal(cleared.version, 1, 'train.py itself did not change');
    assert.equal(disk('models/reg.py'), REG_PENALTY);

    // Closing the helper unsaved: the file on disk counts again.
    since = client.publishes.length;
    await client.close(reg);
    const back = await client.waitForPublish(train, (p) => p.diagnostics.length > 0, since);
    assert.deepEqual(
      back.diagnostics.map((d) => d.code),
      ['NB101'],
    );

    // Opened with unsaved text that differs from the disk: that text is what train.py's lint reads.
    since = client.publishes.length;
    await client.open(reg, 'python', REG_GRADIENT);
    await client.waitForPublish(train, (p) => p.diagnostics.length === 0, since);
    await client.close(reg);
    await client.close(train);
  });

  it('picks up a file created on disk and announced by didChangeWatchedFiles, and one deleted', async function () {
    const train = uriOf(dir, 'train_extra.py');
    await client.open(train, 'python', disk('train_extra.py'));
    assert.deepEqual(await client.diagnosticsFor(train, 1), [], 'models/extra.py does not exist yet');

    write(dir, 'models/extra.py', REG_PENALTY);
    let since = client.publishes.length;
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Created }] });
    const found = await client.waitForPublish(train, (p) => p.diagnostics.length > 0, since);
    assert.deepEqual(
      found.diagnostics[0].relatedInformation?.map((r) => r.location.uri),
      [uriOf(dir, 'models/extra.py')],
    );

    write(dir, 'models/extra.py', REG_GRADIENT);
    since = client.publishes.length;
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Changed }] });
    await client.waitForPublish(train, (p) => p.diagnostics.length === 0, since);

    write(dir, 'models/extra.py', REG_PENALTY);
    since = client.publishes.length;
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Changed }] });
    await client.waitForPublish(train, (p) => p.diagnostics.length > 0, since);

    fs.rmSync(path.join(dir, 'models/extra.py'));
    since = client.publishes.length;
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(dir, 'models/extra.py'), type: FileChangeType.Deleted }] });
    await client.waitForPublish(train, (p) => p.diagnostics.length === 0, since);
    await client.close(train);
  });

  it('does the same for TypeScript', async function () {
    const train = uriOf(dir, 'web/train.ts');
    const reg = uriOf(dir, 'web/reg.ts');
    await client.open(train, 'typescript', disk('web/train.ts'));
    const diagnostics = await client.diagnosticsFor(train, 1);
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.relatedInformation?.[0]?.location.uri]),
      [['NB101', reg]],
    );
    await client.open(reg, 'typescript', disk('web/reg.ts'));
    const since = client.publishes.length;
    await client.change(reg, [{ range: rangeOf(TS_REG, 'w.square().sum().mul(lam)'), text: 'w.mul(2 * lam)' }]);
    await client.waitForPublish(train, (p) => p.diagnostics.length === 0, since);
    await client.close(reg);
    await client.close(train);
  });

  it('lints the workspace in its projects: a closed file gets its cross-file finding', async function () {
    const result = await client.connection.sendRequest<{ files: number; findings: number }>('nabla/lintWorkspace', {});
    assert.ok(result.files >= 5, JSON.stringify(result));
    const train = client.publishes.filter((p) => p.uri === uriOf(dir, 'train.py')).at(-1);
    assert.deepEqual(
      train?.diagnostics.map((d) => [d.code, d.relatedInformation?.[0]?.location.uri]),
      [['NB101', uriOf(dir, 'models/reg.py')]],
    );
    for (const rel of ['build/lib/train.py', 'web/static/bundle.js']) {
      assert.ok(!client.publishes.some((p) => p.uri === uriOf(dir, rel)), `${rel} is left out of the workspace lint`);
    }

    // The helper fixed on disk: the next run reads it again.
    write(dir, 'models/reg.py', REG_GRADIENT);
    await client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf(dir, 'models/reg.py'), type: FileChangeType.Changed }] });
    const since = client.publishes.length;
    await client.connection.sendRequest('nabla/lintWorkspace', {});
    const cleared = client.publishes.slice(since).filter((p) => p.uri === uriOf(dir, 'train.py'));
    assert.deepEqual(
      cleared.map((p) => p.diagnostics.length),
      [0],
    );
  });
});
