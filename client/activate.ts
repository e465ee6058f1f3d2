// What the extension does once it has a language client, the same in VS Code and in a browser:
// hover math, Lint Workspace, the status item, crash notices, "Restart Server" and "Show Update
// Rule". The two front ends differ only in how they start the server: extension.ts (a Node
// process) and browserExtension.ts (a web worker).
import * as vscode from 'vscode';
import type { BaseLanguageClient, LanguageClientOptions, Middleware } from 'vscode-languageclient';
import { watchForCrashes } from './crashNotice';
import { createHoverMiddleware } from './hoverMiddleware';
import { HoverMathRenderer } from './render/hover';
import { SHOW_UPDATE_RULE_COMMAND, UpdateRulePanel } from './updateRulePanel';
import { DOCUMENT_SCHEMES, NOTEBOOK_CELL_SELECTOR, registerWorkspaceFeatures } from './workspace';

export const CLIENT_ID = 'nabla';
export const CLIENT_NAME = 'Nabla';
const LANGUAGES = ['python', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'];

export interface FrontEnd {
  /** A client for the server, not started. */
  createClient(clientOptions: LanguageClientOptions): BaseLanguageClient;
  /** Whether the server reads files on disk (Lint Workspace, the project file); false in a browser. */
  disk: boolean;
}

let client: BaseLanguageClient | undefined;

function clientOptions(outputChannel: vscode.LogOutputChannel, middleware: Middleware, initializationOptions?: unknown): LanguageClientOptions {
  return {
    // Text documents of these schemes (workspace.ts), and the Python cells of Jupyter notebooks
    // (synced as notebooks: the server lints a notebook as one program).
    documentSelector: [
      ...LANGUAGES.flatMap((language) => DOCUMENT_SCHEMES.map((scheme) => ({ scheme, language }))),
      ...NOTEBOOK_CELL_SELECTOR,
    ],
    synchronize: { configurationSection: 'nabla' },
    outputChannel,
    middleware,
    initializationOptions,
  };
}

export async function activateWith(context: vscode.ExtensionContext, frontEnd: FrontEnd, initializationOptions?: unknown): Promise<void> {
  // One channel for the extension's lifetime, so a restart does not open a second one.
  const outputChannel = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  context.subscriptions.push(outputChannel);
  const hoverMath = createHoverMiddleware(
    new HoverMathRenderer({ onError: (tex, error) => outputChannel.warn(`Hover math shown as text: ${error instanceof Error ? error.message : String(error)} in ${tex}`) }),
  );
  context.subscriptions.push(hoverMath.disposable);
  client = frontEnd.createClient(clientOptions(outputChannel, hoverMath.middleware, initializationOptions));
  // Lint Workspace, Show Output, and the status bar item with the server's state (workspace.ts).
  registerWorkspaceFeatures(context, () => client, outputChannel, { disk: frontEnd.disk });
  // A crashed server is restarted by the language client; say so (crashNotice.ts).
  const crashes = watchForCrashes(client, outputChannel);
  context.subscriptions.push(crashes);

  context.subscriptions.push(
    vscode.commands.registerCommand('nabla.restartServer', async () => {
      if (!client) return;
      try {
        crashes.expectRestart();
        await client.stop();
        await client.start();
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
