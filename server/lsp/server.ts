// Wires the connection's notifications to the parts that handle them. Each handler only
// forwards: scheduling lives in diagnostics.ts, settings in settings.ts, conversion in convert.ts.
import {
  MessageType,
  TextDocumentSyncKind,
  TextDocuments,
  type Connection,
  type InitializeParams,
  type InitializeResult,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_DEBOUNCE_MS, DiagnosticScheduler } from './diagnostics';
import { attachHover } from './hover';
import type { ServerHost } from './host';
import { IDLE_QUIET_MS, IdleCollector } from './idleMemory';
import { attachProjectFeatures } from './projectFeatures';
import { SETTINGS_SECTION, SettingsStore } from './settings';

export interface ServerOptions {
  /** Debounce for edits before linting, in milliseconds. */
  debounceMs?: number;
}

function logger(connection: Connection): (type: MessageType, message: string) => void {
  return (type, message) => {
    switch (type) {
      case MessageType.Error:
        return connection.console.error(message);
      case MessageType.Warning:
        return connection.console.warn(message);
      case MessageType.Info:
        return connection.console.info(message);
      default:
        return connection.console.log(message);
    }
  };
}

/**
 * Registers all handlers on `connection` and starts listening. `host`: what the runtime gives
 * (host.ts): nodeHost.ts in Node, no disk in a browser worker.
 */
export function startServer(connection: Connection, host: ServerHost, options: ServerOptions = {}): void {
  const documents = new TextDocuments(TextDocument);
  const log = logger(connection);
  let initialized!: (params: InitializeParams) => void;
  const initializeParams = new Promise<InitializeParams>((resolve) => (initialized = resolve));
  // Every lint awaits the parsers (in Node they load while the client is still initializing).
  const engineReady = host.initEngine(initializeParams);
  engineReady.catch(() => undefined); // reported by the scheduler on first use

  let settings = new SettingsStore(undefined, (message) => log(MessageType.Warning, message));
  // A collection never lands inside a lint: it waits until no document's lint is running or due.
  const idle = host.collectGarbage && new IdleCollector(IDLE_QUIET_MS, () => scheduler.sessions.busy, host.collectGarbage);
  const publish = (params: PublishDiagnosticsParams): void => {
    idle?.activity();
    void connection.sendDiagnostics(params).catch(() => undefined);
  };
  // Code actions, notebooks, the project file, Lint Workspace (projectFeatures.ts).
  const project = attachProjectFeatures(connection, {
    documents,
    engineReady,
    log,
    publish,
    editorSettings: (uri) => settings.get(uri),
    relintDocuments: () => scheduler.relintAll(documents.keys()),
    relint: (uris) => scheduler.dependencyChanged(uris),
    latestFindings: (uri, version) => scheduler.findings(uri, version),
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    disk: host.disk,
  });
  const scheduler = new DiagnosticScheduler(
    {
      document: (uri) => documents.get(uri),
      settings: (uri) => project.settings(uri),
      engineReady,
      // A document with a file path is linted in its project, with the runs of the files that import it.
      lint: (text, lintOptions, uri, parses) => project.index.lintSteps(uri, text, lintOptions, parses),
      publish,
      log,
      linted: (uri) => project.index.linted(uri),
    },
    options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
  );

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    // Settings in the initialization options are the base; the workspace configuration, pulled
    // when the client answers `workspace/configuration` and pushed otherwise, wins key by key.
    const fetch = params.capabilities.workspace?.configuration
      ? (scopeUri: string): Promise<unknown> => connection.workspace.getConfiguration({ scopeUri, section: SETTINGS_SECTION })
      : undefined;
    settings = new SettingsStore(fetch, (message) => log(MessageType.Warning, message), params.initializationOptions);
    project.initialize(params);
    initialized(params);
    return {
      capabilities: { textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental }, hoverProvider: true, ...project.capabilities },
      serverInfo: { name: 'Nabla' },
    };
  });

  connection.onDidChangeConfiguration((params) => {
    settings.changed(params.settings);
    scheduler.relintAll(documents.keys());
    project.settingsChanged();
  });
  // Hovers and `nabla/explain` (hover.ts): the math of the line under the cursor.
  attachHover(connection, {
    documents,
    engineReady,
    settings: (uri) => project.settings(uri),
    linted: (uri, version, token) => scheduler.linted(uri, version, token),
    early: (uri, version, text, offset, onError) => scheduler.explainEarly(uri, version, text, offset, onError),
    cell: (uri, position, token, onError) => project.notebooks.explainCell(uri, position, token, onError),
    logError: (message) => log(MessageType.Error, message),
  });
  documents.onDidChangeContent(({ document }) => {
    // Typing is work too: a collection timed from the last publish would land inside the next lint.
    idle?.activity();
    scheduler.documentChanged(document.uri);
  });
  documents.onDidClose(({ document }) => {
    settings.forget(document.uri);
    scheduler.documentClosed(document.uri);
  });
  connection.onShutdown(() => {
    scheduler.dispose();
    project.dispose();
    idle?.dispose();
  });

  documents.listen(connection);
  connection.listen();
}
