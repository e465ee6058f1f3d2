// What Node gives the language server (host.ts): the parsers' WASM files read from disk, the files
// of the workspace (the project file, the import graph, Lint Workspace), and a garbage collection
// on demand. Only main.ts, the Node front end, imports this module.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { initEngine } from '../engine';
import type { ServerHost } from './host';
import { CONFIG_WATCH_PATTERNS, fsPathOf, isConfigUri, ProjectSettings } from './projectSettings';
import { WorkspaceIndex } from './workspaceIndex';
import { WorkspaceLinter } from './workspaceLint';

let collect: (() => void) | undefined;

function fullCollection(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

export const nodeHost: ServerHost = {
  // The parsers load while the client is still initializing; every lint awaits them.
  initEngine: () => initEngine(),
  disk: {
    pathOf: fsPathOf,
    uriOf: (fsPath) => pathToFileURL(fsPath).href,
    resolve: (fsPath) => path.resolve(fsPath),
    inside: (fsPath, folder) => fsPath === folder || fsPath.startsWith(folder + path.sep),
    configWatchPatterns: CONFIG_WATCH_PATTERNS,
    isConfigUri,
    projectSettings: (host) => new ProjectSettings(host),
    workspaceIndex: (host) => new WorkspaceIndex(host),
    workspaceLinter: (host) => new WorkspaceLinter(host),
  },
  collectGarbage: fullCollection,
};
