// Plain data that leaves the engine. No LSP, SARIF or VS Code types here: the front ends
// (server/lsp/convert.ts, server/cli/format/*) convert these in one place each.
import type { Gradient, Penalty } from '../math/terms';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A position in a text: 0-based line, 0-based column in UTF-16 code units (as LSP counts). */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface RelatedInfo {
  message: string;
  range: Range;
  /** The file the place is in, when it is not the finding's own file (a project's path). */
  path?: string;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

/** `safe`: the math is certain and meaning is kept; `unsafe`: the user must judge the change. */
export type FixSafety = 'safe' | 'unsafe';

export interface Fix {
  title: string;
  safety: FixSafety;
  edits: TextEdit[];
}

/** The math behind a finding, for hovers and docs: what the line computes and what it should. */
export interface FindingMath {
  /** Unicode of what the code computes, e.g. `W ← W − lr·(dW + reg·ΣW²)`. */
  computed?: string;
  /** Unicode of the correct form, e.g. `W ← W − lr·(dW + 2·reg·W)`. */
  expected?: string;
  /** Where the wrong term is written (NB101: the penalty summand); `gradient` belongs there instead. */
  site?: Range;
  /**
   * The update or gradient statement the finding belongs to. It differs from the finding's own
   * range when the term reaches the update through a variable (`step = dW + R(W)`, `W -= lr * step`).
   */
  update?: Range;
  /** The penalty R(W) found, in canonical form (`param` as written in the source). */
  penalty?: Penalty;
  /** What belongs at `site`: ∇R(W). */
  gradient?: Gradient;
  /** The penalty the loss defines on the parameter; the hover's equivalent forms follow it, not the faulty line. */
  lossPenalty?: Penalty;
  /** Unicode of a second repair as right as `expected` (NB103: keep the gradient, and write the loss's penalty to match it). */
  alternative?: string;
  /** A term that never reaches the gradient or the step (NB206, NB3xx): the hover typesets what runs against what was meant. */
  missingTerm?: MissingTerm;
  /** A mistake no update line shows (a penalty's shape, an optimizer's state): the rule's own math, typeset by the hover. */
  forms?: FindingForms;
}

/** What the code computes and what it should, in symbols, with the code each symbol stands for. */
export interface FindingForms {
  /** The hover's heading, e.g. "Penalty on `W`". */
  title: string;
  computed: { tex: string; unicode: string };
  correct: { tex: string; unicode: string };
  /** What the correct form is: "Correct penalty", "Correct update". */
  correctLabel: string;
  legend: { tex: string; unicode: string; code: string }[];
}

/** What a finding about a term that never takes effect knows, as code; the hover turns it into symbols. */
export interface MissingTerm {
  /**
   * `left-out`: the differentiated loss does not contain the term; `no-gradient`: it does, but the
   * term is a constant to the gradient; `late-binding`: every closure of a loop reads the last
   * weights; `never-applied`: an optimizer's decay knob that no step reads, or a decay of the weight
   * thrown away; `never-added`: a decay meant for the gradient (coupled, L2) that the step never sees.
   */
  how: 'left-out' | 'no-gradient' | 'late-binding' | 'never-applied' | 'never-added';
  /** Code of the term: the penalty, `sum(model.losses)`, the weights read, the decay knob. */
  term: string;
  /** Code of the loss that is differentiated, when known. */
  loss?: string;
  /** Code of the parameters: those differentiated, or the optimizer whose step leaves out the decay. */
  params?: string;
  /** `never-added`: the gradient the decay was meant for (`dp`, `g`). */
  gradient?: string;
  /**
   * The term is the weights `term` times a decay strength the code does not write there (the decay
   * λ·θ of a weight as a whole): the hover names the weights θ and leaves λ the strength.
   */
  timesStrength?: true;
}

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  range: Range;
  related: RelatedInfo[];
  fix?: Fix;
  math?: FindingMath;
}

/** Something the user should know about a file that is not a finding (skipped, partly parsed, a rule crashed). */
export interface Notice {
  kind: 'skipped' | 'parse-error' | 'internal-error';
  message: string;
}

export interface LintOutcome {
  findings: Finding[];
  notices: Notice[];
}

export type LanguageId = 'python' | 'typescript' | 'tsx' | 'javascript';

export interface LintOptions {
  language: LanguageId;
  /** Only these codes (prefixes allowed: `NB1` selects NB101..NB199). Empty or undefined: all. */
  select?: string[];
  /** Never these codes (prefixes allowed). Applied after `select`. */
  ignore?: string[];
  /** Per-code severity overrides. */
  severity?: Record<string, Severity>;
  /**
   * The fast path (server/engine/prefilter.ts): a text that cannot hold training math is not
   * analysed; it is only parsed for the syntax-error notice a parsed file gets (no lowering, no
   * facts, no rules). The CLI sets it; the editor's diagnostics do not.
   */
  prefilter?: boolean;
  /**
   * The text is made of cells (a notebook's code cells, server/engine/notebook.ts), in order:
   * messages then name a line as the cell and its line (`on line 3 of cell 5`), and a syntax error
   * by its cell. Read only for a lone document (`lintText`, `lintDocumentSteps`).
   */
  cells?: readonly CellLines[];
}

/** A cell of a text made of cells: where it is, and how messages name it. */
export interface CellLines {
  /** Its first line (0-based) in the text. */
  startLine: number;
  /** The lines it occupies there. */
  lineCount: number;
  /** What follows `cell` in a message: `5` in `cell 5`. */
  label: string | number;
}
