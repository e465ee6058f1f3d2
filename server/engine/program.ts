// A program: the files of one lint run, linked. It holds every parsed file reached so far, the
// source map their spans share, one Analyzer for all of them, and each file's facts, built when
// first asked for. Files are reached lazily through imports (`ProjectFiles.load`), so linting one
// file parses only what it imports. A program is a snapshot: a new text means a new program (the
// parsed files of unchanged texts are reused from the document cache, server/engine/document.ts).
import type { Expr, Span } from './ir';
import type { ParsedFile } from './document';
import { buildFacts, type Facts } from './facts';
import { Analyzer } from './facts/analysis';
import type { FunctionDef, Scope } from './facts/scope';
import { SourceMap, fileIdOf, type SourceFile } from './source';
import { lineLabel } from './cellLines';
import type { CellLines } from './types';

/** Where a program finds the other files of its project (implemented by server/engine/project.ts). */
export interface ProjectFiles {
  /** The parsed file that `module` (as imported from `from`) resolves to, or undefined (a library, a missing file). */
  resolve(from: SourceFile, module: string): ParsedFile | undefined;
  /** The submodule `name` of a package module (`from pkg import mod`), when it is a file. */
  submodule(pkg: ParsedFile, name: string): ParsedFile | undefined;
  /** The project files of `from`'s language family whose text matches `pattern` (none when the project cannot list its folders). */
  filesMentioning?(from: SourceFile, pattern: RegExp): ParsedFile[];
  /** The JavaScript files a browser page loads together with `from`, which share its global scope (none when the project cannot list its folders). */
  pageMates?(from: SourceFile): ParsedFile[];
}

export class Program {
  readonly sources = new SourceMap();
  readonly analyzer: Analyzer;
  private readonly files: ParsedFile[] = [];
  private readonly factsById = new Map<number, Facts>();
  /** Files whose facts are being built (an import cycle asks for them again: they answer with what they have). */
  private readonly building = new Set<number>();
  /** Files made of cells (a notebook), by id: how their lines are named in messages. */
  private readonly cellsById = new Map<number, readonly CellLines[]>();

  constructor(
    private readonly project?: ProjectFiles,
    hints?: ReadonlyMap<string, FunctionDef>,
  ) {
    this.analyzer = new Analyzer(this, hints);
  }

  private readonly hintedPrograms = new Map<string, Program>();

  /**
   * A program of the same files whose analyzer reads a method called on an instance of unknown class,
   * which neither its file nor that file's imports define, as the one `hints` names (an entry's
   * run-time-chosen class: chosenClassMethods.ts). Kept per set of hints; this program's facts are untouched.
   */
  hinted(hints: ReadonlyMap<string, FunctionDef>): Program {
    const key = [...hints].map(([name, fn]) => `${name}@${fn.span.start}`).sort().join(',');
    let known = this.hintedPrograms.get(key);
    if (!known) {
      known = new Program(this.project, hints);
      for (const parsed of this.parsedFiles()) known.add(parsed);
      for (const [id, cells] of this.cellsById) {
        const parsed = this.files[id];
        if (parsed) known.setCells(parsed.file, cells);
      }
      this.hintedPrograms.set(key, known);
    }
    return known;
  }

  /** How many files the program holds. */
  fileCount = 0;

  /** Adds a parsed file to the program (its id must be unique in the program). */
  add(parsed: ParsedFile): ParsedFile {
    const known = this.files[parsed.file.id];
    if (known) return known;
    this.files[parsed.file.id] = parsed;
    this.fileCount++;
    this.sources.add(parsed.file);
    return parsed;
  }

  /** The parsed files reached so far. */
  parsedFiles(): ParsedFile[] {
    return this.files.filter((f) => f !== undefined);
  }

  /** The parsed file of an id, if this program holds it. */
  parsedById(id: number): ParsedFile | undefined {
    return this.files[id];
  }

  parsedOf(span: Span): ParsedFile | undefined {
    return this.files[fileIdOf(span.start)];
  }

  /** The facts of a file, built on first use. */
  facts(parsed: ParsedFile): Facts {
    const id = parsed.file.id;
    const known = this.factsById.get(id);
    if (known) return known;
    this.add(parsed);
    this.building.add(id);
    try {
      const facts = this.analyzer.apart(() => buildFacts(this, parsed));
      this.factsById.set(id, facts);
      return facts;
    } finally {
      this.building.delete(id);
    }
  }

  /** Facts of the file a span is in; undefined while that file's facts are still being built. */
  factsAt(span: Span): Facts | undefined {
    const parsed = this.parsedOf(span);
    if (!parsed) return undefined;
    const known = this.factsById.get(parsed.file.id);
    if (known || this.building.has(parsed.file.id)) return known;
    return this.facts(parsed);
  }

