// When to lint which document, and publishing the result. Opening lints at once; edits are
// debounced; every request for a document takes a new ticket, and a run whose ticket is no longer
// the latest (the text, the settings or the document's open state changed meanwhile) publishes
// nothing. A lint runs in steps (engine/stepwise.ts), one per turn of the event loop: hovers and
// other requests are answered in between, and a run that goes stale is ended at its next step
// instead of finishing work nobody will see. A document whose lint reads another file (one it
// imports, or one that imports it: workspaceIndex.ts) is linted again, debounced, when that file
// changes (`dependencyChanged`). The findings of the last publish are kept for hovers and fix-all.
import { MessageType, type Diagnostic, type PublishDiagnosticsParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { languageForLanguageId, type Finding, type LanguageId, type LintOptions, type LintOutcome } from '../engine';
import type { Steps } from '../engine/stepwise';
import { toDiagnostics, toLintOptions, toLogMessage } from './convert';
import type { NablaSettings } from './settings';

/** Debounce for edits, in milliseconds. */
export const DEFAULT_DEBOUNCE_MS = 150;

/**
 * Time a lint of one version may spend in its steps before it is given up (milliseconds). A file
 * within the size limit takes a second or two at most; the bound is checked between steps.
 */
export const DEFAULT_LINT_BUDGET_MS = 20_000;

/** What the scheduler needs from the rest of the server; injected so it can be tested alone. */
export interface DiagnosticsHost {
  /** The open document, or undefined once it is closed. */
  document(uri: string): TextDocument | undefined;
  settings(uri: string): Promise<NablaSettings>;
  /** Resolves when the engine can lint; a rejection means it never will. */
  engineReady: Promise<void>;
  /** The engine's `lintSteps`, or a lint of the document in its project (workspaceIndex.ts). */
  lint(text: string, options: LintOptions, uri: string): Steps<LintOutcome>;
  publish(params: PublishDiagnosticsParams): void;
  log(type: MessageType, message: string): void;
  /** Called after the diagnostics of a lint were published. */
  linted?(uri: string): void;
}

interface DocumentState {
  /** Bumped on every change, settings change and close; a run only publishes for the latest. */
  ticket: number;
  timer?: NodeJS.Timeout;
  /** The notices last logged, so a document that stays broken while typing is logged once. */
  lastNotices: string;
  /** The engine findings last published, and for which version of the document. */
  published?: { version: number; findings: Finding[] };
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Resolves after pending I/O (incoming messages) has been handled. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class DiagnosticScheduler {
  private readonly states = new Map<string, DocumentState>();
  private engineFailureLogged = false;
  private disposed = false;

  constructor(
    private readonly host: DiagnosticsHost,
    private readonly debounceMs: number = DEFAULT_DEBOUNCE_MS,
    private readonly budgetMs: number = DEFAULT_LINT_BUDGET_MS,
  ) {}

  /** The document was opened (first call for a URI: lint now) or edited (debounced). */
  documentChanged(uri: string): void {
    const known = this.states.has(uri);
    this.schedule(uri, known ? this.debounceMs : 0);
  }

  /** The document was closed: cancel pending work and clear what was published for it. */
  documentClosed(uri: string): void {
    const state = this.states.get(uri);
    if (!state) return;
    clearTimeout(state.timer);
    this.states.delete(uri);
    this.host.publish({ uri, diagnostics: [] });
  }

  /**
   * Files these documents' lints read changed: lint them again, debounced like an edit (only
   * documents this scheduler has seen; the others are linted when they are opened).
   */
  dependencyChanged(uris: Iterable<string>): void {
    for (const uri of uris) if (this.states.has(uri)) this.schedule(uri, this.debounceMs);
  }

  /** The engine findings last published for this version of the document, if that is the latest published. */
  findings(uri: string, version: number): Finding[] | undefined {
    const published = this.states.get(uri)?.published;
    return published && published.version === version ? published.findings : undefined;
  }

  /** Settings changed: lint every open document again, without debounce. */
  relintAll(uris: Iterable<string>): void {
    for (const uri of uris) this.schedule(uri, 0);
  }

  dispose(): void {
    this.disposed = true;
    for (const state of this.states.values()) clearTimeout(state.timer);
    this.states.clear();
  }

  private schedule(uri: string, delayMs: number): void {
    if (this.disposed) return;
    const state = this.states.get(uri) ?? { ticket: 0, lastNotices: '' };
    this.states.set(uri, state);
    clearTimeout(state.timer);
    const ticket = ++state.ticket;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.run(uri, ticket).catch((error: unknown) => {
        this.host.log(MessageType.Error, `${uri}: diagnostics failed: ${describe(error)}`);
      });
    }, delayMs);
  }

  private isCurrent(uri: string, ticket: number): boolean {
    return !this.disposed && this.states.get(uri)?.ticket === ticket;
  }

  private async run(uri: string, ticket: number): Promise<void> {
    const opened = this.host.document(uri);
    if (!opened || languageForLanguageId(opened.languageId) === undefined) return;
    try {
      await this.host.engineReady;
    } catch (error) {
      if (!this.engineFailureLogged) {
        this.engineFailureLogged = true;
        this.host.log(MessageType.Error, `the Nabla engine failed to start, so nothing will be checked: ${describe(error)}`);
      }
      return;
    }
    const settings = await this.host.settings(uri);
    if (!this.isCurrent(uri, ticket)) return;
    // Read the document after the awaits: the ticket proves it has not changed since.
    const document = this.host.document(uri);
    const language = document && languageForLanguageId(document.languageId);
    if (!document || !language) return;
    const version = document.version;
    const findings = settings.enable ? await this.lint(document, language, settings, ticket) : [];
    if (!findings || !this.isCurrent(uri, ticket)) return;
    this.states.get(uri)!.published = { version, findings };
    this.publish(uri, version, toDiagnostics(findings, uri));
    if (settings.enable) this.host.linted?.(uri);
  }

  /** Runs the lint a step per event-loop turn; undefined when it went stale and was ended. */
  private async lint(document: TextDocument, language: LanguageId, settings: NablaSettings, ticket: number): Promise<Finding[] | undefined> {
    const uri = document.uri;
    let outcome: LintOutcome;
    try {
      const steps = this.host.lint(document.getText(), toLintOptions(settings, language), uri);
      let spent = 0;
      for (;;) {
        const started = performance.now();
        const step = steps.next();
        spent += performance.now() - started;
        if (step.done) {
          outcome = step.value;
          break;
        }
        if (spent >= this.budgetMs) {
          steps.return(undefined as never);
          outcome = { findings: [], notices: [{ kind: 'skipped', message: `skipped: checking took longer than ${Math.round(this.budgetMs / 1000)} s, the per-file limit` }] };
          break;
        }
        await nextTurn();
        if (!this.isCurrent(uri, ticket)) {
          steps.return(undefined as never); // runs the engine's `finally` blocks (frees its tree)
          return undefined;
        }
      }
    } catch (error) {
      this.host.log(MessageType.Error, `${uri}: linting version ${document.version} threw; no diagnostics for it: ${describe(error)}`);
      return [];
    }
    this.logNotices(uri, outcome);
    return outcome.findings;
  }

  private logNotices(uri: string, outcome: LintOutcome): void {
    const state = this.states.get(uri);
    const key = outcome.notices.map((notice) => `${notice.kind}:${notice.message}`).join('\n');
    if (!state || state.lastNotices === key) return;
    state.lastNotices = key;
    for (const notice of outcome.notices) {
      const { type, message } = toLogMessage(notice, uri);
      this.host.log(type, message);
    }
  }

  private publish(uri: string, version: number, diagnostics: Diagnostic[]): void {
    // Empty results are published too: they clear what an earlier version showed.
    this.host.publish({ uri, version, diagnostics });
  }
}
