// What every output format implements. main.ts feeds files in walk order, then calls finish.
import * as path from 'node:path';
import type { Range, RelatedInfo } from '../../engine';
import type { FileResult } from '../lintFile';

export interface Reporter {
  /** One linted (or skipped) file; `display` is the path to print. */
  file(display: string, result: FileResult): void;
  /** After the last file. `hadErrors`: some path could not be read (exit code 2). */
  finish(summary: RunSummary): void;
}

export interface RunSummary {
  filesChecked: number;
  hadErrors: boolean;
  /** With --fix: the fixes applied, over all files. */
  fixed?: number;
}

/** Writes a chunk of output; text streams it, json and sarif write once at the end. */
export type Write = (chunk: string) => void;

/** 1-based line and column of where a range starts and (exclusive) ends, as editors show them. */
export interface OneBasedRange {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export function oneBased(range: Range): OneBasedRange {
  return {
    line: range.start.line + 1,
    column: range.start.character + 1,
    endLine: range.end.line + 1,
    endColumn: range.end.character + 1,
  };
}

/** The path to print for a related place: its own file's (relative to the working folder `cwd`), or the finding's. */
export function relatedDisplay(display: string, related: Pick<RelatedInfo, 'path'>, cwd: string = process.cwd()): string {
  if (related.path === undefined) return display;
  const relative = path.relative(cwd, related.path);
  return (relative === '' ? related.path : relative).split(path.sep).join('/');
}
