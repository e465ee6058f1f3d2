// Choosing and applying fixes: shared by `nabla check --fix` and the language server's
// `source.fixAll.nabla`, so both pick the same edits. Pure: text in, text out.
import type { Finding, Fix, Position, Range, TextEdit } from './types';

export function comparePositions(a: Position, b: Position): number {
  return a.line - b.line || a.character - b.character;
}

/** An edit, optionally in one cell of a notebook; edits in different cells never conflict. */
export type CellTextEdit = TextEdit & { cell?: number };

/** Two edits conflict when their ranges overlap or they start at the same place (two insertions there have no order). */
function conflicts(a: CellTextEdit, b: CellTextEdit): boolean {
  if (a.cell !== b.cell) return false;
  if (comparePositions(a.range.start, b.range.start) === 0) return true;
  return comparePositions(a.range.start, b.range.end) < 0 && comparePositions(b.range.start, a.range.end) < 0;
}

function firstStart(fix: { edits: CellTextEdit[] }): Position {
  return fix.edits.reduce<Position>((min, e) => (comparePositions(e.range.start, min) < 0 ? e.range.start : min), fix.edits[0].range.start);
}

/**
 * The fixes that can be applied together, in document order: a fix whose edits conflict with
 * an earlier chosen one waits for the next pass (Ruff does the same). A fix applies whole or not at all.
 */
export function selectFixes<F extends { edits: CellTextEdit[] }>(fixes: readonly F[]): F[] {
  const ordered = fixes.filter((fix) => fix.edits.length > 0).map((fix, index) => ({ fix, index, start: firstStart(fix) }));
  ordered.sort((a, b) => (a.fix.edits[0].cell ?? 0) - (b.fix.edits[0].cell ?? 0) || comparePositions(a.start, b.start) || a.index - b.index);
  const chosen: F[] = [];
  const taken: CellTextEdit[] = [];
  for (const { fix } of ordered) {
    if (fix.edits.some((edit) => taken.some((other) => conflicts(edit, other)))) continue;
    chosen.push(fix);
    taken.push(...fix.edits);
  }
  return chosen;
}

/** The fixes of findings that may be applied: safe ones, and unsafe ones too when asked. */
export function applicableFixes<F extends Pick<Finding, 'fix'>>(findings: readonly F[], unsafe: boolean): NonNullable<F['fix']>[] {
  const fixes: NonNullable<F['fix']>[] = [];
  for (const finding of findings) {
    const fix = finding.fix as Fix | undefined;
    if (fix && fix.edits.length > 0 && (fix.safety === 'safe' || unsafe)) fixes.push(fix as NonNullable<F['fix']>);
  }
  return fixes;
}

/** Offsets where lines start, with the engine's line breaks (\r\n, \n, lone \r). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

function offsetIn(text: string, starts: number[], position: Position): number {
  if (position.line >= starts.length) return text.length;
  const lineStart = starts[position.line];
  const next = position.line + 1 < starts.length ? starts[position.line + 1] : text.length;
  return Math.min(lineStart + position.character, next);
}

/** The offsets a range covers in `text`. */
export function rangeOffsets(text: string, range: Range): { start: number; end: number } {
  const starts = lineStarts(text);
  return { start: offsetIn(text, starts, range.start), end: offsetIn(text, starts, range.end) };
}

/** Applies non-conflicting edits (as chosen by `selectFixes`) to a text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = lineStarts(text);
  const located = edits.map((edit) => ({ start: offsetIn(text, starts, edit.range.start), end: offsetIn(text, starts, edit.range.end), newText: edit.newText }));
  located.sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const edit of located) out = out.slice(0, edit.start) + edit.newText + out.slice(edit.end);
  return out;
}
