// What the server is given by the runtime it runs in. The language server is one program
// (server.ts and the modules it wires); its two front ends differ only in the host they pass:
// main.ts (Node: stdio, IPC or a socket) gives nodeHost.ts, with the files on disk; browserMain.ts
// (a web worker in vscode.dev, github.dev) gives no disk. Nothing reachable from server.ts
// imports a Node module: what needs one is reached through this interface, and the web build
// (scripts/build.mjs) fails if anything else does.
import type { InitializeParams } from 'vscode-languageserver';
import type { ProjectSettings, ProjectSettingsHost } from './projectSettings';
import type { WorkspaceIndex, WorkspaceIndexHost } from './workspaceIndex';
import type { WorkspaceLinter, WorkspaceLintHost } from './workspaceLint';

export interface ServerHost {
  /**
   * Loads the engine's parsers. `initialize`: the client's initialize params, when they come (a
   * browser worker learns from them where the WASM files are; Node reads them from disk at once).
   */
  initEngine(initialize: Promise<InitializeParams>): Promise<void>;
  /**
   * Files on the machine the server runs on: the project file, the workspace's import graph, Lint
   * Workspace. Absent in a browser: every document is linted alone, with the editor's settings.
   */
  disk?: Disk;
  /** One full garbage collection, run when the server is idle; absent where the runtime has none to ask for. */
  collectGarbage?(): void;
}

/** The parts of the server that read files on disk, and the paths of `file:` URIs. */
export interface Disk {
  /** The local path of a `file:` URI, or undefined for other schemes (untitled, virtual files). */
  pathOf(uri: string): string | undefined;
  /** The `file:` URI of a local path. */
  uriOf(fsPath: string): string;
  /** A local path made absolute and normal. */
  resolve(fsPath: string): string;
  /** Whether a local path is a folder or inside it. */
  inside(fsPath: string, folder: string): boolean;
  /** Glob patterns of the project files (nabla.toml, pyproject.toml), to watch. */
  configWatchPatterns: readonly string[];
  /** Whether a changed file (by URI) may hold the project configuration. */
  isConfigUri(uri: string): boolean;
  projectSettings(host: ProjectSettingsHost): ProjectSettings;
  workspaceIndex(host: WorkspaceIndexHost): WorkspaceIndex;
  workspaceLinter(host: WorkspaceLintHost): WorkspaceLinter;
}

/** What the server uses of the workspace index (`WorkspaceIndex` with a disk, `DocumentsOnly` without). */
export type LintIndex = Pick<
  WorkspaceIndex,
  'lintSteps' | 'reads' | 'linted' | 'documentChanged' | 'documentClosed' | 'filesChanged' | 'setFolders' | 'start' | 'idle' | 'lintOnDisk' | 'dispose'
>;

/** What the server uses of the project file's settings. */
export type ProjectFileSettings = Pick<ProjectSettings, 'apply' | 'excludes' | 'reload' | 'setRoots'>;
