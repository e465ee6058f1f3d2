// All the work for one file, from disk to findings (and, with `fix`, back to disk). Self-contained
// (plain data in, plain data out, no printing) so it can move into a worker thread unchanged; the
// language server's "Lint Workspace" uses it too. Jupyter notebooks (.ipynb) are linted as one
// program made of their code cells; their findings carry the cell they are in.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Project,
  lintProjectFile,
  type ForeignOutcome,
  applicableFixes,
  applyEdits,
  codeCells,
  languageForPath,
  lintCells,
  looksBinary,
  parseIpynb,
  replaceIpynbSources,
  selectFixes,
  type Finding,
  type Fix,
  type LanguageId,
  type Notice,
  type RelatedInfo,
  type Severity,
  type TextEdit,
} from '../engine';
import { DeadlinePassed } from '../engine/stepwise';

export interface LintFileOptions {
  select?: string[];
  ignore?: string[];
  severity?: Record<string, Severity>;
  /** In bytes; larger files are skipped before they are read. */
  maxFileSize: number;
  /** Apply fixes and write the file: `safe` ones, or `unsafe` ones too. */
  fix?: 'safe' | 'unsafe';
  /** Report what the result depends on (`FileResult.inputs`), for the CLI's cache (cache.ts). Ignored with `fix`. */
  recordInputs?: boolean;
  /**
   * The project of a file with no project marker above it, when the file is inside it: the run's
   * working folder (a course folder unzipped without `.git`, checked with `nabla check .`, is one
   * project, so `from layers.affine import Affine` resolves from it). Otherwise the file's folder.
   */
  fallbackRoot?: string;
}

/**
 * What a file's result was computed from: the hash of its own bytes, and every other path its
 * analysis asked for with the hash of the bytes it read there (null: not there, or unreadable).
 */
export interface FileInputs {
  hash: string;
  reads: [path: string, hash: string | null][];
}

export interface FileNotice {
  kind: Notice['kind'] | 'encoding';
  message: string;
}

/** A finding; in a notebook, `cell` is the 0-based index of its cell among all cells and positions are within that cell. */
export interface FileFinding extends Omit<Finding, 'related' | 'fix'> {
  cell?: number;
  related: (RelatedInfo & { cell?: number })[];
  fix?: Omit<Fix, 'edits'> & { edits: (TextEdit & { cell?: number })[] };
}

export interface FileResult {
  findings: FileFinding[];
  /**
   * Findings this file's run located in other files of its project (a mistake in a helper module,
   * seen from the code that calls it), by absolute path: main.ts merges them into those files.
   */
  foreign?: ForeignOutcome[];
  notices: FileNotice[];
  /** False when the file was skipped (binary, too large) or could not be read. */
  checked: boolean;
  /** Why the file could not be read (`permission denied`): an error for the user, and exit code 2. */
  error?: string;
  /** With `fix`: how many fixes were applied (and written). */
  fixed?: number;
  /** With `recordInputs`, when the result may be cached: what it was computed from. */
  inputs?: FileInputs;
}

/** The hash the cache compares file contents by (of the bytes on disk). */
export function contentHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** Fix, lint again, and repeat while fixes apply, up to this many rounds (a fix can enable another). */
const MAX_FIX_PASSES = 10;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

export function isNotebookPath(filePath: string): boolean {
  return /\.ipynb$/i.test(filePath);
}

/** Whether Nabla lints a file with this name: by extension, a source file or a notebook. */
export function isLintablePath(filePath: string): boolean {
  return languageForPath(filePath) !== undefined || isNotebookPath(filePath);
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder';
  return error instanceof Error ? error.message : String(error);
}

/** One lint of some state (a file's text, or a notebook's code cells) and how to apply a round of fixes to it. */
interface Subject<S> {
  lint(state: S): { findings: FileFinding[]; notices: Notice[] };
  apply(state: S, fixes: FileFinding['fix'][]): S;
}

function runWithFixes<S>(initial: S, subject: Subject<S>, fix: LintFileOptions['fix']): { state: S; findings: FileFinding[]; notices: Notice[]; fixed: number } {
  let state = initial;
  let outcome = subject.lint(state);
  let fixed = 0;
  if (!fix) return { state, ...outcome, fixed };
  for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
    // Never in a file with syntax errors: its findings rest on a guess at what the code means.
    if (outcome.notices.some((notice) => notice.kind === 'parse-error')) break;
    const fixes = selectFixes(applicableFixes(outcome.findings, fix === 'unsafe'));
    if (fixes.length === 0) break;
    state = subject.apply(state, fixes);
    fixed += fixes.length;
    outcome = subject.lint(state);
  }
  return { state, ...outcome, fixed };
}

