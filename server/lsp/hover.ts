// Hovers and the `nabla/explain` request. A hover is answered from the document's session
// (session.ts): the analysis and findings of the lint of the version hovered. A hover that comes
// before that lint has published (typing, then pointing) is answered from the last published
// analysis when the edit since cannot change the answer (engine/editImpact.ts), and otherwise waits
// for it, bounded, and starts it if it was only debounced; it never lints or analyses on its own.
// The explanation becomes a Hover in convert.ts, its markdown in hoverMarkdown.ts.
import type { CancellationToken, Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { languageForDocument } from '../engine';
import { explainAt, explainIn, type Explanation } from '../engine/explain';
import { toHover, toLintOptions } from './convert';
import { EXPLAIN_METHOD, type ExplainParams, type ExplainResult } from './protocol';
import type { LintedVersion } from './session';
import type { NablaSettings } from './settings';

export { escapeMarkdown, explanationToMarkdown, inlineCode, MAX_HOVER_FORMULAS, MAX_HOVER_MARKDOWN, MAX_HOVER_TEX } from './hoverMarkdown';
export { toHover } from './convert';

export interface HoverDeps {
  documents: Pick<TextDocuments<TextDocument>, 'get'>;
  engineReady: Promise<void>;
  /** The effective settings for a document (editor settings merged with the project file). */
  settings(uri: string): Promise<NablaSettings>;
  /**
   * What the lint of this version of the document published (the scheduler's session), waiting
   * for it if it is running or due; undefined when none will come in time.
   */
  linted(uri: string, version: number, token?: CancellationToken): Promise<LintedVersion | undefined>;
  /**
   * The answer at an offset of this version from the last published analysis of an earlier one,
   * when the edit since cannot change it (the scheduler's `explainEarly`); undefined: wait for `linted`.
   */
  early?(uri: string, version: number, text: string, offset: number, onError?: (error: unknown) => void): { explanation: Explanation | undefined } | undefined;
  /** A notebook cell's explanation (notebooks.ts), or undefined when the URI is not a cell. */
  cell?(uri: string, position: { line: number; character: number }, token?: CancellationToken, onError?: (error: unknown) => void): Promise<Explanation | undefined> | undefined;
  /** Where internal errors of an explanation are reported. */
  logError?(message: string): void;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The explanation at a position of an open document, or undefined. */
export async function explainPosition(deps: HoverDeps, uri: string, position: { line: number; character: number }, token?: CancellationToken): Promise<Explanation | undefined> {
  const document = deps.documents.get(uri);
  const onError = (error: unknown): void => deps.logError?.(`Nabla could not explain ${uri}:${position.line + 1}:${position.character + 1}: ${describe(error)}`);
  if (!document) return deps.cell?.(uri, position, token, onError);
  const language = languageForDocument(document.languageId, document.uri);
  if (!language) return undefined;
  try {
    await deps.engineReady;
  } catch {
    return undefined; // the scheduler reports a failed engine
  }
  const settings = await deps.settings(uri);
  if (!settings.enable) return undefined;
  // The client may have given up on the hover (the mouse moved on) while settings were fetched.
  if (token?.isCancellationRequested) return undefined;
  const version = document.version;
  // The first hover after an edit: answered from the last analysis when the edit cannot change it.
  const early = deps.early?.(uri, version, document.getText(), document.offsetAt(position), onError);
  if (early) return early.explanation;
  const linted = await deps.linted(uri, version, token);
  if (!linted || token?.isCancellationRequested) return undefined;
  // The document may have changed while the lint ran: the position is in the version hovered.
  const current = deps.documents.get(uri);
  if (!current || current.version !== version) return undefined;
  const offset = current.offsetAt(position);
  const findings = (): typeof linted.findings => linted.findings;
  if (linted.analysis) return explainIn(linted.analysis, offset, findings, onError);
  // A session gone cold (many documents linted since) keeps its findings, not its analysis: analyse the text alone (no lint).
  return explainAt(linted.text, toLintOptions(settings, linted.language), offset, onError, findings);
}

/** Registers `textDocument/hover` and `nabla/explain`. Declare `hoverProvider: true` in the capabilities. */
export function attachHover(connection: Connection, deps: HoverDeps): void {
  connection.onHover(async (params, token) => {
    const ex = await explainPosition(deps, params.textDocument.uri, params.position, token);
    return ex ? toHover(ex) : null;
  });
  connection.onRequest(EXPLAIN_METHOD, async (params: ExplainParams, token): Promise<ExplainResult> => {
    if (!params || typeof params.uri !== 'string' || !params.position) return null;
    return (await explainPosition(deps, params.uri, params.position, token)) ?? null;
  });
}
