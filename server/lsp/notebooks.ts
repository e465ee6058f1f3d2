// Jupyter notebooks over LSP 3.17 notebook sync. The Python cells of a notebook are linted as
// one program (server/engine/notebook.ts concatenates them), so a penalty defined in one cell and
// misused in another is found; the diagnostics are then split and published per cell URI.
//
// The notebook reuses the DiagnosticScheduler (debounce, stale-run tickets, settings): to it, a
// notebook is one Python document whose text is the concatenation, and `publish` splits the result.
import { NotebookCellKind, NotebookDocuments, type CancellationToken, type Connection, type Position, type Diagnostic, type MessageType, type PublishDiagnosticsParams, type TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { cellLines, concatenateCells, lintDocumentSteps, lintText, toNotebookFinding, withSuppressionEditor, type DocumentAnalysis, type LintOptions, type LintOutcome, type ParseCache } from '../engine';
import type { Steps } from '../engine/stepwise';
import { explainIn, type Explanation } from '../engine/explain';
import { cellLabel, toCellDiagnostic, toCellExplanation, withIgnoreEdits, type CellLayout } from './convert';
import { DiagnosticScheduler } from './diagnostics';
import type { NablaSettings } from './settings';
import { withAnalysis } from './documentsOnly';

/** What the server advertises: Jupyter notebooks, Python cells. */
export const NOTEBOOK_SELECTOR = [{ notebook: { notebookType: 'jupyter-notebook' }, cells: [{ language: 'python' }] }];

export interface NotebookHost {
  settings(uri: string): Promise<NablaSettings>;
  engineReady: Promise<void>;
  publish(params: PublishDiagnosticsParams): void;
  log(type: MessageType, message: string): void;
  /** A notebook was opened (to drop results a workspace lint published for its file). */
  opened?(uri: string): void;
  /** The lint of a notebook's text with its cells (`LintOptions.cells`): in its project when there is a disk; alone by default. */
  lint?(uri: string, text: string, options: LintOptions, parses?: ParseCache): Steps<LintOutcome & { analysis?: DocumentAnalysis }>;
  /** Whether a notebook's last lint read the file at `changedUri` (a project module its cells import). */
  reads?(uri: string, changedUri: string): boolean;
}

type Layout = CellLayout;

export class NotebookLinting {
  readonly notebooks = new NotebookDocuments(TextDocument);
  private readonly scheduler: DiagnosticScheduler;
  /** The layout the last lint of each notebook used, to split its diagnostics. */
  private readonly layouts = new Map<string, Layout>();
  /** Cells that got diagnostics, per notebook, so they can be cleared when they go away. */
  private readonly published = new Map<string, Set<string>>();
  private readonly open = new Set<string>();

  constructor(
    private readonly host: NotebookHost,
    debounceMs: number,
  ) {
    this.scheduler = new DiagnosticScheduler(
      {
        document: (uri) => this.document(uri),
        settings: (uri) => host.settings(uri),
        engineReady: host.engineReady,
        lint: (text, options, uri, parses) => {
          const withCells = this.withCells(uri, text, options);
          return host.lint ? host.lint(uri, text, withCells, parses) : withAnalysis(lintDocumentSteps(text, withCells, parses));
        },
        publish: (params) => this.split(params),
        log: host.log,
      },
      debounceMs,
    );
    this.notebooks.onDidOpen((notebook) => {
      this.open.add(notebook.uri);
      host.opened?.(notebook.uri);
      this.scheduler.documentChanged(notebook.uri);
    });
    this.notebooks.onDidChange((event) => this.scheduler.documentChanged(event.notebookDocument.uri));
    this.notebooks.onDidClose((notebook) => {
      this.open.delete(notebook.uri);
      this.scheduler.documentClosed(notebook.uri);
      this.layouts.delete(notebook.uri);
    });
  }

  listen(connection: Connection): void {
    this.notebooks.listen(connection);
  }

  relintAll(): void {
    this.scheduler.relintAll(this.uris());
  }

  /**
   * Files changed (an edit in the editor, or on disk): lint again, debounced, the open notebooks
   * whose last lint read one of them. Call before the change is reported to the workspace index.
   */
  filesChanged(uris: readonly string[]): void {
    const reads = this.host.reads;
    if (!reads || uris.length === 0) return;
    const affected = this.uris().filter((notebook) => uris.some((uri) => reads(notebook, uri)));
    if (affected.length > 0) this.scheduler.dependencyChanged(affected);
  }

  dispose(): void {
    this.scheduler.dispose();
  }

  /** The text document of a cell, if the URI is one of a synced notebook. */
  cell(uri: string): TextDocument | undefined {
    return this.notebooks.cellTextDocuments.get(uri);
  }

  /** The notebook a cell belongs to. */
  notebookOf(cellUri: string): string | undefined {
    return this.notebooks.findNotebookDocumentForCell(cellUri)?.uri;
  }

  /**
   * The findings of one cell, in its coordinates, from its whole notebook's lint (for fix-all): only
   * findings in that cell, only fixes whose edits all stay in it.
   */
  findingsForCell(cellUri: string, options: Omit<LintOptions, 'language'>): { range: TextEdit['range']; fix?: { safety: 'safe' | 'unsafe'; title: string; edits: TextEdit[] } }[] {
    const notebookUri = this.notebookOf(cellUri);
    const document = notebookUri && this.document(notebookUri);
    const layout = notebookUri ? this.layouts.get(notebookUri) : undefined;
    if (!document || !layout) return [];
    const index = layout.cellUris.indexOf(cellUri);
    // The findings published for this version (its session's lint); a fresh lint only when none were.
    const findings = this.scheduler.findings(notebookUri, document.version) ?? lintText(document.getText(), this.withCells(notebookUri, document.getText(), { ...options, language: 'python' })).findings;
    const out: ReturnType<NotebookLinting['findingsForCell']> = [];
    for (const finding of findings) {
      const mapped = toNotebookFinding(layout, finding);
      if (!mapped || mapped.cell !== index) continue;
      const fix = mapped.fix && mapped.fix.edits.every((e) => e.cell === index) ? { ...mapped.fix, edits: mapped.fix.edits.map(({ range, newText }) => ({ range, newText })) } : undefined;
      out.push({ range: mapped.range, fix });
    }
    return out;
  }

  /**
   * The explanation (hover) at a position of a cell, from the session of its notebook's lint, as
   * for a text document: waits for the lint of the notebook's current version, never lints on its
   * own. Undefined when the URI is not a cell of a synced notebook.
   */
  explainCell(cellUri: string, position: Position, token?: CancellationToken, onError?: (error: unknown) => void): Promise<Explanation | undefined> | undefined {
    const notebookUri = this.notebookOf(cellUri);
    const notebook = notebookUri ? this.notebooks.getNotebookDocument(notebookUri) : undefined;
    if (!notebookUri || !notebook) return undefined;
    return (async () => {
      try {
        await this.host.engineReady;
      } catch {
        return undefined;
      }
      if (!(await this.host.settings(notebookUri)).enable || token?.isCancellationRequested) return undefined;
      const linted = await this.scheduler.linted(notebookUri, notebook.version, token);
      const layout = this.layouts.get(notebookUri);
      if (!linted?.analysis || !layout || layout.text !== linted.text || token?.isCancellationRequested) return undefined;
      const index = layout.cellUris.indexOf(cellUri);
      const cell = layout.cells[index];
      if (!cell || position.line >= cell.lineCount) return undefined;
      const offset = TextDocument.create(notebookUri, 'python', linted.version, linted.text).offsetAt({ line: cell.startLine + position.line, character: position.character });
      const findings = linted.findings;
      const ex = explainIn(linted.analysis, offset, () => findings, onError);
      return ex && toCellExplanation(layout, index, ex);
    })();
  }

  /**
   * The options of a notebook's lint with its cells (`LintOptions.cells`), so its messages and
   * notices name a cell and its line, the cell numbered as the notebook shows it.
   */
  private withCells(uri: string, text: string, options: LintOptions): LintOptions {
    const layout = this.layouts.get(uri);
    return layout && layout.text === text ? { ...options, cells: cellLines(layout, cellLabel(layout)) } : options;
  }

  /** URIs of the open notebooks. */
  uris(): string[] {
    return [...this.open];
  }

  /** The notebook as one Python document (the concatenation of its Python cells); remembers the layout. */
  private document(uri: string): TextDocument | undefined {
    const notebook = this.notebooks.getNotebookDocument(uri);
    if (!notebook) return undefined;
    const cells: { uri: string; text: string; number: number }[] = [];
    notebook.cells.forEach((cell, position) => {
      if (cell.kind !== NotebookCellKind.Code) return;
      const document = this.notebooks.getCellTextDocument(cell);
      if (!document || document.languageId !== 'python') return;
      cells.push({ uri: cell.document, text: document.getText(), number: position + 1 });
    });
    const layout = concatenateCells(cells.map((cell, index) => ({ index, text: cell.text })));
    this.layouts.set(uri, { ...layout, cellUris: cells.map((cell) => cell.uri), cellNumbers: cells.map((cell) => cell.number) });
    return TextDocument.create(uri, 'python', notebook.version, layout.text);
  }

  /** Publishes a notebook's diagnostics per cell; cells that had diagnostics and have none now are cleared. */
  private split(params: PublishDiagnosticsParams): void {
    const before = this.published.get(params.uri) ?? new Set<string>();
    const layout = this.layouts.get(params.uri);
    const byCell = new Map<string, Diagnostic[]>();
    if (layout && this.notebooks.getNotebookDocument(params.uri)) {
      for (const uri of layout.cellUris) byCell.set(uri, []);
      for (const diagnostic of params.diagnostics) {
        const mapped = toCellDiagnostic(layout, diagnostic);
        if (mapped) byCell.get(mapped.uri)?.push(mapped.diagnostic);
      }
      // The "Ignore …" edits are the cell's own: made once here, from one parse of each cell with diagnostics.
      for (const [uri, diagnostics] of byCell) {
        const text = diagnostics.length > 0 ? this.notebooks.cellTextDocuments.get(uri)?.getText() : undefined;
        if (text === undefined) continue;
        try {
          byCell.set(uri, withSuppressionEditor(text, 'python', undefined, (editor) => withIgnoreEdits(diagnostics, editor)));
        } catch {
          // no "Ignore …" actions for a cell the parser gives up on
        }
      }
    }
    const now = new Set<string>();
    for (const [uri, diagnostics] of byCell) {
      if (diagnostics.length > 0) now.add(uri);
      if (diagnostics.length > 0 || before.has(uri)) this.host.publish({ uri, diagnostics });
    }
    for (const uri of before) if (!byCell.has(uri)) this.host.publish({ uri, diagnostics: [] });
    if (now.size > 0) this.published.set(params.uri, now);
    else this.published.delete(params.uri);
  }
}
