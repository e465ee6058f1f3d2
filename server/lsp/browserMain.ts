// Entry point of dist/browser/server.js: the language server in a web worker, for VS Code in a
// browser (vscode.dev, github.dev), started by client/browserExtension.ts. The same server as
// main.ts's, on the worker's messages, with a host that has no disk (host.ts): the parsers' WASM
// files come from the client's `initializationOptions` (protocol.ts): a URL to fetch, or their bytes.
import { BrowserMessageReader, BrowserMessageWriter, createConnection, ProposedFeatures } from 'vscode-languageserver/browser';
import { initEngine } from '../engine';
import type { ServerHost } from './host';
import type { NablaInitializationOptions } from './protocol';
import { startServer } from './server';

// The worker's global scope (the types at hand are Node's, not the DOM's).
type WorkerScope = ConstructorParameters<typeof BrowserMessageReader>[0];
interface ErrorEvents {
  addEventListener(type: 'unhandledrejection' | 'error', listener: (event: { reason?: unknown; error?: unknown }) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
const errors = globalThis as unknown as ErrorEvents;

const connection = createConnection(ProposedFeatures.all, new BrowserMessageReader(scope), new BrowserMessageWriter(scope));

/** A WASM file as the client's initialization options give it: its bytes, or a URL to fetch them from. */
async function loadWasm(options: NablaInitializationOptions | undefined, file: string): Promise<Uint8Array> {
  const given = options?.wasmFiles?.[file];
  if (given instanceof Uint8Array) return given;
  const url = typeof given === 'string' ? given : typeof options?.wasmBase === 'string' ? `${options.wasmBase.replace(/\/?$/, '/')}${file}` : undefined;
  if (url === undefined) throw new Error(`Nabla: the client did not say where ${file} is (initializationOptions.wasmBase or wasmFiles), so the parsers cannot be loaded in this worker`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Nabla could not load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

const browserHost: ServerHost = {
  async initEngine(initialize) {
    const options = (await initialize).initializationOptions as NablaInitializationOptions | undefined;
    return initEngine((file) => loadWasm(options, file));
  },
};

// A bug must cost one lint, not the server: report stray failures and keep serving.
function report(error: unknown): void {
  try {
    connection.console.error(`Nabla server error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } catch {
    // The connection itself is broken; nothing useful can be done here.
  }
}
errors.addEventListener('unhandledrejection', (event) => report(event.reason));
errors.addEventListener('error', (event) => report(event.error));

startServer(connection, browserHost);
