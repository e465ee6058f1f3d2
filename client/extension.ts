// The VS Code side of Nabla in VS Code with Node: starts the bundled language server (dist/server.js)
// in its own process. All checking happens in the server; what the extension does with the client
// is activate.ts's, shared with the browser (browserExtension.ts). This file must stay thin.
import type * as vscode from 'vscode';
import { LanguageClient, TransportKind, type ServerOptions } from 'vscode-languageclient/node';
import { activateWith, CLIENT_ID, CLIENT_NAME } from './activate';

export { deactivate } from './activate';

export function activate(context: vscode.ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    // A 1 MB young generation: linting allocates much short-lived data, and the default semi-spaces
    // leave ~30 MB more resident for no speed that matters here (bench/results/ANALYSIS.md).
    run: { module, transport: TransportKind.ipc, options: { execArgv: ['--max-semi-space-size=1'] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  return activateWith(context, {
    createClient: (clientOptions) => new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions),
    disk: true,
  });
}
