// The server's project-level features, wired in one place so server.ts only forwards to them:
// code actions (codeActions.ts), notebooks (notebooks.ts), the project file and its reload
// (projectSettings.ts), "Lint Workspace" (workspaceLint.ts), `nabla.showDocumentation`, and the
// workspace index (workspaceIndex.ts): the projects open documents are linted in and the import
// graph, kept up to date from the editor and from watched files. All of these but code actions
// and notebooks read files, and come from the host's disk (host.ts); without one (a browser), open
// documents are linted alone with the editor's settings, and Lint Workspace answers that it cannot run.
import {
  DidChangeWatchedFilesNotification,
  ErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  type CodeActionParams,
  type Connection,
  type InitializeParams,
  type PublishDiagnosticsParams,
  type ServerCapabilities,
  type TextDocuments,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_MAX_FILE_SIZE, languageForDocument, lintedExtensions, lintText, type Finding, type Project } from '../engine';
import { CODE_ACTION_KINDS, codeActions, SHOW_DOCUMENTATION_COMMAND, type CodeActionHost } from './codeActions';
import { toLintOptions } from './convert';
import { DocumentsOnly, noProjectFile } from './documentsOnly';
import type { Disk, LintIndex, ProjectFileSettings } from './host';
import { NOTEBOOK_SELECTOR, NotebookLinting } from './notebooks';
import type { NablaSettings } from './settings';
import { LINT_WORKSPACE_REQUEST, LINT_WORKSPACE_NEEDS_DISK, type LintWorkspaceParams } from './protocol';

/** Glob pattern of the source files whose changes on disk update the workspace index. */
export const SOURCE_WATCH_PATTERN = `**/*.{${lintedExtensions.map((e) => e.slice(1)).join(',')}}`;
/** Glob pattern of the pages (engine/pages.ts `isPagePath`) whose script lists link classic scripts: a change re-lints the scripts they load. */
export const PAGE_WATCH_PATTERN = '**/*.{html,htm}';

export interface ProjectFeaturesDeps {
  documents: TextDocuments<TextDocument>;
  engineReady: Promise<void>;
  log(type: MessageType, message: string): void;
  publish(params: PublishDiagnosticsParams): void;
  /** The VS Code settings for a URI (without the project file). */
  editorSettings(uri: string): Promise<NablaSettings>;
  /** Lint every open text document again (the project file changed). */
  relintDocuments(): void;
  /** Lint these open text documents again (a file their lint reads changed), debounced. */
  relint(uris: string[]): void;
  /** The engine findings published for this version of an open text document, if any. */
  latestFindings(uri: string, version: number): Finding[] | undefined;
  debounceMs: number;
  /** The files on disk (host.ts); absent in a browser. */
  disk?: Disk;
}

export interface ProjectFeatures {
  /** What to merge into the server's capabilities. */
  capabilities: ServerCapabilities;
  /** Call from onInitialize. */
  initialize(params: InitializeParams): void;
  /** The settings a document is linted with: the project file, then the editor settings. */
  settings(uri: string): Promise<NablaSettings>;
  /** The editor settings changed: lint open notebooks again (text documents are the caller's). */
  settingsChanged(): void;
  /** The projects and the import graph of the workspace. */
  index: LintIndex;
  /** Notebook sync: the hover of a cell comes from its notebook's lint. */
  notebooks: NotebookLinting;
  dispose(): void;
}

