// Files and the one position space they share. Each file of a project gets a base offset, and the
// spans of its IR are `base + offset in its text`, so one span names one place in one file: facts,
// memo keys and findings can cross file boundaries without carrying a file beside every span. This
// is how rustc's SourceMap lays out its files (one global BytePos space,
// https://doc.rust-lang.org/nightly/nightly-rustc/rustc_span/source_map/struct.SourceMap.html).
import type { Span } from './ir';
import type { LanguageId } from './types';

/** Room per file: more than the longest string V8 allows, so files never overlap. */
export const FILE_STRIDE = 2 ** 30;

export interface SourceFile {
  /** Position in the source map; the base is `id * FILE_STRIDE`. A lone document is file 0. */
  readonly id: number;
  /** The project-relative path with `/` separators, or '' for a lone document. */
  readonly path: string;
  readonly text: string;
  readonly language: LanguageId;
  readonly base: number;
}

export function makeSourceFile(id: number, path: string, text: string, language: LanguageId): SourceFile {
  return { id, path, text, language, base: id * FILE_STRIDE };
}

/** The id of the file a global offset falls in. */
export function fileIdOf(offset: number): number {
  return Math.floor(offset / FILE_STRIDE);
}

/** The files that spans can point into, by id. */
export class SourceMap {
  private readonly files: SourceFile[] = [];

  add(file: SourceFile): void {
    this.files[file.id] = file;
  }

  file(id: number): SourceFile | undefined {
    return this.files[id];
  }

  fileOf(span: Span): SourceFile | undefined {
    return this.files[fileIdOf(span.start)];
  }

  /** The text a span covers, in whichever file it is. */
  slice(span: Span): string {
    const file = this.fileOf(span);
    return file ? file.text.slice(span.start - file.base, span.end - file.base) : '';
  }

  /** Text around a span in its file, clamped to the file: `before` characters before it, `after` after. */
  around(span: Span, before: number, after: number): { text: string; start: number } {
    const file = this.fileOf(span);
    if (!file) return { text: '', start: span.start };
    const from = Math.max(0, span.start - file.base - before);
    return { text: file.text.slice(from, Math.min(file.text.length, span.end - file.base + after)), start: file.base + from };
  }
}