function textSubject(
  filePath: string,
  language: LanguageId,
  options: LintFileOptions,
  foreign: { last: ForeignOutcome[] },
  record?: { hash: string; reads?: FileInputs['reads'] },
): Subject<string> {
  const lintOptions = { language, select: options.select, ignore: options.ignore, severity: options.severity, maxFileSize: options.maxFileSize, prefilter: !fullAnalysis() };
  const absPath = toSlashes(path.resolve(filePath));
  return {
    lint: (text) => {
      const project = projectFor(absPath, options.maxFileSize, options.fallbackRoot);
      // The project keeps this text as the file's from now on (a later entry may import it).
      if (record) diskHashes.set(absPath, record.hash);
      const { outcome, foreign: found } = lintProjectFile(project, absPath, text, lintOptions);
      if (record) record.reads = project.dependencies(absPath).map((p) => [p, diskHashes.get(p) ?? null]);
      foreign.last = found;
      return outcome;
    },
    apply: (text, fixes) => applyEdits(text, fixes.flatMap((fix) => fix?.edits ?? [])),
  };
}

/**
 * NABLA_FULL_ANALYSIS=1 turns the fast path off (server/engine/prefilter.ts): every file is parsed
 * and analysed as an entry. `npm run proof:fastpath` compares the two.
 */
function fullAnalysis(): boolean {
  return process.env.NABLA_FULL_ANALYSIS === '1';
}

// ------------------------------------------------------------------ projects

/** Files whose presence marks a project's root folder (where its top-level packages live). */
const PROJECT_MARKERS = ['.git', 'pyproject.toml', 'setup.py', 'setup.cfg', 'package.json', 'nabla.toml', 'requirements.txt'];

/**
 * This thread's projects, by root, most recently used last. The walk lists a root's files
 * together, so a few are enough; each keeps its parsed files, which is what bounds them.
 */
const projects = new Map<string, Project>();
const MAX_PROJECTS = 4;

function toSlashes(p: string): string {
  return path.sep === '\\' ? p.replace(/\\/g, '/') : p;
}

/** Folder listings (undefined: not a readable folder), so probing a module path is a lookup, not a failed
 * read. Only the CLI's projects use them; `--fix` rewrites files but never adds or removes one. */
const listings = new Map<string, Set<string> | undefined>();
const MAX_LISTINGS = 4096;

function listing(dir: string): Set<string> | undefined {
  if (listings.has(dir)) return listings.get(dir);
  let names: Set<string> | undefined;
  try {
    names = new Set(fs.readdirSync(dir));
  } catch {
    names = undefined;
  }
  if (listings.size >= MAX_LISTINGS) listings.delete(listings.keys().next().value as string);
  listings.set(dir, names);
  return names;
}

/**
 * The project root the CLI lints a file in, and whether a marker was found there (when none was,
 * the root is the file's own folder). The cache (cache.ts) sits at a marked root.
 */
export function projectRootOf(absPath: string, fallbackRoot?: string): { root: string; marked: boolean } {
  const root = cachedProjectRoot(absPath, fallbackRoot);
  return { root, marked: PROJECT_MARKERS.some((m) => listing(root)?.has(m) === true) };
}

/** Whether the folder listing (read once per run) names this file: a missing module costs no failed read. */
export function isListed(filePath: string): boolean {
  return listing(path.dirname(filePath))?.has(path.basename(filePath)) === true;
}

/** Markers that are only a build script: in a package folder they do not make it a root. */
const BUILD_SCRIPTS = new Set(['setup.py', 'setup.cfg']);

/**
 * The nearest folder above a file that holds a project marker; when none does, `fallback` if the
 * file is inside it, else the file's own folder. A package (a folder with `__init__.py`) whose only
 * marker is a build script is not a root: cs231n's `cs231n/setup.py` builds its Cython layers in
 * place, and the notebooks beside `cs231n/` import `cs231n.layers`, which resolves only from the
 * package's parent. Its parent is the root then, unless a marker further up says otherwise.
 */
