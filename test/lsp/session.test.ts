// Per-document sessions (server/lsp/session.ts), in process: the scheduler with the real engine,
// hovers read from the session, code actions read from Diagnostic.data, and a document's tree kept
// apart from what other lints parse.
import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageType, type CodeActionParams, type Diagnostic, type PublishDiagnosticsParams } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { initEngine, lintDocumentSteps, lintProjectSteps, lintText, Project, type LintOptions, type ParseCache } from '../../server/engine';
import { explainAt, explainIn } from '../../server/engine/explain';
import { runSteps } from '../../server/engine/stepwise';
import * as documentModule from '../../server/engine/document';
import * as engineIndex from '../../server/engine/index';
import { codeActions, type CodeActionHost } from '../../server/lsp/codeActions';
import { DIAGNOSTIC_SOURCE, fromDiagnosticData } from '../../server/lsp/convert';
import { DiagnosticScheduler, type DiagnosticsHost } from '../../server/lsp/diagnostics';
import { explainPosition, type HoverDeps } from '../../server/lsp/hover';
import { DEFAULT_SETTINGS } from '../../server/lsp/settings';
import { withAnalysis } from '../../server/lsp/workspaceIndex';

const URI = 'file:///session/step.py';
/** NB101 on line 3: a penalty's value used as its gradient. */
const PY = ['import numpy as np', '', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');

/** The real engine behind the scheduler, counting its lints. */
class EngineHost implements DiagnosticsHost {
  docs = new Map<string, TextDocument>();
  published: PublishDiagnosticsParams[] = [];
  lints = 0;
  engineReady = initEngine();
  document = (uri: string) => this.docs.get(uri);
  settings = async () => ({ ...DEFAULT_SETTINGS });
  lint(text: string, options: LintOptions, _uri: string, parses: ParseCache) {
    this.lints++;
    return withAnalysis(lintDocumentSteps(text, options, parses));
  }
  publish = (params: PublishDiagnosticsParams) => void this.published.push(params);
  log = (type: MessageType, message: string) => {
    if (type === MessageType.Error) throw new Error(message);
  };
  async publishedFor(version: number): Promise<PublishDiagnosticsParams> {
    for (let i = 0; i < 400; i++) {
      const found = this.published.find((p) => p.version === version);
      if (found) return found;
      await sleep(10);
    }
    throw new Error(`nothing published for version ${version}`);
  }
}

/** Counts calls of the engine's own lint and analysis entry points (what a hover used to call). */
function countEngineCalls(): { calls: string[]; restore(): void } {
  const calls: string[] = [];
  const doc = documentModule as unknown as Record<string, (...args: unknown[]) => unknown>;
  const index = engineIndex as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = { analyzeDocument: doc.analyzeDocument, lintText: index.lintText, lintSteps: index.lintSteps };
  doc.analyzeDocument = (...args) => (calls.push('analyzeDocument'), saved.analyzeDocument(...args));
  index.lintText = (...args) => (calls.push('lintText'), saved.lintText(...args));
  index.lintSteps = (...args) => (calls.push('lintSteps'), saved.lintSteps(...args));
  return {
    calls,
    restore() {
      doc.analyzeDocument = saved.analyzeDocument;
      index.lintText = saved.lintText;
      index.lintSteps = saved.lintSteps;
    },
  };
}

describe('lsp/session: hovers and code actions read the session', function () {
  this.timeout(20000);
  let host: EngineHost;
  let scheduler: DiagnosticScheduler;
  let deps: HoverDeps;

  before(async function () {
    await initEngine();
  });

  beforeEach(function () {
    host = new EngineHost();
    scheduler = new DiagnosticScheduler(host, 10_000); // edits wait for a hover to start their lint
    deps = {
      documents: { get: (uri: string) => host.docs.get(uri) },
      engineReady: host.engineReady,
      settings: host.settings,
      linted: (uri, version, token) => scheduler.linted(uri, version, token),
    };
  });
  afterEach(function () {
    scheduler.dispose();
  });

  it('a hover after the lint reads its analysis and findings: no lint, no analysis of its own', async function () {
    host.docs.set(URI, TextDocument.create(URI, 'python', 1, PY));
    scheduler.documentChanged(URI); // opening lints at once
    const published = await host.publishedFor(1);
    assert.deepEqual(published.diagnostics.map((d) => d.code), ['NB101']);
    assert.equal(host.lints, 1);
    const spy = countEngineCalls();
    try {
      const ex = await explainPosition(deps, URI, { line: 3, character: 10 });
      assert.ok(ex, 'an explanation');
      assert.deepEqual(ex.findings.map((f) => f.code), ['NB101']);
      const again = await explainPosition(deps, URI, { line: 3, character: 10 });
      assert.deepEqual(again, ex);
    } finally {
      spy.restore();
    }
    assert.deepEqual(spy.calls, []);
    assert.equal(host.lints, 1);
  });

  it('a hover during the debounce starts that lint now and waits for it, rather than linting itself', async function () {
    const doc = TextDocument.create(URI, 'python', 1, PY);
    host.docs.set(URI, doc);
    scheduler.documentChanged(URI);
    await host.publishedFor(1);
    TextDocument.update(doc, [{ range: { start: { line: 4, character: 12 }, end: { line: 4, character: 12 } }, text: ' ' }], 2);
    scheduler.documentChanged(URI); // debounced for 10 s
    const spy = countEngineCalls();
    let ex;
    const started = performance.now();
    try {
      ex = await explainPosition(deps, URI, { line: 3, character: 10 });
    } finally {
      spy.restore();
    }
    assert.ok(performance.now() - started < 5000, 'the hover did not wait for the debounce');
    assert.ok(ex, 'an explanation');
    assert.deepEqual(spy.calls, []);
    assert.equal(host.lints, 2);
    assert.deepEqual((await host.publishedFor(2)).diagnostics.map((d) => d.code), ['NB101']);
    await sleep(50);
    assert.equal(host.lints, 2, 'the debounced lint is not run again');
  });

  /** The step of PY, and a function it does not depend on. */
  const TWO = [PY.trimEnd(), '', '', 'def report(history):', '    total = len(history)', '    return total', ''].join('\n');

  it('the first hover after an edit of a function the hovered step does not depend on is answered at once, as the lint will answer it', async function () {
    const early = { ...deps, early: scheduler.explainEarly.bind(scheduler) };
    const doc = TextDocument.create(URI, 'python', 1, TWO);
    host.docs.set(URI, doc);
    scheduler.documentChanged(URI);
    await host.publishedFor(1);
    TextDocument.update(doc, [{ range: { start: { line: 8, character: 23 }, end: { line: 8, character: 23 } }, text: 's' }], 2);
    scheduler.documentChanged(URI); // debounced for 10 s
    const spy = countEngineCalls();
    let ex;
    try {
      ex = await explainPosition(early, URI, { line: 3, character: 10 });
    } finally {
      spy.restore();
    }
    assert.ok(ex, 'an explanation');
    assert.deepEqual(ex.findings.map((f) => f.code), ['NB101']);
    assert.deepEqual(spy.calls, []);
    assert.equal(host.lints, 1, 'the hover did not start the lint of version 2');
    // The answer after the lint of version 2 is the same.
    const linted = await scheduler.linted(URI, 2);
    assert.ok(linted?.analysis);
    assert.deepEqual(explainIn(linted.analysis, doc.offsetAt({ line: 3, character: 10 }), () => linted.findings), ex);
  });

  it('a hover inside the edited function, or in one that calls it, waits for the lint of the new version', async function () {
    const early = { ...deps, early: scheduler.explainEarly.bind(scheduler) };
    const calls = [PY.trimEnd().replace('reg * np.sum(W * W)', 'penalty(W, reg)'), '', '', 'def penalty(W, reg):', '    return reg * np.sum(W * W)', ''].join('\n');
    const doc = TextDocument.create(URI, 'python', 1, calls);
    host.docs.set(URI, doc);
    scheduler.documentChanged(URI);
    await host.publishedFor(1);
    // The helper's body changes (`reg * np.sum` → `reg2 * np.sum`): the step that calls it depends on it.
    TextDocument.update(doc, [{ range: { start: { line: 8, character: 14 }, end: { line: 8, character: 14 } }, text: '2' }], 2);
    scheduler.documentChanged(URI);
    assert.equal(scheduler.explainEarly(URI, 2, doc.getText(), doc.offsetAt({ line: 3, character: 10 })), undefined, 'the caller waits');
    assert.equal(scheduler.explainEarly(URI, 2, doc.getText(), doc.offsetAt({ line: 8, character: 4 })), undefined, 'the edited function waits');
    const ex = await explainPosition(early, URI, { line: 3, character: 10 });
    assert.equal(host.lints, 2, 'the hover started the lint of version 2 and waited for it');
    const linted = await scheduler.linted(URI, 2);
    assert.ok(linted?.analysis);
    assert.deepEqual(ex, explainIn(linted.analysis, doc.offsetAt({ line: 3, character: 10 }), () => linted.findings));
  });

  it('a hover for a version that will never be linted (the document changed meanwhile) gives nothing', async function () {
    const doc = TextDocument.create(URI, 'python', 1, PY);
    host.docs.set(URI, doc);
    scheduler.documentChanged(URI);
    await host.publishedFor(1);
    const spy = countEngineCalls();
    try {
      const pending = scheduler.linted(URI, 7); // a version the document never had
      assert.equal(await pending, undefined);
    } finally {
      spy.restore();
    }
    assert.deepEqual(spy.calls, []);
  });

  it('diagnostics carry their "Ignore …" edits; NB001 carries none', async function () {
    const text = PY.replace('    return W', '    return W  # nabla: ignore[NB102]');
    host.docs.set(URI, TextDocument.create(URI, 'python', 1, text));
    scheduler.documentChanged(URI);
    const { diagnostics } = await host.publishedFor(1);
    assert.deepEqual(diagnostics.map((d) => d.code), ['NB101', 'NB001']);
    const nb101 = fromDiagnosticData(diagnostics[0].data);
    assert.deepEqual(nb101.ignore?.line, { range: { start: { line: 3, character: 40 }, end: { line: 3, character: 40 } }, newText: '  # nabla: ignore[NB101]' });
    assert.deepEqual(nb101.ignore?.file, { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '# nabla: ignore-file[NB101]\n' });
    assert.equal(fromDiagnosticData(diagnostics[1].data).ignore, undefined);
  });

  it("linting other texts (Lint Workspace, the CLI's files) does not evict an open document's tree", async function () {
    host.docs.set(URI, TextDocument.create(URI, 'python', 1, PY));
    scheduler.documentChanged(URI);
    await host.publishedFor(1);
    const session = scheduler.sessions.get(URI)!;
    assert.ok(session.parses.has(PY, 'python'));
    // More files than the engine's shared cache keeps, linted as Lint Workspace lints closed files.
    for (let i = 0; i < 6; i++) lintText(`${PY}# other file ${i}\n`, { language: 'python' });
    assert.ok(session.parses.has(PY, 'python'), 'the session keeps its tree');
    assert.ok(session.published?.analysis, 'and its analysis');
  });
});

describe('lsp/session: a project lint explains as the document alone does', function () {
  before(async function () {
    await initEngine();
  });

  it("a project file's analysis (spans past other files') gives the same hover as the lone document", function () {
    // A helper file linted first takes the first place in the project's position space, so the entry's spans start after it.
    const helpers = ['import numpy as np', '', 'def l2(W, reg):', '    return reg * np.sum(W * W)', ''].join('\n');
    const train = ['import numpy as np', 'from helpers import l2', '', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');
    const files: Record<string, string> = { '/proj/helpers.py': helpers, '/proj/train.py': train };
    const project = new Project({ root: '/proj', host: { readFile: (p) => files[p] } });
    runSteps(lintProjectSteps(project, '/proj/helpers.py', helpers, { language: 'python' }));
    const { outcome, analysis } = runSteps(lintProjectSteps(project, '/proj/train.py', train, { language: 'python' }, ['/proj/helpers.py']));
    assert.ok(analysis && analysis.file.base > 0, 'the entry is not the first file');
    const offset = train.indexOf('W -= ') + 2;
    const inProject = explainIn(analysis, offset, () => outcome.findings);
    const alone = explainAt(train, { language: 'python' }, offset);
    assert.ok(inProject && alone);
    assert.deepEqual(inProject, alone);
  });
});

describe('lsp/codeActions: edits come from Diagnostic.data', function () {
  const doc = 'file:///session/actions.py';
  const host: CodeActionHost = {
    findings: () => {
      throw new Error('quick fixes must not lint');
    },
  };
  const diagnostic = (data: unknown): Diagnostic => ({
    range: { start: { line: 3, character: 4 }, end: { line: 3, character: 20 } },
    code: 'NB101',
    source: DIAGNOSTIC_SOURCE,
    message: 'penalty value used as a gradient',
    data,
  });
  const params = (diagnostics: Diagnostic[]): CodeActionParams => ({ textDocument: { uri: doc }, range: diagnostics[0].range, context: { diagnostics } });

  it('offers the ignore actions with the carried edits, without the document', async function () {
    const line = { range: { start: { line: 3, character: 40 }, end: { line: 3, character: 40 } }, newText: '  # nabla: ignore[NB101]' };
    const file = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: '# nabla: ignore-file[NB101]\n' };
    const actions = await codeActions(params([diagnostic({ ignore: { line, file } })]), host);
    assert.deepEqual(
      actions.map((a) => a.title),
      ['Ignore NB101 on this line', 'Ignore NB101 in this file', 'Show documentation for NB101'],
    );
    assert.deepEqual(actions[0].edit?.changes?.[doc], [line]);
    assert.deepEqual(actions[1].edit?.changes?.[doc], [file]);
  });

  it('tolerates data without ignore edits (an older server) or malformed ones: no ignore actions', async function () {
    for (const data of [undefined, { fix: { title: 'x', safety: 'safe', edits: [] } }, { ignore: 3 }, { ignore: { line: { newText: 1 } } }, 'text']) {
      const actions = await codeActions(params([diagnostic(data)]), host);
      assert.deepEqual(
        actions.map((a) => a.title),
        ['Show documentation for NB101'],
        JSON.stringify(data),
      );
    }
  });
});
