// The VS Code side of Nabla: starts the bundled language server and lets the user restart it.
// All checking happens in the server (dist/server.js); this file must stay thin.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type Middleware, type ServerOptions } from 'vscode-languageclient/node';
import { watchForCrashes } from './crashNotice';
import { createHoverMiddleware } from './hoverMiddleware';
import { HoverMathRenderer } from './render/hover';
import { SHOW_UPDATE_RULE_COMMAND, UpdateRulePanel } from './updateRulePanel';
import { NOTEBOOK_CELL_SELECTOR, registerWorkspaceFeatures } from './workspace';

const CLIENT_ID = 'nabla';
const CLIENT_NAME = 'Nabla';
const LANGUAGES = ['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'];

let client: LanguageClient | undefined;

function createClient(context: vscode.ExtensionContext, outputChannel: vscode.LogOutputChannel, middleware: Middleware): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    // A 1 MB young generation: linting allocates much short-lived data, and the default semi-spaces
    // leave ~30 MB more resident for no speed that matters here (bench/results/ANALYSIS.md).
    run: { module, transport: TransportKind.ipc, options: { execArgv: ['--max-semi-space-size=1'] } },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    // Files on disk, unsaved files, files of virtual workspaces (linted from memory; no project file there),
    // and the Python cells of Jupyter notebooks (synced as notebooks: the server lints a notebook as one program).
    documentSelector: [
      ...LANGUAGES.flatMap((language) => [
        { scheme: 'file', language },
        { scheme: 'untitled', language },
        { scheme: 'vscode-vfs', language },
      ]),
      ...NOTEBOOK_CELL_SELECTOR,
    ],
    synchronize: { configurationSection: 'nabla' },
    outputChannel,
    middleware,
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // One channel for the extension's lifetime, so a restart does not open a second one.
  const outputChannel = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  context.subscriptions.push(outputChannel);
  const hoverMath = createHoverMiddleware(
    new HoverMathRenderer({ onError: (tex, error) => outputChannel.warn(`Hover math shown as text: ${error instanceof Error ? error.message : String(error)} in ${tex}`) }),
  );
  context.subscriptions.push(hoverMath.disposable);
  client = createClient(context, outputChannel, hoverMath.middleware);
  // Lint Workspace, Show Output, and the status bar item with the server's state (workspace.ts).
  registerWorkspaceFeatures(context, () => client, outputChannel);
  // A crashed server is restarted by the language client; say so (crashNotice.ts).
  const crashes = watchForCrashes(client, outputChannel);
  context.subscriptions.push(crashes);

  context.subscriptions.push(
    vscode.commands.registerCommand('nabla.restartServer', async () => {
      if (!client) return;
      try {
        crashes.expectRestart();
        await client.restart();
      } catch (error) {
        outputChannel.error(`Restarting the Nabla server failed: ${error instanceof Error ? error.message : String(error)}`);
        void vscode.window.showErrorMessage('Nabla: the language server could not be restarted. See the "Nabla" output for details.');
      }
    }),
    vscode.commands.registerCommand(SHOW_UPDATE_RULE_COMMAND, () => UpdateRulePanel.show(context, () => client, LANGUAGES, outputChannel)),
  );

  try {
    await client.start();
  } catch (error) {
    outputChannel.error(`Starting the Nabla server failed: ${error instanceof Error ? error.message : String(error)}`);
    void vscode.window.showErrorMessage('Nabla: the language server failed to start. See the "Nabla" output for details.');
  }
}

export async function deactivate(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) await running.stop();
}