export function attachProjectFeatures(connection: Connection, deps: ProjectFeaturesDeps): ProjectFeatures {
  const { documents, log, disk } = deps;
  const project: ProjectFileSettings = disk
    ? disk.projectSettings({
        // A notification (window/showMessage), not a request: nothing waits for the user to dismiss it.
        warn: (message) => void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message }).catch(() => undefined),
        log: (message) => log(MessageType.Warning, message),
        note: (message) => log(MessageType.Info, message),
      })
    : noProjectFile;
  const fsPathOf = (uri: string): string | undefined => disk?.pathOf(uri);
  const isConfigUri = (uri: string): boolean => disk?.isConfigUri(uri) ?? false;
  // An open document's text tells minified JavaScript the walks leave out (projectSettings.ts `leftOut`).
  const settings = async (uri: string): Promise<NablaSettings> => project.apply(uri, await deps.editorSettings(uri), documents.get(uri)?.getText());

  let folders: string[] = [];
  let watchDynamically = false;
  /** The watchers are registered: file events will tell of files created, changed and deleted in the workspace folders. */
  let watching = false;

  // Editor settings are asked for once per workspace folder, not per file: a workspace can hold thousands.
  const folderScope = (uri: string): string => {
    const fsPath = fsPathOf(uri);
    const folder = fsPath && folders.find((f) => disk?.inside(fsPath, f));
    return folder && disk ? disk.uriOf(folder) : uri;
  };
  const index: LintIndex = disk
    ? disk.workspaceIndex({
        documents,
        excludes: (fsPath, isDir) => project.excludes(fsPath, isDir),
        relint: (uris) => deps.relint(uris),
        log,
        maxFileSize: DEFAULT_MAX_FILE_SIZE,
        filesWatched: () => watching,
      })
    : new DocumentsOnly();
  // Before the scheduler hears of the change (server.ts registers later): what the projects read of the file is forgotten first.
  documents.onDidChangeContent(({ document }) => {
    notebooks.filesChanged([document.uri]);
    index.documentChanged(document.uri);
  });
  documents.onDidClose(({ document }) => index.documentClosed(document.uri, document.getText()));

  const workspace = disk?.workspaceLinter({
    settings: async (uri) => project.apply(uri, await deps.editorSettings(folderScope(uri))),
    excludes: (fsPath, isDir) => project.excludes(fsPath, isDir),
    isOpen: (uri) => documents.get(uri) !== undefined || notebooks.uris().includes(uri),
    publish: deps.publish,
    maxFileSize: DEFAULT_MAX_FILE_SIZE,
    ready: () => index.idle(),
    session: () => {
      // The run's own projects: what it parses is freed when it ends.
      const projects = new Map<string, Project>();
      return { lint: (fsPath, options) => index.lintOnDisk(fsPath, options, projects)?.findings };
    },
  });

  const notebooks = new NotebookLinting(
    {
      settings,
      engineReady: deps.engineReady,
      publish: deps.publish,
      log,
      opened: (uri) => {
        if (workspace?.forget(uri)) deps.publish({ uri, diagnostics: [] });
      },
      // In its project, as Jupyter runs it: its cells import the package beside it.
      lint: (uri, text, options, parses) => index.lintSteps(uri, text, options, parses),
      reads: (uri, changedUri) => index.reads(uri, changedUri),
    },
    deps.debounceMs,
  );
  documents.onDidOpen(({ document }) => workspace?.forget(document.uri));

  const actionsHost: CodeActionHost = {
    async findings(uri) {
      await deps.engineReady;
      const cell = notebooks.cell(uri);
      const scope = cell ? notebooks.notebookOf(uri) : uri;
      if (!scope) return undefined;
      const effective = await settings(scope);
      if (!effective.enable) return undefined;
      if (cell) {
        const { language: _language, ...options } = toLintOptions(effective, 'python');
        void _language;
        return notebooks.findingsForCell(uri, options);
      }
      const document = documents.get(uri);
      const language = document && languageForDocument(document.languageId, document.uri);
      if (!document || !language) return undefined;
      // The published findings of this version (a project lint's); a fresh lint of the document alone otherwise.
      return deps.latestFindings(uri, document.version) ?? lintText(document.getText(), toLintOptions(effective, language)).findings;
    },
  };

  connection.onCodeAction(async (params: CodeActionParams) => {
    try {
      return await codeActions(params, actionsHost);
    } catch (error) {
      log(MessageType.Error, `code actions for ${params.textDocument.uri} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return [];
    }
  });

  connection.onExecuteCommand(async (params) => {
    if (params.command !== SHOW_DOCUMENTATION_COMMAND) return;
    const [target] = params.arguments ?? [];
    if (typeof target !== 'string' || !/^https?:\/\//.test(target)) return;
    await connection.window.showDocument({ uri: target, external: true }).catch(() => undefined);
  });

  connection.onDidChangeWatchedFiles(({ changes }) => {
    const sources = changes.filter((change) => !isConfigUri(change.uri));
    notebooks.filesChanged(sources.map((change) => change.uri));
    index.filesChanged(sources);
    if (!changes.some((change) => isConfigUri(change.uri))) return;
    log(MessageType.Info, 'project configuration changed; checking open documents again');
    project.reload();
    deps.relintDocuments();
    notebooks.relintAll();
  });

  connection.onInitialized(() => {
    // The import graph is built in the background once the parsers are loaded.
    deps.engineReady.then(
      () => index.start(),
      () => undefined, // the scheduler reports a failed engine
    );
    if (!watchDynamically || !disk) return;
    const watchers = [...disk.configWatchPatterns, SOURCE_WATCH_PATTERN, PAGE_WATCH_PATTERN].map((globPattern) => ({ globPattern }));
    void connection.client
      .register(DidChangeWatchedFilesNotification.type, { watchers })
      .then(() => {
        watching = true;
      })
      .catch((error: unknown) => log(MessageType.Warning, `could not watch the project configuration, source files and pages: ${String(error)}`));
  });

  connection.onRequest(LINT_WORKSPACE_REQUEST, async (params: LintWorkspaceParams | undefined, token) => {
    if (!workspace || !disk) throw new ResponseError(ErrorCodes.InvalidRequest, LINT_WORKSPACE_NEEDS_DISK);
    await deps.engineReady;
    const roots = (params?.folders ?? [])
      .map(fsPathOf)
      .filter((p): p is string => p !== undefined)
      .map((p) => disk.resolve(p));
    if (roots.length > 0) {
      folders = [...new Set([...folders, ...roots])];
      project.setRoots(folders); // what the run walks from, the open documents are judged from too
    }
    const progress = connection.window.attachWorkDoneProgress(params?.workDoneToken);
    return workspace.run(roots.length > 0 ? roots : folders, token, progress);
  });

  notebooks.listen(connection);

  return {
    notebooks,
    capabilities: {
      codeActionProvider: { codeActionKinds: CODE_ACTION_KINDS, resolveProvider: false },
      executeCommandProvider: { commands: [SHOW_DOCUMENTATION_COMMAND] },
      notebookDocumentSync: { notebookSelector: NOTEBOOK_SELECTOR },
    },
    initialize(params) {
      const uris = params.workspaceFolders?.map((folder) => folder.uri) ?? (params.rootUri ? [params.rootUri] : []);
      folders = uris.map(fsPathOf).filter((p): p is string => p !== undefined).map((p) => disk?.resolve(p) ?? p);
      project.setRoots(folders);
      index.setFolders(folders);
      watchDynamically = params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true;
    },
    settings,
    settingsChanged: () => notebooks.relintAll(),
    index,
    dispose: () => {
      notebooks.dispose();
      index.dispose();
    },
  };
}
