// When to lint which document, and publishing the result. Opening lints at once; edits are
// debounced; every request for a document takes a new ticket, and a run whose ticket is no longer
// the latest (the text, the settings or the document's open state changed meanwhile) publishes
// nothing. A lint runs in steps (engine/stepwise.ts), one per turn of the event loop: hovers and
// other requests are answered in between, and a run that goes stale is ended at its next step
// instead of finishing work nobody will see. A document whose lint reads another file (one it
// imports, or one that imports it: workspaceIndex.ts) is linted again, debounced, when that file
// changes (`dependencyChanged`). Each document's state is its session (session.ts): what the last
// lint published (findings, diagnostics, analysis) is kept there for hovers, code actions and
// fix-all, and a hover for a version not linted yet waits for that lint (`linted`), unless the
// edit since cannot change its answer (`explainEarly`).
import { MessageType, type CancellationToken, type PublishDiagnosticsParams } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { languageForDocument, lintableText, withSuppressionEditor, type DocumentAnalysis, type Finding, type LanguageId, type LintOptions, type LintOutcome, type ParseCache } from '../engine';
import { explainAfterEdit, prepareExplainAfterEdit } from '../engine/editImpact';
import type { Explanation } from '../engine/explain';
import type { Steps } from '../engine/stepwise';
import { toDiagnostics, toLintOptions, toLogMessage } from './convert';
import { nextTurn } from './turn';
import { Sessions, type DocumentSession, type LintedVersion } from './session';
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
  /**
   * The engine's `lintDocumentSteps`, or a lint of the document in its project (workspaceIndex.ts),
   * parsing through the session's own cache; with the analysis the rules read, for hovers.
   */
  lint(text: string, options: LintOptions, uri: string, parses: ParseCache): Steps<SessionLint>;
  publish(params: PublishDiagnosticsParams): void;
  log(type: MessageType, message: string): void;
  /** Called after the diagnostics of a lint were published. */
  linted?(uri: string): void;
}

/** A lint's outcome with the analysis its rules read (absent when the text was not analysed). */
export type SessionLint = LintOutcome & { analysis?: DocumentAnalysis };

/**
 * How long a hover waits for the lint of the version it is about (milliseconds): as long as a lint
 * may run. The client cancels a hover the user has moved away from, which ends the wait sooner.
 */
export const HOVER_WAIT_MS = DEFAULT_LINT_BUDGET_MS;

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}


export class DiagnosticScheduler {
  readonly sessions = new Sessions();
  private engineFailureLogged = false;
  private disposed = false;

  constructor(
    private readonly host: DiagnosticsHost,
    private readonly debounceMs: number = DEFAULT_DEBOUNCE_MS,
    private readonly budgetMs: number = DEFAULT_LINT_BUDGET_MS,
  ) {}

  /** The document was opened (first call for a URI: lint now) or edited (debounced). */
  documentChanged(uri: string): void {
    const known = this.sessions.has(uri);
    this.schedule(uri, known ? this.debounceMs : 0);
  }

  /** The document was closed: cancel pending work and clear what was published for it. */
  documentClosed(uri: string): void {
    if (!this.sessions.close(uri)) return;
    this.host.publish({ uri, diagnostics: [] });
  }

  /**
   * Files these documents' lints read changed: lint them again, debounced like an edit (only
   * documents this scheduler has seen; the others are linted when they are opened).
   */
  dependencyChanged(uris: Iterable<string>): void {
    for (const uri of uris) if (this.sessions.has(uri)) this.schedule(uri, this.debounceMs);
  }

  /** The engine findings last published for this version of the document, if that is the latest published. */
  findings(uri: string, version: number): Finding[] | undefined {
    const published = this.sessions.get(uri)?.published;
    return published && published.version === version ? published.findings : undefined;
  }

  /**
   * What the lint of this version of the document published: at once when it is published; else
   * after the lint that is running or due for it (a debounced one is started now: someone is
   * waiting), for at most `waitMs`. Undefined when no lint of that version will come (the document
   * changed or closed meanwhile, Nabla is off for it, the wait ran out).
   */
  async linted(uri: string, version: number, token?: CancellationToken, waitMs: number = HOVER_WAIT_MS): Promise<LintedVersion | undefined> {
    const session = this.sessions.get(uri);
    if (!session) return undefined;
    const deadline = performance.now() + waitMs;
    const cancelled = token?.onCancellationRequested(() => session.settled());
    try {
      return await this.waitFor(session, version, deadline, token);
    } finally {
      cancelled?.dispose();
    }
  }

  /**
   * The explanation at `offset` of this version of the document from the analysis the last lint
   * published for an earlier version, when the edit since cannot change it (engine/editImpact.ts:
   * the hovered statement does not depend, by data flow, on the one edited); undefined when the
   * hover must wait for the lint of this version (`linted`). The edit is found by comparing the
   * published text with `text`, and judged with the tree the session keeps of the published text.
   */
  explainEarly(uri: string, version: number, text: string, offset: number, onError?: (error: unknown) => void): { explanation: Explanation | undefined } | undefined {
    const session = this.sessions.get(uri);
    const published = session?.published;
    if (!session || !published?.analysis || published.version >= version) return undefined;
    const tree = session.parses.treeOf(published.analysis.text, published.language);
    if (!tree) return undefined;
    try {
      const early = explainAfterEdit(published.analysis, tree, lintableText(text), offset, () => published.findings);
      if (early) this.sessions.touch(session);
      return early;
    } catch (error) {
      onError?.(error);
      return undefined;
    }
  }

