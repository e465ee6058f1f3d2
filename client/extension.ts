// The VS Code side of Nabla: starts the bundled language server and lets the user restart it.
// All checking happens in the server (dist/server.js); this file must stay thin.
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type Middleware, type ServerOptions } from 'vscode-languageclient/node';
import { createHoverMiddleware } from './hoverMiddleware';
import { HoverMathRenderer } from './render/hover';
import { SHOW_UPDATE_RULE_COMMAND, UpdateRulePanel } from './updateRulePanel';

const CLIENT_ID = 'nabla';
const CLIENT_NAME = 'Nabla';
const LANGUAGES = ['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'];

let client: LanguageClient | undefined;

function createClient(context: vscode.ExtensionContext, outputChannel: vscode.LogOutputChannel, middleware: Middleware): LanguageClient {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
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

  context.subscriptions.push(
    vscode.commands.registerCommand('nabla.restartServer', async () => {
      if (!client) return;
      try {
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
