// "Nabla: Show Update Rule": a webview beside the editor that shows, with real KaTeX, the math at
// the cursor (an update and its findings, a penalty, an optimizer, math in a comment). It follows the cursor (debounced) by asking the server
// `nabla/explain`. The HTML is built in the extension host (client/render/panelHtml.ts) and set
// whole; the webview runs no scripts and loads only dist/katex.
import * as vscode from 'vscode';
import type { BaseLanguageClient as LanguageClient } from 'vscode-languageclient';
import { ErrorCodes, ResponseError } from 'vscode-languageclient';
import { EXPLAIN_METHOD, explanationToPanel, type ExplainParams } from './explain';
import { InlineStyles, panelBody, panelHtml, type PanelContent } from './render/panelHtml';
import { DOCUMENT_SCHEMES } from './workspace';

export const SHOW_UPDATE_RULE_COMMAND = 'nabla.showUpdateRule';
const VIEW_TYPE = 'nabla.updateRule';
const DEBOUNCE_MS = 250;
const NOTHING_HERE = 'Put the cursor on an update, a penalty, an optimizer or math in a comment to see its math here.';

export class UpdateRulePanel implements vscode.Disposable {
  private static current: UpdateRulePanel | undefined;

  /** Shows the panel (creating it if needed) for the active editor's cursor. */
  static show(context: vscode.ExtensionContext, client: () => LanguageClient | undefined, languages: readonly string[], log: vscode.LogOutputChannel): void {
    if (UpdateRulePanel.current) {
      UpdateRulePanel.current.panel.reveal(undefined, true);
    } else {
      UpdateRulePanel.current = new UpdateRulePanel(context, client, languages, log);
    }
    void UpdateRulePanel.current.refresh(vscode.window.activeTextEditor);
  }

  private readonly panel: vscode.WebviewPanel;
  private readonly katexRoot: vscode.Uri;
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private lastBody: string | undefined;
  private disposed = false;

  private constructor(
    context: vscode.ExtensionContext,
    private readonly client: () => LanguageClient | undefined,
    private readonly languages: readonly string[],
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.katexRoot = vscode.Uri.joinPath(context.extensionUri, 'dist', 'katex');
    this.panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      'Nabla: Update Rule',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false, enableCommandUris: false, localResourceRoots: [this.katexRoot] },
    );
    this.panel.onDidDispose(() => this.dispose(), undefined, this.subscriptions);
    this.subscriptions.push(
      vscode.window.onDidChangeTextEditorSelection((event) => this.schedule(event.textEditor)),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.schedule(editor)),
    );
    this.show(undefined, 'Loading…');
  }

  private schedule(editor: vscode.TextEditor): void {
    if (!this.accepts(editor)) return; // e.g. the output panel: keep showing the last file's math
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh(editor);
    }, DEBOUNCE_MS);
  }

  private accepts(editor: vscode.TextEditor | undefined): editor is vscode.TextEditor {
    return !!editor && this.languages.includes(editor.document.languageId) && DOCUMENT_SCHEMES.includes(editor.document.uri.scheme);
  }

  private async refresh(editor: vscode.TextEditor | undefined): Promise<void> {
    if (!this.accepts(editor)) return this.show(undefined, NOTHING_HERE);
    const client = this.client();
    if (!client || !client.isRunning()) return this.show(undefined, 'The Nabla language server is not running.');
    this.pending?.cancel();
    const pending = (this.pending = new vscode.CancellationTokenSource());
    const position = editor.selection.active;
    try {
      const params: ExplainParams = {
        uri: client.code2ProtocolConverter.asUri(editor.document.uri),
        position: { line: position.line, character: position.character },
      };
      const result = await client.sendRequest<unknown>(EXPLAIN_METHOD, params, pending.token);
      if (pending.token.isCancellationRequested) return;
      this.show(explanationToPanel(result), NOTHING_HERE);
    } catch (error) {
      if (pending.token.isCancellationRequested) return;
      if (error instanceof ResponseError && error.code === ErrorCodes.MethodNotFound) {
        this.show(undefined, 'This version of the Nabla server cannot explain update rules.');
      } else if (!(error instanceof ResponseError && error.code === ErrorCodes.PendingResponseRejected)) {
        this.log.warn(`nabla/explain failed: ${error instanceof Error ? error.message : String(error)}`);
        this.show(undefined, 'The Nabla server could not explain this line. See the "Nabla" output for details.');
      }
    } finally {
      if (this.pending === pending) this.pending = undefined;
      pending.dispose();
    }
  }

  private show(content: PanelContent | undefined, emptyMessage: string): void {
    if (this.disposed) return;
    const styles = new InlineStyles();
    const body = panelBody(content, styles, emptyMessage);
    if (body === this.lastBody) return; // same math: do not reload the webview
    this.lastBody = body;
    const webview = this.panel.webview;
    this.panel.webview.html = panelHtml({
      cspSource: webview.cspSource,
      katexCssUri: webview.asWebviewUri(vscode.Uri.joinPath(this.katexRoot, 'katex.min.css')).toString(),
      nonce: crypto.randomUUID().replace(/-/g, ''),
      body,
      styles,
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (UpdateRulePanel.current === this) UpdateRulePanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.pending?.cancel();
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.panel.dispose();
  }
}
