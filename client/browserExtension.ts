// The VS Code side of Nabla in a browser (vscode.dev, github.dev): package.json's `browser` entry,
// bundled to dist/browser/extension.js. Starts the same language server in a web worker
// (dist/browser/server.js, server/lsp/browserMain.ts) and tells it where the parsers' WASM files
// are: a worker is started from a blob URL on its own origin, so it cannot find them by itself.
import * as vscode from 'vscode';
import { BrowserMessageReader, BrowserMessageWriter, LanguageClient, type MessageTransports } from 'vscode-languageclient/browser';
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
 * A URL a web worker can be started from, for a script of the extension. On vscode.dev and
 * github.dev the extension is served over https. An extension served by a VS Code server to a
 * browser (code-server, Codespaces) has `vscode-remote:` URIs, from which no worker can be created
 * and nothing fetched: the script is read through VS Code and given as a blob URL instead.
 */
async function browserUrl(uri: vscode.Uri, type: string): Promise<string> {
  if (uri.scheme === 'https' || uri.scheme === 'http') return uri.toString(true);
  return createObjectURL(new Blob([await vscode.workspace.fs.readFile(uri)], { type }));
}

/**
 * Where the worker finds the parsers' WASM files (every `.wasm` file in dist/wasm/): the folder's
 * URL over https; otherwise the files' bytes, read through VS Code. The worker cannot fetch a blob
 * or `data:` URL made here: the web worker extension host's content security policy allows
 * connections to its own origin and https only, which a `vscode-remote:` file has no URL on.
 * A worker's messages are cloned, not serialized, so the bytes reach it as they are.
 */
async function wasmLocation(extensionUri: vscode.Uri): Promise<NablaInitializationOptions> {
  const folder = vscode.Uri.joinPath(extensionUri, 'dist/wasm');
  if (folder.scheme === 'https' || folder.scheme === 'http') return { wasmBase: folder.toString(true) };
  const wasmFiles: Record<string, Uint8Array> = {};
  for (const [name, type] of await vscode.workspace.fs.readDirectory(folder)) {
    if (type === vscode.FileType.File && name.endsWith('.wasm')) wasmFiles[name] = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder, name));
  }
  return { wasmFiles };
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverMain = await browserUrl(vscode.Uri.joinPath(context.extensionUri, 'dist/browser/server.js'), 'text/javascript');
  const initializationOptions = await wasmLocation(context.extensionUri);
  // A new worker for each start ("Restart Server", a restart after a crash); the last one is ended
  // first (a server in a worker does not end itself on `exit`). The transports are made here: the
  // client would take a Worker returned instead for transports, as the extension host's Worker
  // constructor is not the one its instances come from.
  let worker: ServerWorker | undefined;
  const startWorker = async (): Promise<MessageTransports> => {
    worker?.terminate();
    worker = new Worker(serverMain);
    const port = worker as unknown as ConstructorParameters<typeof BrowserMessageReader>[0];
    return { reader: new BrowserMessageReader(port), writer: new BrowserMessageWriter(port) };
  };
  context.subscriptions.push({ dispose: () => worker?.terminate() });
  return activateWith(
    context,
    {
      createClient: (clientOptions) => new LanguageClient(CLIENT_ID, CLIENT_NAME, startWorker, clientOptions),
      disk: false,
    },
    initializationOptions,
  );
}
