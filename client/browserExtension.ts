// The VS Code side of Nabla in a browser (vscode.dev, github.dev): package.json's `browser` entry,
// bundled to dist/browser/extension.js. Starts the same language server in a web worker
// (dist/browser/server.js, server/lsp/browserMain.ts) and tells it where the parsers' WASM files
// are: a worker is started from a blob URL on its own origin, so it cannot find them by itself.
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/browser';
import type { NablaInitializationOptions } from '../server/lsp/protocol';
import { activateWith, CLIENT_ID, CLIENT_NAME } from './activate';

export { deactivate } from './activate';

// The DOM's Worker, Blob and URL.createObjectURL, which a web extension host has (the types at hand are Node's).
interface ServerWorker {
  terminate(): void;
}
declare const Worker: new (url: string) => ServerWorker;
declare const Blob: new (parts: Uint8Array[], options: { type: string }) => object;
const createObjectURL = (URL as unknown as { createObjectURL(blob: object): string }).createObjectURL;

/**
 * A URL a web worker can load a file of the extension from. On vscode.dev and github.dev the
 * extension is served over https. An extension served by a VS Code server to a browser (code-server,
 * Codespaces) has `vscode-remote:` URIs, from which no worker can be created and nothing fetched:
 * the file is read through VS Code and given as a blob URL instead.
 */
async function browserUrl(uri: vscode.Uri, type: string): Promise<string> {
  if (uri.scheme === 'https' || uri.scheme === 'http') return uri.toString(true);
  return createObjectURL(new Blob([await vscode.workspace.fs.readFile(uri)], { type }));
}

/** Where the worker finds the parsers' WASM files (every `.wasm` file in dist/wasm/). */
async function wasmLocation(extensionUri: vscode.Uri): Promise<NablaInitializationOptions> {
  const folder = vscode.Uri.joinPath(extensionUri, 'dist/wasm');
  if (folder.scheme === 'https' || folder.scheme === 'http') return { wasmBase: folder.toString(true) };
  const wasmFiles: Record<string, string> = {};
  for (const [name, type] of await vscode.workspace.fs.readDirectory(folder)) {
    if (type === vscode.FileType.File && name.endsWith('.wasm')) wasmFiles[name] = await browserUrl(vscode.Uri.joinPath(folder, name), 'application/wasm');
  }
  return { wasmFiles };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverMain = await browserUrl(vscode.Uri.joinPath(context.extensionUri, 'dist/browser/server.js'), 'text/javascript');
  const initializationOptions = await wasmLocation(context.extensionUri);
  // A new worker for each start ("Restart Server", a restart after a crash); the last one is ended first.
  let worker: ServerWorker | undefined;
  const startWorker = async (): Promise<ServerWorker> => {
    worker?.terminate();
    worker = new Worker(serverMain);
    return worker;
  };
  context.subscriptions.push({ dispose: () => worker?.terminate() });
  return activateWith(
    context,
    {
      createClient: (clientOptions) => new LanguageClient(CLIENT_ID, CLIENT_NAME, startWorker as unknown as ConstructorParameters<typeof LanguageClient>[2], clientOptions),
      disk: false,
    },
    initializationOptions,
  );
}
