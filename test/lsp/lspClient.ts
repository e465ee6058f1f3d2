// A minimal LSP client for tests: spawns `node dist/server.js --stdio` (or another command line), speaks JSON-RPC over the
// child's stdio, answers `workspace/configuration`, and records every diagnostics publish.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import type {
  ConfigurationParams,
  Diagnostic,
  InitializeResult,
  LogMessageParams,
  PublishDiagnosticsParams,
  TextDocumentContentChangeEvent,
} from 'vscode-languageserver';

export const repoRoot = path.resolve(__dirname, '../../..');
export const serverPath = path.join(repoRoot, 'dist', 'server.js');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

export interface StartOptions {
  /** The arguments given to node (default: dist/server.js --stdio), e.g. `[cliPath, 'server']`. */
  command?: string[];
  /** Advertise `workspace.configuration` (the pull model). Default true. */
  configurationPull?: boolean;
  /** Extra client capabilities, merged into `workspace`, `textDocument` and `window`. */
  capabilities?: { workspace?: Record<string, unknown>; textDocument?: Record<string, unknown>; window?: Record<string, unknown>; notebookDocument?: Record<string, unknown> };
  /** Workspace folder URIs announced in `initialize`. */
  workspaceFolders?: string[];
  /** `initializationOptions` sent in `initialize` (as Helix's `config`, Neovim's `init_options`). */
  initializationOptions?: unknown;
}

interface Waiter {
  uri: string;
  since: number;
  predicate: (params: PublishDiagnosticsParams) => boolean;
  resolve: (params: PublishDiagnosticsParams) => void;
}