export function projectRoot(absPath: string, holds: (dir: string, name: string) => boolean = (dir, name) => fs.existsSync(path.join(dir, name)), fallback?: string): string {
  const start = path.dirname(absPath);
  let packageParent: string | undefined;
  for (let dir = start; ; ) {
    const parent = path.dirname(dir);
    const marks = PROJECT_MARKERS.filter((m) => holds(dir, m));
    if (marks.length > 0) {
      const builtPackage = marks.every((m) => BUILD_SCRIPTS.has(m)) && holds(dir, '__init__.py') && parent !== dir;
      if (!builtPackage) return toSlashes(dir);
      packageParent ??= parent;
    }
    if (parent === dir) break;
    dir = parent;
  }
  if (packageParent !== undefined) return toSlashes(packageParent);
  if (fallback !== undefined) {
    const rel = path.relative(fallback, start);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return toSlashes(fallback);
  }
  return toSlashes(start);
}

/** The CLI's roots by folder: a run sees the disk as it was when it started. */
const roots = new Map<string, string>();

function cachedProjectRoot(absPath: string, fallback: string | undefined): string {
  const key = `${path.dirname(absPath)}\0${fallback ?? ''}`;
  let root = roots.get(key);
  if (root === undefined) {
    root = projectRoot(absPath, (d, name) => listing(d)?.has(name) === true, fallback);
    roots.set(key, root);
  }
  return root;
}

function projectFor(absPath: string, maxFileSize: number, fallback: string | undefined): Project {
  const root = cachedProjectRoot(absPath, fallback);
  let project = projects.get(root);
  if (project) {
    projects.delete(root);
  } else {
    project = new Project({ root, host: { readFile: readProjectFile, listFolder: listProjectFolder }, maxFileSize, shareProgram: true });
    if (projects.size >= MAX_PROJECTS) projects.delete(projects.keys().next().value as string);
  }
  projects.set(root, project);
  return project;
}

/** Folder contents by kind, for the engine's search of the files that derive from a class (`Project.filesMentioning`). */
const typedListings = new Map<string, { files: string[]; folders: string[] } | undefined>();

function listProjectFolder(dir: string): { files: string[]; folders: string[] } | undefined {
  if (typedListings.has(dir)) return typedListings.get(dir);
  const listed = folderContents(dir);
  // The search is keyed in the cache by what it listed: a subclass file may appear there later.
  diskHashes.set(`${dir}/`, listingHash(listed));
  if (typedListings.size >= MAX_LISTINGS) typedListings.delete(typedListings.keys().next().value as string);
  typedListings.set(dir, listed);
  return listed;
}

/** A folder's files and folders (symbolic links left out: a linked folder may lead out of the project or back into it). */
export function folderContents(dir: string): { files: string[]; folders: string[] } | undefined {
  try {
    const files: string[] = [];
    const folders: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile()) files.push(entry.name);
      else if (entry.isDirectory()) folders.push(entry.name);
    }
    return { files, folders };
  } catch {
    return undefined;
  }
}

/**
 * A folder listing's hash (null: not a readable folder), as the cache keys an entry that listed it:
 * its source files and its folders but hidden ones (the search skips those; a README or the cache
 * folder appearing changes nothing it could find).
 */
export function listingHash(listed: { files: readonly string[]; folders: readonly string[] } | undefined): string | null {
  if (!listed) return null;
  const files = listed.files.filter((f) => languageForPath(f) !== undefined).map((f) => `f ${f}`);
  const folders = listed.folders.filter((d) => !d.startsWith('.')).map((d) => `d ${d}`);
  return contentHash(Buffer.from([...files, ...folders].sort().join('\n')));
}

/** Forget what was read from disk (the language server's Lint Workspace calls it before each run). */
export function forgetDisk(): void {
  projects.clear();
  listings.clear();
  typedListings.clear();
  roots.clear();
  diskHashes.clear();
}

/**
 * The hash of the bytes each project file was read from (null: missing or unreadable), as this
 * thread's projects hold them: they keep a text for the run, so this is what every later program saw.
 */
const diskHashes = new Map<string, string | null>();

/** A project file's text (invalid UTF-8 replaced), or undefined when it is missing or unreadable. */
function readProjectFile(filePath: string): string | undefined {
  // Most paths asked for are module-resolution guesses (`numpy.py`, `torch/__init__.py`).
  if (!listing(path.dirname(filePath))?.has(path.basename(filePath))) return undefined;
  try {
    const bytes = fs.readFileSync(filePath);
    diskHashes.set(filePath, contentHash(bytes));
    return lenientUtf8.decode(bytes);
  } catch {
    diskHashes.set(filePath, null);
    return undefined;
  }
}

