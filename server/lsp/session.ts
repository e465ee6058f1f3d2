// One open document's state, owned by the server: the scheduler's ticket and timer, the document's
// own parse cache (its tree, the base of the next version's incremental re-parse, which no other
// lint can evict), and what the last lint published: the version and text it saw, the engine
// findings, the diagnostics built from them (with their fix and suppression edits in `data`) and
// the analysis (parse and facts) the rules read. Hovers and code actions read the session; they
// never lint or parse again. A notebook has one session, as the one document its cells make.
//
// Trees and analyses are large next to findings: only the sessions used most recently keep them
// (WARM_SESSIONS); the others keep their findings and diagnostics, and their next lint parses from
// scratch, as a document opened for the first time does.
import type { Diagnostic } from 'vscode-languageserver';
import { ParseCache, type DocumentAnalysis, type Finding, type LanguageId } from '../engine';

/**
 * Sessions that keep their tree and analysis (the documents being edited or hovered): as many as
 * the engine's shared cache kept before sessions, so the memory of many open documents stays as it was.
 */
export const WARM_SESSIONS = 3;

/** What one lint of one version published. */
export interface LintedVersion {
  version: number;
  /** The text the lint read (the document's at `version`). */
  text: string;
  language: LanguageId;
  findings: Finding[];
  /** The published diagnostics, `data` included. */
  diagnostics: Diagnostic[];
  /** The parse and facts the rules read; absent when the text was not analysed, or the session went cold. */
  analysis?: DocumentAnalysis;
}

export class DocumentSession {
  /** Bumped on every change, settings change and close; a run only publishes for the latest. */
  ticket = 0;
  timer?: NodeJS.Timeout;
  /** Lint runs of this document in progress (a stale one may still be ending its step when the next starts). */
  running = 0;
  /** The notices last logged, so a document that stays broken while typing is logged once. */
  lastNotices = '';
  /** The last lint's result, for hovers, code actions and fix-all. */
  published?: LintedVersion;
  /** This document's parses: one tree, for the next version. */
  readonly parses = new ParseCache(1, 1);
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(readonly uri: string) {}

  /** Something changed (a run ended, published, or the document closed): wakes whoever waits. */
  settled(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves at the next `settled()`, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      }, ms);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(wake);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Drops the tree and the analysis (the findings and diagnostics stay). */
  cool(): void {
    this.parses.clear();
    if (this.published) this.published.analysis = undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.cool();
    this.published = undefined;
    this.settled();
  }
}

/** The sessions of a scheduler, with the few most recently used kept warm. */
export class Sessions {
  private readonly byUri = new Map<string, DocumentSession>();
  /** Most recently used last. */
  private readonly warm: DocumentSession[] = [];

  constructor(private readonly warmLimit = WARM_SESSIONS) {}

  get(uri: string): DocumentSession | undefined {
    return this.byUri.get(uri);
  }

  has(uri: string): boolean {
    return this.byUri.has(uri);
  }

  /** Whether any document has a lint running or waiting for its debounce. */
  get busy(): boolean {
    for (const session of this.byUri.values()) if (session.running > 0 || session.timer !== undefined) return true;
    return false;
  }

  /** The session of a URI, made on first use. */
  open(uri: string): DocumentSession {
    let session = this.byUri.get(uri);
    if (!session) {
      session = new DocumentSession(uri);
      this.byUri.set(uri, session);
    }
    return session;
  }

  /** The session is being used (linted or hovered): it keeps its tree and analysis; the least recently used beyond the limit go cold. */
  touch(session: DocumentSession): void {
    const at = this.warm.indexOf(session);
    if (at >= 0) this.warm.splice(at, 1);
    this.warm.push(session);
    for (const cold of this.warm.splice(0, Math.max(0, this.warm.length - this.warmLimit))) cold.cool();
  }

  close(uri: string): DocumentSession | undefined {
    const session = this.byUri.get(uri);
    if (!session) return undefined;
    this.byUri.delete(uri);
    const at = this.warm.indexOf(session);
    if (at >= 0) this.warm.splice(at, 1);
    session.close();
    return session;
  }

  values(): IterableIterator<DocumentSession> {
    return this.byUri.values();
  }

  clear(): void {
    for (const session of this.byUri.values()) session.close();
    this.byUri.clear();
    this.warm.length = 0;
  }
}
