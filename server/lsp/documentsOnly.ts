// The server without a disk (a browser worker): every open document is linted alone, as the
// language server lints a document that has no file path (an untitled or virtual file) when it
// has one; no project file is read, and the workspace has no import graph.
import { lintDocumentSteps, type DocumentAnalysis, type LintOptions, type LintOutcome, type ParseCache } from '../engine';
import type { Steps } from '../engine/stepwise';
import type { LintIndex, ProjectFileSettings } from './host';
import type { NablaSettings } from './settings';

/** A lint's outcome with the analysis its rules read (for the session's hovers). */
export function* withAnalysis(steps: Steps<{ outcome: LintOutcome; analysis?: DocumentAnalysis }>): Steps<LintOutcome & { analysis?: DocumentAnalysis }> {
  const { outcome, analysis } = yield* steps;
  return { ...outcome, analysis };
}

export class DocumentsOnly implements LintIndex {
  lintSteps(_uri: string, text: string, options: LintOptions, parses?: ParseCache): Steps<LintOutcome & { analysis?: DocumentAnalysis }> {
    return withAnalysis(lintDocumentSteps(text, options, parses));
  }
  reads(): boolean {
    return false;
  }
  linted(): void {}
  documentChanged(): void {}
  documentClosed(): void {}
  filesChanged(): void {}
  setFolders(): void {}
  start(): void {}
  idle(): Promise<void> {
    return Promise.resolve();
  }
  lintOnDisk(): undefined {
    return undefined;
  }
  dispose(): void {}
}

/** No project file: the editor's settings as they are. */
export const noProjectFile: ProjectFileSettings = {
  apply: (_uri: string, editor: NablaSettings) => editor,
  excludes: () => undefined,
  reload: () => undefined,
  setRoots: () => undefined,
};
