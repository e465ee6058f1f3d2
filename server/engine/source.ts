// Files and the one position space they share. Each file of a project gets a base offset, and the
// spans of its IR are `base + offset in its text`, so one span names one place in one file: facts,
// memo keys and findings can cross file boundaries without carrying a file beside every span. This
// is how rustc's SourceMap lays out its files (one global BytePos space,
// https://doc.rust-lang.org/nightly/nightly-rustc/rustc_span/source_map/struct.SourceMap.html).
import type { Span } from './ir';
import type { LanguageId } from './types';

// Two regions. Files of up to 2 MB with an id below 1,024 (nearly every file of a run) lie below
// 2³¹, so their offsets stay small integers that V8 keeps unboxed (Smis); a span past that range is
// a heap number, which made every offset of a project's third and later files cost an allocation
// and a box check. Any other file gets a slot above 2³¹ as long as the longest string V8 allows, so
// no two files ever overlap, whatever their size or count.
const SMALL_STRIDE = 2 ** 21;
const SMALL_FILES = 2 ** 10;
const LARGE_START = SMALL_STRIDE * SMALL_FILES;
const LARGE_STRIDE = 2 ** 30;

export interface SourceFile {
  /** Position in the source map (`baseOf` says where its offsets start). A lone document is file 0. */
  readonly id: number;
  /** The project-relative path with `/` separators, or '' for a lone document. */
  readonly path: string;
  readonly text: string;
  readonly language: LanguageId;
  readonly base: number;
}

export function makeSourceFile(id: number, path: string, text: string, language: LanguageId): SourceFile {
  return { id, path, text, language, base: baseOf(id, text.length) };
}

/** Where the offsets of file `id` with a text of `length` characters start. */
export function baseOf(id: number, length: number): number {
  return id < SMALL_FILES && length < SMALL_STRIDE ? id * SMALL_STRIDE : LARGE_START + id * LARGE_STRIDE;
}

/** The id of the file a global offset falls in. */
export function fileIdOf(offset: number): number {
  return offset < LARGE_START ? Math.floor(offset / SMALL_STRIDE) : Math.floor((offset - LARGE_START) / LARGE_STRIDE);
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

/**
 * Detects text that is not source code, which is skipped rather than parsed: a NUL byte among control
 * characters that make at least one character in 64 of its first 8 KB, and at least four (an
 * executable's or an image's headers, UTF-16 read as UTF-8, random bytes). A stray NUL or two in an
 * otherwise text file (a mangled `²` in a doc comment) does not lose the file, as tsc and ESLint read it.
 */
export function looksBinary(text: string): boolean {
  const sample = text.slice(0, BINARY_SAMPLE);
  if (!sample.includes('\u0000')) return false;
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    // Control characters other than the whitespace and escape text uses (\t \n \v \f \r, ESC).
    if (c < 32 && !(c >= 9 && c <= 13) && c !== 27) control++;
  }
  return control >= Math.max(4, sample.length / 64);
}
const BINARY_SAMPLE = 8192;