  /** Whether the facts of a span's file are being built right now (its parameter set is still growing). */
  inProgress(span: Span): boolean {
    return this.building.has(fileIdOf(span.start));
  }

  /** Says that a file is made of cells (a notebook's, `LintOptions.cells`): its lines are named by cell in messages. */
  setCells(file: SourceFile, cells: readonly CellLines[]): void {
    this.cellsById.set(file.id, cells);
  }

  /** The cells a file is made of, when it is a notebook's text. */
  cellsOf(file: SourceFile): readonly CellLines[] | undefined {
    return this.cellsById.get(file.id);
  }

  /** The line a span starts on, as a message names it: `line 12` of its file, or `line 3 of cell 5` in a notebook. */
  lineLabel(span: Span): string {
    const parsed = this.parsedOf(span);
    const line = parsed?.lines.position(span.start).line ?? 0;
    return lineLabel(parsed && this.cellsById.get(parsed.file.id), line);
  }

  /** The text a span covers, in whichever file it is. */
  source(span: Span): string {
    return this.sources.slice(span);
  }

  /** The scope a lambda or comprehension opens, in whichever file it is. */
  lambdaScope(e: Expr): Scope | undefined {
    return this.parsedOf(e.span)?.scopes.lambdaScopes.get(e);
  }

  /** The module an import names, from the file `from`; undefined outside a project or for libraries. */
  resolveModule(from: SourceFile, module: string): ParsedFile | undefined {
    const parsed = this.project?.resolve(from, module);
    return parsed && this.add(parsed);
  }

  /**
   * The files a file imports, directly or not (itself first), breadth first and at most `limit`:
   * for facts that hold program-wide, such as TF1's graph collections.
   */
  reachable(parsed: ParsedFile, limit = 200): ParsedFile[] {
    // Several facts families ask for the same entry, with different limits: the imports of a snapshot
    // do not change, and the walk is breadth-first, so a shorter answer is the start of a longer one.
    const known = this.reached.get(parsed.file.id);
    if (known && (known.limit >= limit || known.files.length < known.limit)) return known.files.slice(0, limit);
    const files = this.reach(parsed, limit);
    this.reached.set(parsed.file.id, { limit, files });
    return files.slice();
  }

  private readonly reached = new Map<number, { limit: number; files: ParsedFile[] }>();

  private reach(parsed: ParsedFile, limit: number): ParsedFile[] {
    const out = [parsed];
    const seen = new Set([parsed.file.id]);
    for (let i = 0; i < out.length && out.length < limit; i++) {
      const from = out[i];
      const starred = from.scopes.starImports.map((module) => ({ module, name: undefined }));
      for (const imported of [...from.scopes.imports.values(), ...starred]) {
        const target = this.resolveModule(from.file, imported.module);
        const sub = target && imported.name !== undefined ? this.submodule(target, imported.name) : undefined;
        for (const next of [target, sub]) {
          if (!next || seen.has(next.file.id) || out.length >= limit) continue;
          seen.add(next.file.id);
          out.push(next);
        }
      }
    }
    return out;
  }

  private readonly mentioning = new Map<string, ParsedFile[]>();

  /**
   * The project files (of `from`'s language family) whose text matches `pattern`, once per program:
   * the other direction of imports, for facts that need the files using a module's class (its
   * subclasses, facts/subclasses.ts), which nothing `from` imports reaches.
   */
  filesMentioning(from: SourceFile, pattern: RegExp): ParsedFile[] {
    const key = `${from.id}\0${pattern.source}`;
    let found = this.mentioning.get(key);
    if (!found) {
      found = (this.project?.filesMentioning?.(from, pattern) ?? []).map((f) => this.add(f));
      this.mentioning.set(key, found);
    }
    return found;
  }

  private readonly mates = new Map<number, ParsedFile[]>();

  /**
   * The scripts that share a browser page's global scope with a JavaScript file (project.ts
   * `pageMates`), once per program and file: a global one defines is what the other reads by that name.
   */
  pageMates(parsed: ParsedFile): ParsedFile[] {
    let found = this.mates.get(parsed.file.id);
    if (!found) {
      found = (this.project?.pageMates?.(parsed.file) ?? []).map((f) => this.add(f));
      this.mates.set(parsed.file.id, found);
    }
    return found;
  }

  /** `from pkg import mod` where mod is a file of the package. */
  submodule(pkg: ParsedFile, name: string): ParsedFile | undefined {
    const parsed = this.project?.submodule(pkg, name);
    return parsed && this.add(parsed);
  }
}
