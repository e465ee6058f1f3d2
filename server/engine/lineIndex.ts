import type { Position, Range } from './types';
import type { Span } from './ir';

/**
 * Converts UTF-16 offsets to 0-based line/character positions (LSP's default encoding). Offsets are
 * global (server/engine/source.ts): the text's own offsets plus `base`.
 */
export class LineIndex {
  private readonly starts: number[] = [0];
  private readonly length: number;

  constructor(
    text: string,
    private readonly base = 0,
  ) {
    this.length = text.length;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13 && text.charCodeAt(i + 1) !== 10) this.starts.push(i + 1);
    }
  }

  position(offset: number): Position {
    offset -= this.base;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - this.starts[lo] };
  }

  /** The offset of a position; columns past a line's end stop at the end of the text. */
  offset(position: Position): number {
    if (position.line < 0) return this.base;
    if (position.line >= this.starts.length) return this.base + this.length;
    return this.base + Math.min(this.starts[position.line] + Math.max(0, position.character), this.length);
  }

  /**
   * The offset where a 0-based line starts (in the text's own offsets, without `base`), or undefined
   * past the last line. A text ending in a line break has an empty last line after it.
   */
  lineStart(line: number): number | undefined {
    return line >= 0 && line < this.starts.length ? this.starts[line] : undefined;
  }

  range(span: Span): Range {
    return { start: this.position(span.start), end: this.position(span.end) };
  }
}
