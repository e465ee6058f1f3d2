// `nabla/lintWorkspace`: lints every file in the workspace folders and publishes the findings, so
// the Problems panel shows the whole project. Files are found by the CLI's walker (same skipped
// folders, .gitignore and the project file's `exclude`) and read by the CLI's lintFile, so the
// command and `nabla check` agree. Source files are linted in their project with the runs of the
// files that import them, as open documents are (workspaceIndex.ts), when the server gives a
// `session`. Documents open in the editor keep their live diagnostics.
// Notebooks on disk have no cell URIs yet: their findings go on the .ipynb file, naming the cell.
import { pathToFileURL } from 'node:url';
import type { CancellationToken, PublishDiagnosticsParams, WorkDoneProgressReporter } from 'vscode-languageserver';
import type { Finding, LintOptions } from '../engine';
import { forgetDisk, lintFile } from '../cli/lintFile';
import { walk } from '../cli/walk';
import { toClosedNotebookDiagnostics, toDiagnostics } from './convert';
import type { NablaSettings } from './settings';
import type { LintWorkspaceParams, LintWorkspaceResult } from './protocol';

export interface WorkspaceLintHost {
  /** Effective settings for a file (editor settings with the project file; `enable` false when excluded). */
  settings(uri: string): Promise<NablaSettings>;
  excludes(fsPath: string, isDir: boolean): boolean | undefined;
  isOpen(uri: string): boolean;
  publish(params: PublishDiagnosticsParams): void;
  maxFileSize: number;
  /** Resolves when the workspace's import graph is complete. */
  ready?(): Promise<void>;
  /** A linter for one run: a source file's findings in its project, or undefined for the CLI's `lintFile` to lint it. */
  session?(): { lint(fsPath: string, options: Omit<LintOptions, 'language'>): Finding[] | undefined };
}

export class WorkspaceLinter {
  /** URIs that got diagnostics from the last run, to clear them on the next. */
  private published = new Set<string>();
  private running?: Promise<LintWorkspaceResult>;

  constructor(private readonly host: WorkspaceLintHost) {}

  /** A document was opened: results this linter published for it give way to live ones. */
  forget(uri: string): boolean {
    return this.published.delete(uri);
  }

  run(folders: string[], token: CancellationToken, progress: WorkDoneProgressReporter): Promise<LintWorkspaceResult> {
    // One run at a time: a second request waits for the first, then runs.
    const previous = this.running ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => this.lint(folders, token, progress));
    this.running = next;
    return next;
  }

  private async lint(folders: string[], token: CancellationToken, progress: WorkDoneProgressReporter): Promise<LintWorkspaceResult> {
    const result: LintWorkspaceResult = { files: 0, filesWithFindings: 0, findings: 0, open: 0, cancelled: false };
    progress.begin('Nabla: linting the workspace', 0, 'finding files…', true);
    try {
      await this.host.ready?.();
      const session = this.host.session?.();
      const files: string[] = [];
      for (const item of walk(folders, { isExcluded: (absPath, isDir) => this.host.excludes(absPath, isDir) })) {
        if (item.kind === 'file') files.push(item.fsPath);
        if (token.isCancellationRequested) break;
      }
      const seen = new Set<string>();
      forgetDisk(); // files may have changed on disk since the last run
      for (const [i, fsPath] of files.entries()) {
        if (token.isCancellationRequested) {
          result.cancelled = true;
          break;
        }
        const uri = pathToFileURL(fsPath).href;
        seen.add(uri);
        progress.report(Math.round((i / Math.max(files.length, 1)) * 100), `${i + 1}/${files.length}`);
        if (this.host.isOpen(uri)) {
          result.open++;
          continue;
        }
        const settings = await this.host.settings(uri);
        if (!settings.enable) continue;
        const options = { select: settings.select, ignore: settings.ignore, severity: settings.severity };
        const inProject = session?.lint(fsPath, options);
        const file = inProject ? { findings: inProject } : await lintFile(fsPath, { ...options, maxFileSize: this.host.maxFileSize });
        result.files++;
        const diagnostics = /\.ipynb$/i.test(fsPath) ? toClosedNotebookDiagnostics(file.findings, uri) : toDiagnostics(file.findings as Finding[], uri);
        if (diagnostics.length > 0) {
          result.filesWithFindings++;
          result.findings += diagnostics.length;
          this.published.add(uri);
          this.host.publish({ uri, diagnostics });
        } else if (this.published.delete(uri)) {
          this.host.publish({ uri, diagnostics: [] });
        }
        // Let other messages (edits, hovers, cancellation) through between files.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!result.cancelled) {
        // Files that had findings in the last run and are gone (deleted, now excluded) are cleared.
        for (const uri of [...this.published]) {
          if (seen.has(uri) || this.host.isOpen(uri)) continue;
          this.published.delete(uri);
          this.host.publish({ uri, diagnostics: [] });
        }
      }
      return result;
    } finally {
      progress.done();
    }
  }
}
