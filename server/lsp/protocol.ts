// Nabla's own LSP messages, shared by the server and the client. Types and constants only, with no
// vscode or server imports at run time, so client code and tests can import this file.
import type { ProgressToken } from 'vscode-languageserver-protocol';
import type { Explanation } from '../engine/explain';

export type {
  ComputedSection,
  CommentFormula,
  CommentSection,
  EquivalentForms,
  Explanation,
  FindingSection,
  Formula,
  LegendEntry,
  OptimizerSection,
  PenaltySection,
} from '../engine/explain';

/**
 * `nabla/explain` (client → server request): the math at a position, for the update-rule panel.
 * Params: ExplainParams. Result: the Explanation, or null when there is nothing to explain there
 * (or Nabla is disabled for the document).
 */
export const EXPLAIN_METHOD = 'nabla/explain';

export interface ExplainParams {
  /** The document's URI, as LSP spells it. */
  uri: string;
  /** 0-based line and UTF-16 character, as LSP counts. */
  position: { line: number; character: number };
}

export type ExplainResult = Explanation | null;

/**
 * The fence language of TeX in hover markdown: ```latex blocks. The client swaps each for an image;
 * other editors show the TeX as a code block, next to the Unicode line that always follows it.
 */
export const HOVER_MATH_FENCE = 'latex';

/**
 * `nabla/lintWorkspace` (client → server request): lint every file of the folders on disk and
 * publish their diagnostics, reporting progress on `workDoneToken`. Result: LintWorkspaceResult.
 */
export const LINT_WORKSPACE_REQUEST = 'nabla/lintWorkspace';

export interface LintWorkspaceParams {
  /** Folders to lint, as URIs; default: the workspace folders the client announced. */
  folders?: string[];
  workDoneToken?: ProgressToken;
}

export interface LintWorkspaceResult {
  /** Files linted. */
  files: number;
  filesWithFindings: number;
  findings: number;
  /** Files left out because they are open in the editor (their diagnostics are live). */
  open: number;
  cancelled: boolean;
}


/**
 * The error message of `nabla/lintWorkspace` from a server that cannot read files (in a browser,
 * vscode.dev and github.dev): it lints the open documents only.
 */
export const LINT_WORKSPACE_NEEDS_DISK =
  'Lint Workspace needs the files on disk: in the browser (vscode.dev, github.dev) Nabla checks the files open in the editor only. Open the folder in VS Code on your machine, or run `npx nabla check`.';

/** `initializationOptions` of the `initialize` request, read by the web worker's server (browserMain.ts). */
export interface NablaInitializationOptions {
  /** The URL of the folder holding the parsers' WASM files (the extension's dist/wasm/), for a server that cannot read them from disk. */
  wasmBase?: string;
  /**
   * Each WASM file by name, as its bytes or a URL, where the folder has no URL a worker can fetch
   * from; wins over `wasmBase`. Bytes go only to a worker (its messages are cloned, not JSON).
   */
  wasmFiles?: Record<string, string | Uint8Array>;
}