export class LspTestClient {
  readonly publishes: PublishDiagnosticsParams[] = [];
  readonly logs: LogMessageParams[] = [];
  /** `window/showMessage` notifications. */
  readonly messages: { type: number; message: string }[] = [];
  /** `window/showDocument` requests. */
  readonly shownDocuments: { uri: string; external?: boolean }[] = [];
  /** `client/registerCapability` registrations. */
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  /** `$/progress` notifications. */
  readonly progress: { token: string | number; value: { kind: string; message?: string; percentage?: number } }[] = [];
  /** What the client answers for the `nabla` section. */
  config: Record<string, unknown> = {};
  configurationRequests = 0;
  stderr = '';
  private waiters: Waiter[] = [];
  private versions = new Map<string, number>();
  private texts = new Map<string, string>();

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly connection: MessageConnection,
  ) {}

  static async start(options: StartOptions = {}): Promise<{ client: LspTestClient; result: InitializeResult }> {
    const child = spawn(process.execPath, options.command ?? [serverPath, '--stdio'], { cwd: repoRoot, stdio: 'pipe' });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspTestClient(child, connection);
    child.stderr.on('data', (chunk: Buffer) => (client.stderr += chunk.toString()));
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => client.received(params));
    connection.onNotification('window/logMessage', (params: LogMessageParams) => void client.logs.push(params));
    connection.onRequest('workspace/configuration', (params: ConfigurationParams) => {
      client.configurationRequests++;
      return params.items.map((item) => (item.section === 'nabla' ? structuredClone(client.config) : null));
    });
    connection.onRequest('client/registerCapability', (params: { registrations: { method: string; registerOptions?: unknown }[] }) => {
      client.registrations.push(...params.registrations);
      return null;
    });
    connection.onNotification('window/showMessage', (params: { type: number; message: string }) => void client.messages.push(params));
    connection.onRequest('window/showDocument', (params: { uri: string; external?: boolean }) => {
      client.shownDocuments.push(params);
      return { success: true };
    });
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onNotification('$/progress', (params: LspTestClient['progress'][number]) => void client.progress.push(params));
    connection.listen();
    const result = await connection.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      clientInfo: { name: 'nabla-test-client' },
      rootUri: options.workspaceFolders?.[0] ?? null,
      workspaceFolders: options.workspaceFolders?.map((uri, i) => ({ uri, name: `folder${i}` })) ?? null,
      ...(options.initializationOptions !== undefined ? { initializationOptions: options.initializationOptions } : {}),
      capabilities: {
        workspace: { configuration: options.configurationPull ?? true, didChangeConfiguration: { dynamicRegistration: false }, ...options.capabilities?.workspace },
        textDocument: {
          synchronization: { dynamicRegistration: false },
          publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, dataSupport: true },
          ...options.capabilities?.textDocument,
        },
        ...(options.capabilities?.window ? { window: options.capabilities.window } : {}),
        ...(options.capabilities?.notebookDocument ? { notebookDocument: options.capabilities.notebookDocument } : {}),
      },
    });
    await connection.sendNotification('initialized', {});
    return { client, result };
  }

  private received(params: PublishDiagnosticsParams): void {
    this.publishes.push(params);
    const index = this.publishes.length - 1;
    for (const waiter of [...this.waiters]) {
      if (waiter.uri === params.uri && index >= waiter.since && waiter.predicate(params)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(params);
      }
    }
  }

  /** The first publish for `uri` at or after index `since` matching `predicate`, waiting if needed. */
  waitForPublish(
    uri: string,
    predicate: (params: PublishDiagnosticsParams) => boolean = () => true,
    since = 0,
    timeoutMs = 10000,
  ): Promise<PublishDiagnosticsParams> {
    const found = this.publishes.find((p, i) => i >= since && p.uri === uri && predicate(p));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.publishes.filter((p) => p.uri === uri).map((p) => `v${p.version}:${p.diagnostics.length}`);
        reject(new Error(`no matching diagnostics for ${uri} within ${timeoutMs} ms (seen: ${seen.join(', ') || 'none'}; stderr: ${this.stderr})`));
      }, timeoutMs);
      const waiter: Waiter = {
        uri,
        since,
        predicate,
        resolve: (params) => {
          clearTimeout(timer);
          resolve(params);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Diagnostics published for exactly this version of `uri`. */
  diagnosticsFor(uri: string, version: number, timeoutMs?: number): Promise<Diagnostic[]> {
    return this.waitForPublish(uri, (p) => p.version === version, 0, timeoutMs).then((p) => p.diagnostics);
  }

  text(uri: string): string {
    return this.texts.get(uri) ?? '';
  }

  version(uri: string): number {
    return this.versions.get(uri) ?? 0;
  }

  async open(uri: string, languageId: string, text: string): Promise<number> {
    this.versions.set(uri, 1);
    this.texts.set(uri, text);
    await this.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
    return 1;
  }

  /** Sends one incremental change and returns the new version. */
  async change(uri: string, changes: TextDocumentContentChangeEvent[]): Promise<number> {
    const version = this.version(uri) + 1;
    this.versions.set(uri, version);
    this.texts.set(uri, changes.reduce(applyChange, this.text(uri)));
    await this.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    return version;
  }

  async close(uri: string): Promise<void> {
    this.versions.delete(uri);
    this.texts.delete(uri);
    await this.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Sets the settings the client answers with and tells the server they changed. */
  async configure(config: Record<string, unknown>): Promise<void> {
    this.config = config;
    await this.connection.sendNotification('workspace/didChangeConfiguration', { settings: { nabla: config } });
  }

  /** Sends `shutdown` and `exit`, then makes sure the child is gone. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
      else this.child.once('exit', () => resolve());
    });
    try {
      await withTimeout(this.connection.sendRequest('shutdown'), 3000);
      await this.connection.sendNotification('exit');
      await withTimeout(exited, 3000);
    } catch {
      // fall through to the kill below
    } finally {
      this.connection.dispose();
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** Applies one LSP content change to a text (positions in UTF-16 code units). */
export function applyChange(text: string, change: TextDocumentContentChangeEvent): string {
  if (!('range' in change)) return change.text;
  const start = offsetAt(text, change.range.start);
  const end = offsetAt(text, change.range.end);
  return text.slice(0, start) + change.text + text.slice(end);
}

export function offsetAt(text: string, position: { line: number; character: number }): number {
  let offset = 0;
  for (let line = 0; line < position.line; line++) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return Math.min(offset + position.character, text.length);
}

/** The text a range covers. */
export function textAt(text: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }): string {
  return text.slice(offsetAt(text, range.start), offsetAt(text, range.end));
}

export { ResponseError };
