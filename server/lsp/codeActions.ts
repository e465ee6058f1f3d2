// Code actions for Nabla's diagnostics:
// - the rule's own fix, read back from `Diagnostic.data` (convert.ts); a safe fix is the
//   preferred action (Ctrl+. / "Auto Fix"), an unsafe one says "(unsafe)" in its title;
// - "Ignore NBxxx on this line" and "Ignore NBxxx in this file": a suppression comment, whose
//   edits were made with the diagnostic and are read back from `Diagnostic.data` too (the engine's
//   suppressions.ts decides where a comment can go); nothing is parsed here;
// - "Show documentation for NBxxx": runs `nabla.showDocumentation`, which the server executes
//   by asking the client to open the rule's page (window/showDocument);
// - `source.fixAll.nabla`: every safe fix in the document from a fresh lint, so it works from
//   `editor.codeActionsOnSave` without diagnostics in the request.
import {
  CodeActionKind,
  type CodeAction,
  type CodeActionParams,
  type Diagnostic,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import { applicableFixes, docsUrl, selectFixes } from '../engine';
import { DIAGNOSTIC_SOURCE, fromDiagnosticData } from './convert';

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.nabla`;
export const SHOW_DOCUMENTATION_COMMAND = 'nabla.showDocumentation';
export const CODE_ACTION_KINDS = [CodeActionKind.QuickFix, FIX_ALL_KIND];

/** A finding in a document's own coordinates, as far as fix-all needs it. */
export interface FixableFinding {
  fix?: { title: string; safety: 'safe' | 'unsafe'; edits: TextEdit[] };
}

export interface CodeActionHost {
  /** Fresh findings for the document with the document's settings; undefined when Nabla is disabled for it. */
  findings(uri: string): Promise<FixableFinding[] | undefined>;
}

/** Whether the client asked for this kind: no `only`, or an `only` entry that is the kind or a parent of it. */
function wanted(kind: string, only: readonly string[] | undefined): boolean {
  return !only || only.some((o) => kind === o || kind.startsWith(`${o}.`));
}

function editOf(uri: string, edits: TextEdit[]): WorkspaceEdit {
  return { changes: { [uri]: edits } };
}

function isNablaDiagnostic(diagnostic: Diagnostic): diagnostic is Diagnostic & { code: string } {
  return diagnostic.source === DIAGNOSTIC_SOURCE && typeof diagnostic.code === 'string';
}

function quickFixes(uri: string, diagnostics: readonly Diagnostic[]): CodeAction[] {
  const fixes: CodeAction[] = [];
  const ignores: CodeAction[] = [];
  const docs: CodeAction[] = [];
  const titles = new Set<string>();
  const once = (list: CodeAction[], action: CodeAction): void => {
    if (titles.has(action.title)) return;
    titles.add(action.title);
    list.push(action);
  };
  for (const diagnostic of diagnostics) {
    if (!isNablaDiagnostic(diagnostic)) continue;
    const code = diagnostic.code;
    const { fix, ignore } = fromDiagnosticData(diagnostic.data);
    if (fix && fix.edits.length > 0) {
      const safe = fix.safety === 'safe';
      fixes.push({
        title: safe ? fix.title : `${fix.title} (unsafe)`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: safe,
        edit: editOf(uri, fix.edits),
      });
    }
    // NB001 has none: suppressing it would only hide a comment behind another comment (its fix removes it).
    if (ignore?.line) once(ignores, { title: `Ignore ${code} on this line`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], edit: editOf(uri, [ignore.line]) });
    if (ignore?.file) once(ignores, { title: `Ignore ${code} in this file`, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], edit: editOf(uri, [ignore.file]) });
    const href = diagnostic.codeDescription?.href ?? docsUrl(code);
    const title = `Show documentation for ${code}`;
    once(docs, { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title, command: SHOW_DOCUMENTATION_COMMAND, arguments: [href] } });
  }
  return [...fixes, ...ignores, ...docs];
}

/** The safe fixes that apply together (the same choice as `nabla check --fix`), as one list of edits. */
export function safeFixEdits(findings: readonly FixableFinding[]): TextEdit[] {
  return selectFixes(applicableFixes(findings, false)).flatMap((fix) => fix.edits);
}

async function fixAll(uri: string, host: CodeActionHost): Promise<CodeAction | undefined> {
  const findings = await host.findings(uri);
  if (!findings) return undefined;
  const edits = safeFixEdits(findings);
  if (edits.length === 0) return undefined;
  return { title: 'Nabla: Fix all safe problems', kind: FIX_ALL_KIND, edit: editOf(uri, edits) };
}

export async function codeActions(params: CodeActionParams, host: CodeActionHost): Promise<CodeAction[]> {
  const uri = params.textDocument.uri;
  const only = params.context.only;
  const actions: CodeAction[] = [];
  if (wanted(CodeActionKind.QuickFix, only)) actions.push(...quickFixes(uri, params.context.diagnostics));
  // Fix-all only when asked for by kind (the Source Action menu, codeActionsOnSave): the lightbulb keeps to the diagnostic at hand.
  if (only && wanted(FIX_ALL_KIND, only)) {
    const all = await fixAll(uri, host);
    if (all) actions.push(all);
  }
  return actions;
}
