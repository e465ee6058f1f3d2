// How messages name a line of the linted text. A plain file's line is `line 12`; a text made of
// cells (a notebook's code cells, concatenated by notebook.ts) names the cell and the line in it,
// `line 3 of cell 5`, so a message reads the way the user sees the notebook. Facts.lineLabel and
// the syntax-error notice are the only places that put a line into a message; both come here.
import type { CellLines } from './types';

/** The piece (a cell) that holds a 0-based line of the text, by binary search over pieces in order. */
export function pieceAtLine<T extends { startLine: number; lineCount: number }>(pieces: readonly T[], line: number): T | undefined {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const piece = pieces[mid];
    if (line < piece.startLine) hi = mid - 1;
    else if (line >= piece.startLine + piece.lineCount) lo = mid + 1;
    else return piece;
  }
  return undefined;
}

/** Where a 0-based line of the text is for a message: the cell and its 1-based line in it, or undefined without cells. */
export function cellLine(cells: readonly CellLines[] | undefined, line: number): { cell: CellLines; line: number } | undefined {
  const cell = cells && pieceAtLine(cells, line);
  return cell && { cell, line: line - cell.startLine + 1 };
}

/** A 0-based line of the text as a message names it: `line 12`, or `line 3 of cell 5`. */
export function lineLabel(cells: readonly CellLines[] | undefined, line: number): string {
  const at = cellLine(cells, line);
  return at ? `line ${at.line} of cell ${at.cell.label}` : `line ${line + 1}`;
}

/**
 * The notice for a text with syntax errors, the first at a 0-based position: in the cell it is in, for
 * a notebook, with what is wrong there when it is known (`reason`, which may name a line).
 */
export function syntaxErrorMessage(
  cells: readonly CellLines[] | undefined,
  first: { line: number; character: number },
  errors: number,
  reason?: { text: string; line?: number },
): string {
  const more = errors > 1 ? ` and ${errors - 1} more` : '';
  let at = cellLine(cells, first.line);
  let character = first.character;
  const named = reason?.line === undefined ? undefined : cellLine(cells, reason.line);
  // Each cell is compiled alone: a header at a cell's end that the next cell's code follows (an empty
  // block) is an error at the end of the header's cell, not in the next one.
  if (at && named && named.cell !== at.cell) {
    at = { cell: named.cell, line: named.cell.lineCount };
    character = 0;
  }
  let why = '';
  if (reason) {
    const line = reason.line === undefined ? '' : named && named.cell === at?.cell ? ` on line ${named.line}` : ` on ${lineLabel(cells, reason.line)}`;
    why = ` (${reason.text}${line})`;
  }
  if (at) return `syntax error in cell ${at.cell.label} at ${at.line}:${character + 1}${why}${more}; the rest of the notebook was still checked`;
  return `syntax error at ${first.line + 1}:${first.character + 1}${why}${more}; the rest of the file was still checked`;
}