function notebookSubject(
  filePath: string,
  options: LintFileOptions,
  foreign: { last: ForeignOutcome[] },
  record?: { hash: string; reads?: FileInputs['reads'] },
): Subject<Map<number, string>> {
  const lintOptions = { select: options.select, ignore: options.ignore, severity: options.severity, maxFileSize: options.maxFileSize };
  const absPath = toSlashes(path.resolve(filePath));
  return {
    lint: (cells) => {
      // In its project, as a .py file is: the cells import the package beside the notebook, as Jupyter runs them.
      const project = projectFor(absPath, options.maxFileSize, options.fallbackRoot);
      const linted = lintCells([...cells].map(([index, text]) => ({ index, text })), lintOptions, undefined, { project, path: absPath });
      if (record) record.reads = project.dependencies(absPath).map((p) => [p, diskHashes.get(p) ?? null]);
      foreign.last = linted.foreign ?? [];
      return linted;
    },
    apply: (cells, fixes) => {
      const next = new Map(cells);
      const byCell = new Map<number, TextEdit[]>();
      for (const edit of fixes.flatMap((fix) => fix?.edits ?? [])) {
        if (edit.cell === undefined) continue;
        byCell.set(edit.cell, [...(byCell.get(edit.cell) ?? []), { range: edit.range, newText: edit.newText }]);
      }
      for (const [cell, edits] of byCell) next.set(cell, applyEdits(next.get(cell) ?? '', edits));
      return next;
    },
  };
}

/**
 * How large a notebook file may be on disk. A notebook's outputs (plots, tables) are most of its
 * bytes and are never linted, so --max-file-size applies to its code cells' text once read; this
 * bound only keeps an absurd file from being read and parsed as JSON.
 */
export const NOTEBOOK_MAX_RAW_SIZE = 64 * 1024 * 1024;

/** The most bytes a file may have on disk to be read at all: --max-file-size, or for a notebook the larger raw bound. */
export function rawSizeLimit(filePath: string, maxFileSize: number): number {
  return isNotebookPath(filePath) ? Math.max(maxFileSize, NOTEBOOK_MAX_RAW_SIZE) : maxFileSize;
}

/** The size of a notebook's code: its code cells' text, each on lines of its own (what --max-file-size counts). */
export function codeCellsSize(sources: Iterable<string>): number {
  let size = 0;
  for (const source of sources) size += source.length + 1;
  return size;
}

/**
 * The code a notebook file gives to lint, in characters (`codeCellsSize`): none when it is not a
 * Python notebook or not one at all, since it is then skipped. Its outputs are never linted.
 */
export function notebookCodeSize(json: string): number {
  const parsed = parseIpynb(json);
  return parsed.ok && parsed.language === 'python' ? codeCellsSize(codeCells(parsed.cells).map((cell) => cell.text)) : 0;
}

/** The result of a file over the size limit, which is never read. */
export function tooLarge(size: number, limit: number, notebook = false): FileResult {
  const why = notebook ? `the notebook has ${size} bytes, over the limit of ${limit} for a notebook file with its outputs` : `the file has ${size} bytes, over the limit of ${limit} (--max-file-size)`;
  return { findings: [], notices: [{ kind: 'skipped', message: `skipped: ${why}` }], checked: false };
}

