// Client side of "Nabla: Lint Workspace", the server status item and "Nabla: Show Output". Thin:
// the server does the linting (nabla/lintWorkspace, server/lsp/workspaceLint.ts); this file shows
// progress, the result, and the server's state.
import * as vscode from 'vscode';
import { State, WorkDoneProgress, type BaseLanguageClient as LanguageClient } from 'vscode-languageclient';
import { LINT_WORKSPACE_NEEDS_DISK, LINT_WORKSPACE_REQUEST, type LintWorkspaceResult } from '../server/lsp/protocol';

export const LINT_WORKSPACE_COMMAND = 'nabla.lintWorkspace';
export const SHOW_OUTPUT_COMMAND = 'nabla.showOutput';

/**
 * URI schemes of the text documents the server lints: files on disk, unsaved files, files of
 * virtual workspaces (vscode.dev, github.dev: linted from memory; no project file there), and files
 * of a remote workspace as a browser sees them (code-server, Codespaces: linted from memory too).
 */
export const DOCUMENT_SCHEMES = ['file', 'untitled', 'vscode-vfs', 'vscode-remote'];

/** Notebook cells the server lints: Python cells of Jupyter notebooks (synced as notebooks, not as text). */
export const NOTEBOOK_CELL_SELECTOR = [{ notebook: { notebookType: 'jupyter-notebook' }, language: 'python' }];

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

async function lintWorkspace(client: LanguageClient | undefined, outputChannel: vscode.LogOutputChannel, disk: boolean): Promise<void> {
  if (!disk) {
    // In a browser the server cannot read the workspace's files: say so rather than lint nothing.
    void vscode.window.showWarningMessage(`Nabla: ${LINT_WORKSPACE_NEEDS_DISK}`);
    return;
  }
  const folders = vscode.workspace.workspaceFolders?.filter((folder) => folder.uri.scheme === 'file') ?? [];
  if (!client || !client.isRunning()) {
    void vscode.window.showWarningMessage('Nabla: the language server is not running.');
    return;
  }
  if (folders.length === 0) {
    void vscode.window.showInformationMessage('Nabla: open a folder on disk to lint a workspace.');
    return;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Nabla: linting the workspace', cancellable: true },
    async (progress, cancel) => {
      const token = crypto.randomUUID();
      let reported = 0;
      const listener = client.onProgress(WorkDoneProgress.type, token, (value) => {
        if (value.kind === 'end') return;
        const percentage = value.percentage ?? reported;
        progress.report({ message: value.message, increment: Math.max(0, percentage - reported) });
        reported = Math.max(reported, percentage);
      });
      try {
        return await client.sendRequest<LintWorkspaceResult>(LINT_WORKSPACE_REQUEST, { folders: folders.map((folder) => folder.uri.toString()), workDoneToken: token }, cancel);
      } finally {
        listener.dispose();
      }
    },
  );
  const summary = `${plural(result.findings, 'problem')} in ${plural(result.filesWithFindings, 'file')} (${plural(result.files, 'file')} linted${result.open > 0 ? `, ${result.open} open in the editor` : ''})`;
  outputChannel.info(`Lint Workspace: ${summary}${result.cancelled ? '; cancelled' : ''}`);
  const message = result.cancelled ? `Nabla: cancelled; so far ${summary}.` : `Nabla: ${summary}.`;
  if (result.findings === 0) {
    void vscode.window.showInformationMessage(message);
    return;
  }
  const show = 'Show Problems';
  if ((await vscode.window.showInformationMessage(message, show)) === show) await vscode.commands.executeCommand('workbench.actions.view.problems');
}

/** A status bar item with the server's state (starting / ready / stopped or failed); clicking it opens the output. */
function createStatusItem(client: LanguageClient): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('nabla.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Nabla';
  item.command = SHOW_OUTPUT_COMMAND;
  const show = (state: State): void => {
    switch (state) {
      case State.Starting:
        item.text = '$(sync~spin) Nabla';
        item.tooltip = 'Nabla: the language server is starting';
        item.backgroundColor = undefined;
        break;
      case State.Running:
        item.text = '$(check) Nabla';
        item.tooltip = 'Nabla: ready. Click for the output.';
        item.backgroundColor = undefined;
        break;
      case State.Stopped:
        item.text = '$(error) Nabla';
        item.tooltip = 'Nabla: the language server is not running. Click for the output; "Nabla: Restart Server" starts it again.';
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        break;
    }
  };
  show(client.state);
  item.show();
  const listener = client.onDidChangeState((event) => show(event.newState));
  return vscode.Disposable.from(item, listener);
}

/**
 * Registers the commands and the status item; `getClient` returns the current client (it survives
 * restarts). `disk`: whether the server reads files on disk (false in a browser).
 */
export function registerWorkspaceFeatures(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined, outputChannel: vscode.LogOutputChannel, options: { disk: boolean }): void {
  const client = getClient();
  context.subscriptions.push(
    vscode.commands.registerCommand(LINT_WORKSPACE_COMMAND, () => lintWorkspace(getClient(), outputChannel, options.disk)),
    vscode.commands.registerCommand(SHOW_OUTPUT_COMMAND, () => outputChannel.show()),
  );
  if (client) context.subscriptions.push(createStatusItem(client));
}