  private async waitFor(session: DocumentSession, version: number, deadline: number, token: CancellationToken | undefined): Promise<LintedVersion | undefined> {
    const uri = session.uri;
    for (;;) {
      if (token?.isCancellationRequested) return undefined;
      const published = session.published;
      if (published?.version === version) {
        this.sessions.touch(session);
        return published;
      }
      if (this.disposed || session.isClosed || this.host.document(uri)?.version !== version) return undefined;
      if (session.timer) this.runNow(session);
      else if (session.running === 0) return undefined;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await session.next(left);
    }
  }

  /** Settings changed: lint every open document again, without debounce. */
  relintAll(uris: Iterable<string>): void {
    for (const uri of uris) this.schedule(uri, 0);
  }

  dispose(): void {
    this.disposed = true;
    this.sessions.clear();
  }

  private schedule(uri: string, delayMs: number): void {
    if (this.disposed) return;
    const session = this.sessions.open(uri);
    clearTimeout(session.timer);
    const ticket = ++session.ticket;
    session.timer = setTimeout(() => this.start(session, ticket), delayMs);
  }

  /** Starts the debounced lint of a session now (a hover waits for it), with the same ticket. */
  private runNow(session: DocumentSession): void {
    clearTimeout(session.timer);
    this.start(session, session.ticket);
  }

  private start(session: DocumentSession, ticket: number): void {
    session.timer = undefined;
    session.running++;
    this.run(session, ticket)
      .catch((error: unknown) => {
        this.host.log(MessageType.Error, `${session.uri}: diagnostics failed: ${describe(error)}`);
      })
      .finally(() => {
        session.running--;
        session.settled();
      });
  }

  private isCurrent(session: DocumentSession, ticket: number): boolean {
    return !this.disposed && !session.isClosed && session.ticket === ticket;
  }

  private async run(session: DocumentSession, ticket: number): Promise<void> {
    const uri = session.uri;
    const opened = this.host.document(uri);
    if (!opened || languageForDocument(opened.languageId, opened.uri) === undefined) return;
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
    if (!this.isCurrent(session, ticket)) return;
    // Read the document after the awaits: the ticket proves it has not changed since.
    const document = this.host.document(uri);
    const language = document && languageForDocument(document.languageId, document.uri);
    if (!document || !language) return;
    const version = document.version;
    const text = document.getText();
    this.sessions.touch(session);
    const linted = settings.enable ? await this.lint(session, document, language, settings, ticket) : { findings: [], notices: [] };
    if (!linted || !this.isCurrent(session, ticket)) return;
    // The fix and suppression edits of every diagnostic are made now, once, from the tree the lint kept.
    const diagnostics = linted.findings.length === 0 ? [] : this.diagnostics(session, text, language, linted.findings);
    session.published = { version, text, language, findings: linted.findings, diagnostics, analysis: linted.analysis };
    this.host.publish({ uri, version, diagnostics }); // empty results too: they clear what an earlier version showed
    if (settings.enable) this.host.linted?.(uri);
    // Index the analysis for the first hover after the next edit (explainEarly), once published.
    const analysis = linted.analysis;
    if (analysis) setImmediate(() => {
      if (session.published?.analysis !== analysis) return;
      try {
        prepareExplainAfterEdit(analysis);
      } catch (error) {
        this.host.log(MessageType.Error, `${uri}: could not index the analysis for hovers: ${describe(error)}`);
      }
    });
  }

  private diagnostics(session: DocumentSession, text: string, language: LanguageId, findings: Finding[]): ReturnType<typeof toDiagnostics> {
    try {
      return withSuppressionEditor(text, language, session.parses, (ignore) => toDiagnostics(findings, session.uri, ignore));
    } catch (error) {
      this.host.log(MessageType.Error, `${session.uri}: could not prepare the suppression edits: ${describe(error)}`);
      return toDiagnostics(findings, session.uri);
    }
  }

  /** Runs the lint a step per event-loop turn; undefined when it went stale and was ended. */
  private async lint(session: DocumentSession, document: TextDocument, language: LanguageId, settings: NablaSettings, ticket: number): Promise<SessionLint | undefined> {
    const uri = document.uri;
    let outcome: SessionLint;
    try {
      const steps = this.host.lint(document.getText(), toLintOptions(settings, language), uri, session.parses);
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
        if (!this.isCurrent(session, ticket)) {
          steps.return(undefined as never); // runs the engine's `finally` blocks (frees its tree)
          return undefined;
        }
      }
    } catch (error) {
      this.host.log(MessageType.Error, `${uri}: linting version ${document.version} threw; no diagnostics for it: ${describe(error)}`);
      return { findings: [], notices: [] };
    }
    this.logNotices(session, outcome);
    return outcome;
  }

  private logNotices(session: DocumentSession, outcome: LintOutcome): void {
    const uri = session.uri;
    const key = outcome.notices.map((notice) => `${notice.kind}:${notice.message}`).join('\n');
    if (session.lastNotices === key) return;
    session.lastNotices = key;
    for (const notice of outcome.notices) {
      const { type, message } = toLogMessage(notice, uri);
      this.host.log(type, message);
    }
  }

}
