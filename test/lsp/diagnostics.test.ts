import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageType, type PublishDiagnosticsParams } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { LintOptions, LintOutcome } from '../../server/engine';
import type { Steps } from '../../server/engine/stepwise';
import { DiagnosticScheduler, type DiagnosticsHost } from '../../server/lsp/diagnostics';
import { DEFAULT_SETTINGS, type NablaSettings } from '../../server/lsp/settings';

const URI = 'file:///a/step.py';

/** A host whose engine reports one NB101 finding on every line containing `BUG`. */
class FakeHost implements DiagnosticsHost {
  docs = new Map<string, TextDocument>();
  published: PublishDiagnosticsParams[] = [];
  logs: { type: MessageType; message: string }[] = [];
  lints: string[] = [];
  engineReady: Promise<void> = Promise.resolve();
  current: NablaSettings = { ...DEFAULT_SETTINGS };
  settingsGate?: Promise<void>;
  throwOn?: string;
  notices: LintOutcome['notices'] = [];

  document = (uri: string) => this.docs.get(uri);
  settings = async (_uri: string) => {
    await this.settingsGate;
    return this.current;
  };
  /** Steps each lint takes (the engine yields between its phases and rules). */
  steps = 1;
  /** Lints ended before their last step. */
  ended = 0;
  /** While set, a lint keeps yielding after its steps (it is part-way through, however fast the machine). */
  holding = false;
  *lint(text: string, options: LintOptions): Steps<LintOutcome> {
    this.lints.push(text);
    let finished = false;
    try {
      for (let i = 1; i < this.steps || this.holding; i++) yield;
      finished = true;
    } finally {
      if (!finished) this.ended++;
    }
    if (this.throwOn && text.includes(this.throwOn)) throw new Error('engine exploded');
    const findings = text.split('\n').flatMap((line, i) =>
      line.includes('BUG') && !(options.ignore ?? []).includes('NB101')
        ? [{ code: 'NB101', severity: 'error' as const, message: 'bug', range: { start: { line: i, character: 0 }, end: { line: i, character: 3 } }, related: [] }]
        : [],
    );
    return { findings, notices: this.notices };
  }
  publish = (params: PublishDiagnosticsParams) => void this.published.push(params);
  log = (type: MessageType, message: string) => void this.logs.push({ type, message });
  /** URIs whose diagnostics were published after a lint, in order (`linted` calls). */
  lintedUris: string[] = [];
  linted = (uri: string) => void this.lintedUris.push(uri);

  open(text: string, languageId = 'python', uri = URI): void {
    this.docs.set(uri, TextDocument.create(uri, languageId, 1, text));
  }
  edit(text: string, uri = URI): void {
    const doc = this.docs.get(uri)!;
    TextDocument.update(doc, [{ text }], doc.version + 1);
  }
}

async function settle(ms = 60): Promise<void> {
  await sleep(ms);
}