export async function lintFile(filePath: string, options: LintFileOptions): Promise<FileResult> {
  const language = languageForPath(filePath);
  const notebook = isNotebookPath(filePath);
  if (language === undefined && !notebook) {
    return { findings: [], notices: [{ kind: 'skipped', message: 'skipped: not a Python, TypeScript, JavaScript or notebook file' }], checked: false };
  }

  // Read synchronously: the lint that follows is synchronous too, and a thread that waited for the
  // file system between files would idle (four thread-pool round trips per file).
  let buffer: Buffer;
  let fd: number | undefined;
  try {
    fd = fs.openSync(filePath, 'r');
    // Size from the open descriptor, so a huge file is never read into memory.
    const { size } = fs.fstatSync(fd);
    const limit = rawSizeLimit(filePath, options.maxFileSize);
    if (size > limit) return tooLarge(size, limit, notebook);
    buffer = fs.readFileSync(fd);
  } catch (error) {
    return { findings: [], notices: [], checked: false, error: describeError(error) };
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // nothing to do: the descriptor is gone either way
      }
    }
  }

  const notices: FileNotice[] = [];
  let text: string;
  let validUtf8 = true;
  try {
    text = strictUtf8.decode(buffer);
  } catch {
    validUtf8 = false;
    text = lenientUtf8.decode(buffer);
    // A binary file is skipped by the engine with its own notice; do not warn twice.
    if (!looksBinary(text)) notices.push({ kind: 'encoding', message: 'invalid UTF-8 replaced' });
  }
  let fix = options.fix;
  if (fix && !validUtf8) {
    notices.push({ kind: 'encoding', message: 'not fixed: the file is not valid UTF-8, and writing it back would change its bytes' });
    fix = undefined;
  }
  // A fix rewrites the file: its result belongs to the new bytes, so a fixing run caches nothing.
  const record = options.recordInputs && !options.fix ? { hash: contentHash(buffer), reads: undefined as FileInputs['reads'] | undefined } : undefined;

  try {
    if (notebook) {
      const parsed = parseIpynb(text);
      // Skipped before its cells are linted: its result depends on its own bytes alone.
      const inputs: FileInputs | undefined = record ? { hash: record.hash, reads: [] } : undefined;
      if (!parsed.ok) return { findings: [], notices: [...notices, { kind: 'skipped', message: `skipped: ${parsed.message}` }], checked: false, ...(inputs ? { inputs } : {}) };
      if (parsed.language !== 'python') {
        return { findings: [], notices: [...notices, { kind: 'skipped', message: `skipped: a ${parsed.language} notebook, not Python` }], checked: false, ...(inputs ? { inputs } : {}) };
      }
      const cells = new Map(codeCells(parsed.cells).map((cell) => [cell.index, cell.text]));
      // The size limit counts the code, not the outputs.
      const codeSize = codeCellsSize(cells.values());
      if (codeSize > options.maxFileSize) {
        const message = `skipped: the notebook's code cells have ${codeSize} characters, over the limit of ${options.maxFileSize} (--max-file-size)`;
        return { findings: [], notices: [...notices, { kind: 'skipped', message }], checked: false, ...(inputs ? { inputs } : {}) };
      }
      const foreign = { last: [] as ForeignOutcome[] };
      const run = runWithFixes(cells, notebookSubject(filePath, options, foreign, record), fix);
      notices.push(...run.notices);
      if (run.fixed > 0) {
        const changed = new Map([...run.state].filter(([index, source]) => cells.get(index) !== source));
        await fs.promises.writeFile(filePath, replaceIpynbSources(text, changed));
      }
      const linted: FileInputs | undefined = record?.reads ? { hash: record.hash, reads: record.reads } : undefined;
      return {
        findings: run.findings,
        ...(foreign.last.length > 0 ? { foreign: foreign.last } : {}),
        notices,
        checked: !run.notices.some((n) => n.kind === 'skipped'),
        ...(fix ? { fixed: run.fixed } : {}),
        ...(linted ? { inputs: linted } : {}),
      };
    }
    const foreign = { last: [] as ForeignOutcome[] };
    const run = runWithFixes(text, textSubject(filePath, language!, options, foreign, record), fix);
    notices.push(...run.notices);
    if (run.fixed > 0 && run.state !== text) await fs.promises.writeFile(filePath, run.state);
    const skipped = run.notices.some((n) => n.kind === 'skipped');
    const inputs: FileInputs | undefined = record?.reads ? { hash: record.hash, reads: record.reads } : undefined;
    return {
      findings: run.findings,
      ...(foreign.last.length > 0 ? { foreign: foreign.last } : {}),
      notices,
      checked: !skipped,
      ...(fix ? { fixed: run.fixed } : {}),
      ...(inputs ? { inputs } : {}),
    };
  } catch (error) {
    // The caller's time bound (stepwise.ts `withDeadline`): the caller reports the file as skipped.
    if (error instanceof DeadlinePassed) throw error;
    // lintText promises not to throw; if it ever does (or writing fails), one file must not end the run.
    const detail = error instanceof Error ? error.message : String(error);
    if ((error as NodeJS.ErrnoException).code !== undefined) return { findings: [], notices, checked: false, error: `cannot write the fixes: ${describeError(error)}` };
    notices.push({ kind: 'internal-error', message: `internal error, file not checked: ${detail}` });
    return { findings: [], notices, checked: false };
  }
}