describe('lsp/diagnostics scheduling', function () {
  let host: FakeHost;
  let scheduler: DiagnosticScheduler;

  beforeEach(function () {
    host = new FakeHost();
    scheduler = new DiagnosticScheduler(host, 20);
  });
  afterEach(function () {
    scheduler.dispose();
  });

  it('lints on open without waiting for the debounce', async function () {
    scheduler = new DiagnosticScheduler(host, 10000);
    host.open('x = BUG\n');
    scheduler.documentChanged(URI);
    await settle(30);
    assert.equal(host.published.length, 1);
    assert.equal(host.published[0].version, 1);
    assert.equal(host.published[0].diagnostics.length, 1);
    assert.equal(host.published[0].diagnostics[0].source, 'nabla');
  });

  it('debounces a burst of edits into one lint of the final text', async function () {
    host.open('x = 1\n');
    scheduler.documentChanged(URI);
    await settle();
    host.lints = [];
    for (let i = 0; i < 20; i++) {
      host.edit(i % 2 ? 'x = BUG\n' : 'x = 2\n');
      scheduler.documentChanged(URI);
    }
    await settle();
    assert.deepEqual(host.lints, ['x = BUG\n']);
    const last = host.published[host.published.length - 1];
    assert.equal(last.version, 21);
    assert.equal(last.diagnostics.length, 1);
  });

  it('drops a run that went stale while waiting for settings', async function () {
    let release!: () => void;
    host.settingsGate = new Promise((resolve) => (release = resolve));
    host.open('x = BUG\n');
    scheduler.documentChanged(URI); // version 1 starts, then waits on settings
    await settle(10);
    host.edit('x = 1\n');
    scheduler.documentChanged(URI); // version 2 supersedes it
    await settle();
    release();
    await settle();
    assert.deepEqual(host.published.map((p) => [p.version, p.diagnostics.length]), [[2, 0]]);
  });

  it('ends a run that goes stale between its steps, and publishes only the latest version', async function () {
    host.holding = true;
    host.open('x = BUG\n');
    scheduler.documentChanged(URI);
    while (host.lints.length === 0) await settle(1); // version 1 is part-way through its steps
    host.edit('x = 1\n');
    scheduler.documentChanged(URI);
    host.holding = false;
    await settle(300);
    assert.equal(host.ended, 1, 'the stale run was ended');
    assert.deepEqual(host.published.map((p) => [p.version, p.diagnostics.length]), [[2, 0]]);
  });

  it('gives up a lint that exceeds the per-file budget, and says so', async function () {
    scheduler = new DiagnosticScheduler(host, 20, 0);
    host.steps = 3;
    host.open('x = BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.equal(host.ended, 1);
    assert.deepEqual(host.published.map((p) => [p.version, p.diagnostics.length]), [[1, 0]]);
    assert.ok(host.logs.some((l) => l.message.includes(URI) && /per-file limit/.test(l.message)), JSON.stringify(host.logs));
  });

  it('a lint that throws is logged with the URI and the scheduler keeps working', async function () {
    host.throwOn = 'BOOM';
    host.open('BOOM\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(host.published.map((p) => p.diagnostics.length), [0]);
    assert.ok(host.logs.some((l) => l.type === MessageType.Error && l.message.includes(URI) && l.message.includes('engine exploded')));
    host.edit('BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.equal(host.published[host.published.length - 1].diagnostics.length, 1);
  });

  it('publishes nothing when disabled, and applies settings on relint', async function () {
    host.open('BUG\n');
    host.current = { ...DEFAULT_SETTINGS, enable: false };
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(host.published.map((p) => p.diagnostics.length), [0]);
    assert.deepEqual(host.lints, [], 'a disabled server does not lint');
    host.current = { ...DEFAULT_SETTINGS };
    scheduler.relintAll([URI]);
    await settle();
    assert.equal(host.published[host.published.length - 1].diagnostics.length, 1);
  });

  it('close cancels pending work and clears the document', async function () {
    host.open('BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    host.edit('BUG BUG\n');
    scheduler.documentChanged(URI);
    host.docs.delete(URI);
    scheduler.documentClosed(URI);
    await settle();
    assert.deepEqual(host.published.map((p) => [p.version, p.diagnostics.length]), [[1, 1], [undefined, 0]]);
  });

  it('lints a document again, debounced, when a file its lint reads changed; only documents it has seen', async function () {
    scheduler = new DiagnosticScheduler(host, 80);
    host.open('x = BUG\n');
    scheduler.documentChanged(URI);
    await settle(30);
    assert.equal(host.published.length, 1);
    scheduler.dependencyChanged([URI, 'file:///a/never-opened.py']);
    await settle(30);
    assert.equal(host.published.length, 1, 'debounced like an edit');
    await settle(100);
    assert.deepEqual(host.published.map((p) => [p.uri, p.version]), [
      [URI, 1],
      [URI, 1],
    ]);
    assert.deepEqual(host.lintedUris, [URI, URI]);
  });

  it('keeps the findings it published, for that version of the document only', async function () {
    host.open('x = BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(scheduler.findings(URI, 1)?.map((f) => f.code), ['NB101']);
    assert.equal(scheduler.findings(URI, 2), undefined);
    host.edit('x = 1\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(scheduler.findings(URI, 2), []);
    assert.equal(scheduler.findings(URI, 1), undefined);
    host.docs.delete(URI);
    scheduler.documentClosed(URI);
    assert.equal(scheduler.findings(URI, 2), undefined);
  });

  it('ignores languages the engine does not lint', async function () {
    host.open('BUG\n', 'markdown');
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(host.published, []);
  });

  it('logs notices once while they stay the same', async function () {
    host.notices = [{ kind: 'parse-error', message: 'syntax error at 1:1' }];
    host.open('(\n');
    scheduler.documentChanged(URI);
    await settle();
    host.edit('((\n');
    scheduler.documentChanged(URI);
    await settle();
    const lines = host.logs.filter((l) => l.message.includes('syntax error'));
    assert.equal(lines.length, 1);
    assert.ok(lines[0].message.startsWith(URI));
  });

  it('reports an engine that failed to load once, and publishes nothing', async function () {
    host.engineReady = Promise.reject(new Error('no wasm'));
    host.engineReady.catch(() => undefined);
    host.open('BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    host.edit('BUG\n');
    scheduler.documentChanged(URI);
    await settle();
    assert.deepEqual(host.published, []);
    assert.equal(host.logs.filter((l) => l.message.includes('no wasm')).length, 1);
  });
});
