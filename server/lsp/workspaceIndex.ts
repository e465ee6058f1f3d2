// The workspace as the engine sees it: one engine Project per workspace folder (a file outside
// them gets the project the CLI would give it: server/cli/lintFile.ts `projectRoot`), whose files
// are read through the editor first (an open document's text wins over its file on disk), and the
// import graph of the workspace folders: which project file imports which.
//
// The graph is built after initialization, a slice of work per turn of the event loop so requests
// are answered meanwhile: the folders are walked with the CLI's discovery (server/cli/walk.ts:
// .gitignore, skipped folders and the project file's `exclude`), up to MAX_INDEXED_FILES source
// files, then each file's imports are read with the engine's `Project.importsOf`. That parses
// the file, so a file is parsed only when its text may import a project file at all
// (`mayImportProjectFile`: a relative import, or a module whose first name is a file or folder
// name of the workspace); most ML files import only numpy, torch and the like. The parses are
// dropped every SCRATCH_FILES files, so indexing a large workspace does not hold them all.
// The graph is kept up to date from the editor (the imports of an open document are read again
// after each of its lints) and from `workspace/didChangeWatchedFiles` (a changed or created file's
// imports are read again, a deleted file is dropped, and the files that may import a created one
// are read again). Pages (`.html`) are watched too: the classic scripts one page loads share their
// globals (engine/pages.ts), so the index learns every script's page-mates as it indexes the
// folders (`Project.pageMatePaths`), again when a page or a script beside it appears, changes or
// disappears, and an edit of a script lints its open page-mates again.
//
// What the graph is for: an open document is linted together with the runs of the files that
// import it (`importersFor`), and when a file changes, the open documents whose lint reads it are
// linted again (the caller's `relint`), so an edit of a model file updates the diagnostics of the
// training file that imports it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileChangeType, MessageType, type FileEvent } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_MAX_FILE_SIZE, languageForPath, PAGE_LEVELS_UP, lintDocumentSteps, lintProjectSteps, Project, type ParseCache, type DocumentAnalysis, type LanguageId, type LintOptions, type LintOutcome, type ProjectHost } from '../engine';
import type { Steps } from '../engine/stepwise';
import { folderContents, projectRoot } from '../cli/lintFile';
import { walk, type WalkItem } from '../cli/walk';
import { isMinifiedName } from '../engine/defaultExclude';
import { isPagePath } from '../engine/pages';
import { withAnalysis } from './documentsOnly';
import { fsPathOf } from './projectSettings';

export { withAnalysis };

/** Most files the graph holds from the walk (open documents are always added). */
export const MAX_INDEXED_FILES = 5000;
/** Most importers (direct first, then importers of importers) whose runs a lint includes. */
export const MAX_IMPORTERS = 16;
/** Time the background indexing may take per turn of the event loop (milliseconds). */
const SLICE_MS = 8;
/** Files whose imports are read with one set of parses, before they are dropped. */
const SCRATCH_FILES = 64;
/**
 * Files a lint project may have read (and so parsed) before it is replaced by a fresh one, whose
 * parses start empty: the engine keeps up to 512 parsed files per project, which with many open
 * documents would double the server's memory.
 */
const MAX_LINT_PROJECT_FILES = 48;
/** Files the walk lists (names only) past the limit, as a multiple of it. */
const MAX_LISTED_FACTOR = 10;

export interface WorkspaceIndexHost {
  /** The open text documents. */
  documents: { get(uri: string): TextDocument | undefined };
  /** The project file's `exclude` (the walk does not enter what it covers). */
  excludes(fsPath: string, isDir: boolean): boolean | undefined;
  /** Lint these open documents again: something their lint reads changed. */
  relint(uris: string[]): void;
  log(type: MessageType, message: string): void;
  /** Files larger than this (bytes) are not read. Default DEFAULT_MAX_FILE_SIZE. */
  maxFileSize?: number;
  /** Default MAX_INDEXED_FILES. */
  maxFiles?: number;
  /**
   * Whether the workspace folders' files are watched (`workspace/didChangeWatchedFiles` registered): only
   * then are folder listings kept until a file event there. Default: not watched.
   */
  filesWatched?(): boolean;
}

const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

/** An OS path as a project path: absolute, `/` separators. */
export function toProjectPath(fsPath: string): string {
  const abs = path.resolve(fsPath);
  return path.sep === '\\' ? abs.replace(/\\/g, '/') : abs;
}

/** The project path of a `file:` URI, or undefined for other schemes (untitled, virtual files). */
export function projectPathOf(uri: string): string | undefined {
  const fsPath = fsPathOf(uri);
  return fsPath === undefined ? undefined : toProjectPath(fsPath);
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function isInside(p: string, folder: string): boolean {
  return p === folder || p.startsWith(folder.endsWith('/') ? folder : `${folder}/`);
}

/** The module name a file is imported by: its name without extension, or its folder's for `__init__`/`index`. */
function moduleStem(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  if (base === '__init__' || base === 'index') return dirname(p).slice(dirname(p).lastIndexOf('/') + 1);
  return base;
}

/** The first names of the modules a Python text may import, and whether it has a relative import. */
const PY_FROM = /\bfrom\s+(\.*)([\w.]*)\s+import\b/g;
const PY_IMPORT = /\bimport\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)/g;
/** A relative module specifier in a TS/JS string: `'./x'`, `"../x"`, `'.'`. */
const SCRIPT_RELATIVE = /(['"`])\.\.?(\/|\1)/;

/**
 * Whether a file's text may import a file of the project: over-approximated from its text, so
 * only files that cannot are left unparsed. `names`: every file stem and folder name in the
 * workspace (an absolute Python import resolves to a path made of them).
 */
export function mayImportProjectFile(text: string, language: LanguageId, names: { has(name: string): boolean }): boolean {
  if (language !== 'python') return SCRIPT_RELATIVE.test(text);
  text = text.replace(/\\\r?\n/g, ' ');
  for (const m of text.matchAll(PY_FROM)) {
    if (m[1] !== '' || names.has(m[2].split('.')[0])) return true;
  }
  for (const m of text.matchAll(PY_IMPORT)) {
    for (const part of m[1].split(',')) if (names.has(part.trim().split(/[.\s]/)[0])) return true;
  }
  return false;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}


export class WorkspaceIndex {
  private folders: string[] = [];
  /** Engine projects for linting, by root, with the files each has read. */
  private readonly projects = new Map<string, { project: Project; files: Set<string> }>();
  /** Projects for reading imports in the background; dropped every SCRATCH_FILES files and when the work is done, so their parses are freed. */
  private scratch = new Map<string, Project>();
  /** The root of a file outside the workspace folders, by its folder (the CLI's `projectRoot`). */
  private readonly outsideRoots = new Map<string, string>();
  /** file → the project files it imports. */
  private readonly imports = new Map<string, string[]>();
  /** file → the files that import it. */
  private readonly importers = new Map<string, Set<string>>();
  /** Open text documents with a file path: path → URI. */
  private readonly open = new Map<string, string>();
  /** Open documents whose last lint was a lint alone (they import no project file and nothing imports them). */
  private readonly alone = new Set<string>();
  /**
   * Open scripts → the scripts that share a page with them, as their last lint in a project read them
   * (`Project.pageMatePaths`): an edit of one of those lints the script again (`affectedBy`). Unlike an
   * import, a page-mate's run is not added to the script's lint: a folder's classic scripts may all be
   * page-mates of each other, and the script's own run already reads their globals.
   */
  private readonly pageMates = new Map<string, string[]>();
  /**
   * Every indexed JavaScript file, open or not → the scripts of the pages that load it, learned by the
   * index (`Project.pageMatePaths`, pages only) when it reads the file's imports, and again on a file
   * event of such a page or a script beside it: an open file whose lint reads a closed script (one it
   * requires) also reads that script's page-mates. (A folder's classic scripts that no page loads are
   * page-mates too, but telling them needs a parse: those are learned when a script is linted, `pageMates`.)
   */
  private readonly indexedMates = new Map<string, string[]>();
  /**
   * Per folder, what `mayShareAPage` reads of its listing (a page in it; its scripts), until a file event in it;
   * only kept in a workspace folder whose files are watched (`filesWatched`), else read again on each lint
   * and dropped when the background work ends.
   */
  private readonly listings = new Map<string, { page: boolean; scripts: string[] }>();
  private readonly host: WorkspaceIndexHost;
  private readonly maxFileSize: number;
  private readonly maxFiles: number;
  private readonly reader: ProjectHost = { readFile: (p) => this.read(p), listFolder: folderContents };

  // Background work, done by `pump` a slice per turn.
  private walker?: Generator<WalkItem>;
  /** The walk's files whose imports are still to be read (the first build). */
  private initial?: { files: string[]; next: number };
  /** Every file stem and folder name under the workspace folders (see `mayImportProjectFile`). */
  private readonly names = new Set<string>();
  /** False when the walk stopped before listing every file: then every file with an import is parsed. */
  private namesComplete = true;
  private listed = 0;
  private scratchUses = 0;
  /** Files whose imports are to be read (again). */
  private readonly queue = new Set<string>();
  /** Files to check for a mention of a created module's name (they may import it now). */
  private scan?: { paths: string[]; next: number; pattern: RegExp };
  private readonly createdStems = new Set<string>();
  private pending?: NodeJS.Immediate;
  private walkedFiles = 0;
  private idleWaiters: (() => void)[] = [];
  private disposed = false;

  constructor(host: WorkspaceIndexHost) {
    this.host = host;
    this.maxFileSize = host.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
    this.maxFiles = host.maxFiles ?? MAX_INDEXED_FILES;
  }

  /** The workspace folders (OS paths). Call before `start`. */
  setFolders(fsPaths: readonly string[]): void {
    this.folders = [...new Set(fsPaths.map(toProjectPath))].sort((a, b) => b.length - a.length);
  }

  /** Walks the workspace folders and reads every file's imports, in the background. */
  start(): void {
    if (this.disposed || this.folders.length === 0) return;
    this.walkedFiles = 0;
    this.listed = 0;
    this.initial = { files: [], next: 0 };
    this.walker = walk(this.folders, { isExcluded: (absPath, isDir) => this.host.excludes(absPath, isDir) });
    this.kick();
  }

  /** Resolves when no background work is left (for tests and Lint Workspace). */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  dispose(): void {
    this.disposed = true;
    if (this.pending) clearImmediate(this.pending);
    this.walker?.return(undefined);
    this.walker = undefined;
    this.initial = undefined;
    this.queue.clear();
    this.scan = undefined;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  // ---------------------------------------------------------------- projects

  /** The project a file is linted in: its workspace folder's, else the one the CLI would use. */
  projectFor(file: string): Project {
    const root = this.rootOf(file);
    let entry = this.projects.get(root);
    if (!entry || entry.files.size > MAX_LINT_PROJECT_FILES) {
      const files = new Set<string>();
      const readFile = (p: string): string | undefined => {
        const text = this.read(p);
        if (text !== undefined) files.add(p);
        return text;
      };
      entry = { project: new Project({ root, host: { readFile, listFolder: folderContents }, maxFileSize: this.maxFileSize }), files };
      this.projects.set(root, entry);
    }
    entry.files.add(file);
    return entry.project;
  }

  private projectIn(projects: Map<string, Project>, root: string): Project {
    let project = projects.get(root);
    if (!project) {
      project = new Project({ root, host: this.reader, maxFileSize: this.maxFileSize });
      projects.set(root, project);
    }
    return project;
  }

  private rootOf(file: string): string {
    const folder = this.folders.find((f) => isInside(file, f)); // deepest first
    if (folder) return folder;
    const dir = dirname(file);
    let root = this.outsideRoots.get(dir);
    if (root === undefined) {
      root = projectRoot(file);
      this.outsideRoots.set(dir, root);
    }
    return root;
  }

  /** A file's text: the open document's, else the file on disk (invalid UTF-8 replaced); undefined when missing or too large. */
  read(file: string): string | undefined {
    const uri = this.open.get(file);
    const document = uri !== undefined ? this.host.documents.get(uri) : undefined;
    if (document) return document.getText();
    return this.readDisk(file);
  }

  private readDisk(file: string): string | undefined {
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile() || stat.size > this.maxFileSize) return undefined;
      return lenientUtf8.decode(fs.readFileSync(file));
    } catch {
      return undefined;
    }
  }

  /** Forget what every project read of a file, or of all files. */
  private invalidate(file?: string): void {
    for (const { project } of this.projects.values()) project.invalidate(file);
    for (const project of this.scratch.values()) project.invalidate(file);
  }

  // ---------------------------------------------------------------- linting

  /**
   * The lint of an open document: in its project, with the runs of the files that import it, for
   * a document with a file path; alone (the engine's `lintDocumentSteps`) for any other.
   */
  lintSteps(uri: string, text: string, options: LintOptions, parses?: ParseCache): Steps<LintOutcome & { analysis?: DocumentAnalysis }> {
    const file = projectPathOf(uri);
    // A notebook (`options.cells`) is Python at its .ipynb path; nothing imports it.
    const notebook = options.cells !== undefined;
    // A file whose name the engine does not read as the document's language is linted alone.
    if (file === undefined || (!notebook && languageForPath(file) !== options.language)) return withAnalysis(lintDocumentSteps(text, options, parses));
    const importers = notebook ? [] : this.importersFor(file);
    // So is one that imports no project file, that no file imports and that shares no page with other
    // scripts: the same findings, and the project keeps no parse of it (nor of the hundreds of such
    // files an editor may have open).
    if (importers.length === 0 && !this.mayImport(file, text, options.language) && !this.mayShareAPage(file, options.language)) {
      this.alone.add(file);
      return withAnalysis(lintDocumentSteps(text, options, parses));
    }
    this.alone.delete(file);
    return withAnalysis(lintProjectSteps(this.projectFor(file), file, text, options, importers, parses));
  }

  /**
   * Whether the last lint of an open document in its project read the file at `changedUri` (one of
   * its imports, or theirs). Ask before the change is reported: reporting it forgets what was read.
   */
  reads(uri: string, changedUri: string): boolean {
    const file = projectPathOf(uri);
    const changed = projectPathOf(changedUri);
    if (file === undefined || changed === undefined || file === changed || this.alone.has(file)) return false;
    return this.projectFor(file).dependencies(file).includes(changed);
  }

  /**
   * Whether a JavaScript file may share one global scope with other scripts (the engine's
   * `Project.pageMates`): an `.html` page in its folder or the two above it (inside its root), or
   * another script beside it. Over-approximated from folder listings, kept per folder until a file
   * event there (pages and scripts are watched files) in a workspace folder whose files are watched,
   * read again on every lint elsewhere (no event tells of a page created there): a file that shares
   * nothing is linted in its project with the same findings.
   */
  private mayShareAPage(file: string, language: LanguageId): boolean {
    if (language !== 'javascript' || languageForPath(file) !== 'javascript') return false;
    const watched = this.host.filesWatched?.() === true;
    return this.pageFolders(file).some((dir, up) => {
      if (!watched || !this.folders.some((f) => isInside(dir, f))) this.listings.delete(dir);
      const listed = this.listing(dir);
      return listed.page || (up === 0 && listed.scripts.some((name) => `${dir}/${name}` !== file));
    });
  }

  /** The folders a page that loads a script may be in: its own and the PAGE_LEVELS_UP above it, inside its root (as `Project.pageMates` looks). */
  private pageFolders(file: string): string[] {
    const root = this.rootOf(file);
    const out: string[] = [];
    for (let dir = dirname(file), up = 0; up <= PAGE_LEVELS_UP && isInside(dir, root); up++, dir = dirname(dir)) {
      out.push(dir);
      if (dir === root || dirname(dir) === dir) break;
    }
    return out;
  }

  /** A folder's listing as `mayShareAPage` reads it: whether it holds a page, and its scripts not minified by name. */
  private listing(dir: string): { page: boolean; scripts: string[] } {
    let known = this.listings.get(dir);
    if (!known) {
      const files = folderContents(dir)?.files ?? [];
      known = { page: files.some((name) => isPagePath(name)), scripts: files.filter((name) => languageForPath(name) === 'javascript' && !isMinifiedName(name)) };
      this.listings.set(dir, known);
    }
    return known;
  }

  /** Whether an open document's text may import a project file (see `mayImportProjectFile`). */
  private mayImport(file: string, text: string, language: LanguageId): boolean {
    if (language !== 'python') return mayImportProjectFile(text, language, this.names);
    // The workspace's names may be incomplete (the walk is running, the file is outside the
    // folders): the entries of the folders its absolute imports resolve from count too.
    let local: Set<string> | undefined;
    const has = (name: string): boolean => {
      if (this.names.has(name)) return true;
      local ??= this.entriesAround(file);
      return local.has(name);
    };
    return mayImportProjectFile(text, language, { has });
  }

  /** The names (file stems and folders) in the folders a Python file's absolute imports resolve from. */
  private entriesAround(file: string): Set<string> {
    const root = this.rootOf(file);
    const dirs: string[] = [];
    for (let dir = dirname(file); isInside(dir, root); dir = dirname(dir)) {
      dirs.push(dir);
      if (dir === root || dirname(dir) === dir) break;
    }
    dirs.push(root, `${root}/src`);
    const names = new Set<string>();
    for (const dir of new Set(dirs)) {
      try {
        for (const entry of fs.readdirSync(dir)) names.add(entry.replace(/\.[^.]*$/, ''));
      } catch {
        // a missing folder has no entries
      }
    }
    return names;
  }

  /** A file on disk linted in its project, for Lint Workspace (`projects`: the run's own, dropped after it). */
  lintOnDisk(fsPath: string, options: Omit<LintOptions, 'language'>, projects: Map<string, Project>): LintOutcome | undefined {
    const file = toProjectPath(fsPath);
    const language: LanguageId | undefined = languageForPath(file);
    if (!language) return undefined;
    const text = this.read(file);
    if (text === undefined) return { findings: [], notices: [] };
    const steps = lintProjectSteps(this.projectIn(projects, this.rootOf(file)), file, text, { ...options, language, maxFileSize: this.maxFileSize }, this.importersFor(file));
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value.outcome;
    }
  }

  // ---------------------------------------------------------------- the graph

  /** The files a file imports, as last read. */
  importsOf(file: string): readonly string[] {
    return this.imports.get(file) ?? [];
  }

  /**
   * The files whose runs a lint of `file` includes: the files that import it, then the files that
   * import those, up to MAX_IMPORTERS; open documents first at each level, then by path.
   */
  importersFor(file: string): string[] {
    const out: string[] = [];
    const seen = new Set([file]);
    let level = [file];
    while (level.length > 0) {
      const next: string[] = [];
      for (const f of level) {
        const direct = [...(this.importers.get(f) ?? [])].filter((i) => !seen.has(i));
        direct.sort((a, b) => Number(this.open.has(b)) - Number(this.open.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
        for (const importer of direct) {
          if (seen.has(importer)) continue;
          seen.add(importer);
          out.push(importer);
          next.push(importer);
          if (out.length >= MAX_IMPORTERS) return out;
        }
      }
      level = next;
    }
    return out;
  }

  /**
   * The open documents (other than the changed files) whose lint reads one of `changed`: the
   * program of a lint holds the document, the files that import it and everything these import.
   */
  private affectedBy(changed: ReadonlySet<string>): Set<string> {
    const out = new Set<string>();
    if (changed.size === 0) return out;
    for (const [file, uri] of this.open) {
      if (changed.has(file)) continue;
      const seen = new Set<string>();
      const stack = [file, ...this.importersFor(file)];
      while (stack.length > 0) {
        const f = stack.pop()!;
        if (seen.has(f)) continue;
        seen.add(f);
        if (changed.has(f)) {
          out.add(uri);
          break;
        }
        for (const imported of this.imports.get(f) ?? []) if (!seen.has(imported)) stack.push(imported);
        for (const mate of this.pageMates.get(f) ?? []) if (!seen.has(mate)) stack.push(mate);
        for (const mate of this.indexedMates.get(f) ?? []) if (!seen.has(mate)) stack.push(mate);
      }
    }
    return out;
  }

  /** Records a file's imports (undefined: the file is gone); true when they changed. */
  private setImports(file: string, next: string[] | undefined): boolean {
    const old = this.imports.get(file);
    if (next === undefined) {
      if (!old) return false;
      this.link(file, old, []);
      this.imports.delete(file);
      return true;
    }
    if (old && sameMembers(old, next)) return false;
    this.link(file, old ?? [], next);
    this.imports.set(file, next);
    return old !== undefined || next.length > 0;
  }

  private link(file: string, old: readonly string[], next: readonly string[]): void {
    for (const target of old) {
      const set = this.importers.get(target);
      set?.delete(file);
      if (set?.size === 0) this.importers.delete(target);
    }
    for (const target of next) {
      let set = this.importers.get(target);
      if (!set) this.importers.set(target, (set = new Set()));
      set.add(file);
    }
  }

  /** The project files a file imports, read with a scratch project (or `project`); undefined when the file is gone. */
  private readImports(file: string, project?: Project): string[] | undefined {
    if (project) return project.importsOf(file);
    const text = this.read(file);
    const language = languageForPath(file);
    if (text === undefined || !language) return this.open.has(file) || fs.existsSync(file) ? [] : undefined;
    this.addNames(file);
    if (this.namesComplete && !mayImportProjectFile(text, language, this.names)) return [];
    return this.scratchFor(file).importsOf(file);
  }

  /** The scratch project of a file's root; the scratch projects start again every SCRATCH_FILES uses, so their parses are freed. */
  private scratchFor(file: string): Project {
    if (++this.scratchUses > SCRATCH_FILES) {
      this.scratch = new Map();
      this.scratchUses = 1;
    }
    return this.projectIn(this.scratch, this.rootOf(file));
  }

  /** Records the file stem and folder names of a path under a workspace folder. */
  private addNames(file: string): void {
    const folder = this.folders.find((f) => isInside(file, f));
    if (!folder) return;
    const parts = file.slice(folder.length + 1).split('/');
    parts[parts.length - 1] = parts[parts.length - 1].replace(/\.[^.]*$/, '');
    for (const part of parts) this.names.add(part);
  }

  /** Reads a file's imports again (in a lint project when `project` is given); the open documents this affects, or undefined. */
  private refresh(file: string, project?: Project): Set<string> | undefined {
    if (!this.imports.has(file) && !this.open.has(file) && this.imports.size >= this.maxFiles) return undefined;
    return this.update(file, this.readImports(file, project));
  }

  /** Records a file's imports (undefined: it is gone); the open documents this affects, or undefined. */
  private update(file: string, next: string[] | undefined): Set<string> | undefined {
    const known = this.imports.has(file);
    const old = this.imports.get(file);
    if (old === undefined ? next === undefined || next.length === 0 : next !== undefined && sameMembers(old, next)) {
      if (next !== undefined && !known) this.imports.set(file, next);
      return undefined;
    }
    // The lints a change of the graph affects are those that read the file, with the graph before and after.
    const changed = new Set([file]);
    const before = this.affectedBy(changed);
    this.setImports(file, next);
    for (const uri of this.affectedBy(changed)) before.add(uri);
    return before;
  }

  // ---------------------------------------------------------------- events

  /** An open document was opened or edited (TextDocuments' onDidChangeContent). */
  documentChanged(uri: string): void {
    const file = projectPathOf(uri);
    if (file === undefined) return;
    const opening = this.open.get(file) !== uri;
    this.open.set(file, uri);
    this.invalidate(file);
    // A file opened may be new in its folder (created by the editor before any file event).
    if (opening) this.listings.delete(dirname(file));
    // Opening a file whose text is the one on disk changes nothing another lint reads.
    if (opening && this.host.documents.get(uri)?.getText() === this.readDisk(file)) return;
    this.relint(this.affectedBy(new Set([file])));
  }

  /** An open document was closed: its file on disk counts again. */
  documentClosed(uri: string, lastText: string): void {
    const file = projectPathOf(uri);
    if (file === undefined || this.open.get(file) !== uri) return;
    this.open.delete(file);
    this.alone.delete(file);
    this.pageMates.delete(file);
    this.invalidate(file);
    if (this.readDisk(file) !== lastText) {
      this.relint(this.affectedBy(new Set([file])));
      this.enqueue(file);
    }
  }

  /** An open document was linted: its imports are read again from the parse the lint kept. */
  linted(uri: string): void {
    const file = projectPathOf(uri);
    if (file === undefined || this.open.get(file) !== uri || languageForPath(file) === undefined) return;
    if (this.alone.has(file)) {
      this.pageMates.delete(file);
      this.relint(this.update(file, []));
      return;
    }
    const project = this.projectFor(file);
    const mates = project.pageMatePaths(file);
    if (mates.length > 0) this.pageMates.set(file, mates);
    else this.pageMates.delete(file);
    this.relint(this.refresh(file, project));
  }

  /** `workspace/didChangeWatchedFiles`: source files changed, were created or deleted on disk. */
  filesChanged(changes: readonly FileEvent[]): void {
    if (this.disposed) return;
    const touched = new Set<string>();
    const pages = new Set<string>();
    /** Folders where a script appeared or disappeared → those scripts. */
    const scriptFolders = new Map<string, Set<string>>();
    let structural = false;
    for (const change of changes) {
      const file = projectPathOf(change.uri);
      if (file === undefined) continue;
      // A file that appears or disappears changes its folder's listing.
      if (change.type !== FileChangeType.Changed) this.listings.delete(dirname(file));
      if (isPagePath(file)) {
        pages.add(file);
        continue;
      }
      if (languageForPath(file) === undefined) {
        // A deleted folder: what was under it is gone.
        if (change.type === FileChangeType.Deleted) {
          for (const known of [...this.imports.keys()]) if (isInside(known, file) && !this.open.has(known)) this.forgetFile(known, touched);
          for (const dir of [...this.listings.keys()]) if (isInside(dir, file)) this.listings.delete(dir);
          structural = true;
        }
        continue;
      }
      // A script that appears or disappears changes the page-mates of the scripts beside it (a folder's classic scripts share a page when none says otherwise).
      if (change.type !== FileChangeType.Changed && languageForPath(file) === 'javascript') {
        const dir = dirname(file);
        const inDir = scriptFolders.get(dir) ?? new Set<string>();
        scriptFolders.set(dir, inDir.add(file));
      }
      // While a file is open, the editor's text is what counts, not the disk's.
      if (this.open.has(file)) continue;
      this.invalidate(file);
      touched.add(file);
      if (change.type === FileChangeType.Deleted) {
        this.forgetFile(file, touched);
        structural = true;
      } else {
        if (change.type === FileChangeType.Created) {
          structural = true;
          this.createdStems.add(moduleStem(file));
          this.addNames(file);
        }
        if (this.imports.has(file) || this.folders.some((f) => isInside(file, f))) this.enqueue(file);
      }
    }
    // One pass over the known scripts for the whole batch (a checkout or a build reports thousands of files at once).
    if (scriptFolders.size > 0) {
      for (const mate of this.scriptsBelow(new Set(scriptFolders.keys()), 0)) {
        const events = scriptFolders.get(dirname(mate))!;
        if (events.size > 1 || !events.has(mate)) this.enqueue(mate);
      }
    }
    const pageAffected = pages.size > 0 ? this.pagesChanged(pages) : undefined;
    if (structural) {
      // Which file an import names may have changed anywhere: forget all texts (missing files too), lint the open documents again.
      this.invalidate();
      this.host.relint([...this.open.values()]);
    } else {
      const affected = this.affectedBy(touched);
      for (const uri of pageAffected ?? []) affected.add(uri);
      this.relint(affected);
    }
    this.kick();
  }

  /**
   * Pages that appeared, changed or disappeared: the scripts in their folders and the PAGE_LEVELS_UP
   * folders below (the scripts a page can link, `Project.pageMates`) learn their page-mates again; the
   * open documents whose lint reads one of those scripts, with the page-mates before or after, and the
   * open scripts there themselves, are linted again.
   */
  private pagesChanged(pages: ReadonlySet<string>): Set<string> {
    for (const page of pages) this.invalidate(page);
    const scripts = new Set(this.scriptsBelow(new Set([...pages].map(dirname)), PAGE_LEVELS_UP));
    const affected = this.affectedBy(scripts);
    for (const script of scripts) this.learnMates(script);
    for (const uri of this.affectedBy(scripts)) affected.add(uri);
    for (const script of scripts) {
      const uri = this.open.get(script);
      if (uri !== undefined) affected.add(uri);
    }
    return affected;
  }

  /** The known JavaScript files (indexed or open) in one of `dirs` or at most `levels` folders below one: one pass over the known files, whatever the number of folders. */
  private scriptsBelow(dirs: ReadonlySet<string>, levels: number): string[] {
    const out: string[] = [];
    for (const file of new Set([...this.imports.keys(), ...this.open.keys()])) {
      if (languageForPath(file) !== 'javascript') continue;
      let dir = dirname(file);
      for (let up = 0; up <= levels; up++, dir = dirname(dir)) {
        if (dirs.has(dir)) {
          out.push(file);
          break;
        }
        if (dirname(dir) === dir) break;
      }
    }
    return out;
  }

  /** Learns the scripts the pages that load a JavaScript file load with it (`indexedMates`), with a scratch project; only where a page is near. */
  private learnMates(file: string): void {
    if (languageForPath(file) !== 'javascript') return;
    const mates = (this.imports.has(file) || this.open.has(file)) && this.pageNear(file) ? this.scratchFor(file).pageMatePaths(file, true) : [];
    if (mates.length > 0) this.indexedMates.set(file, mates);
    else this.indexedMates.delete(file);
  }

  /** A page in a file's folder or the PAGE_LEVELS_UP folders above it (inside its root), from the kept listings. */
  private pageNear(file: string): boolean {
    return this.pageFolders(file).some((dir) => this.listing(dir).page);
  }

  /** Drops a deleted file from the graph; the files that imported it are read again. */
  private forgetFile(file: string, touched: Set<string>): void {
    touched.add(file);
    for (const importer of this.importers.get(file) ?? []) this.enqueue(importer);
    this.setImports(file, undefined);
    this.indexedMates.delete(file);
  }

  private relint(uris: Iterable<string> | undefined): void {
    const list = uris ? [...uris] : [];
    if (list.length > 0) this.host.relint(list);
  }

  private enqueue(file: string): void {
    this.queue.add(file);
    this.kick();
  }

  // ---------------------------------------------------------------- background work

  private busy(): boolean {
    return this.walker !== undefined || this.initial !== undefined || this.scan !== undefined || this.queue.size > 0 || this.createdStems.size > 0;
  }

  private kick(): void {
    if (this.pending || this.disposed || !this.busy()) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      try {
        this.pump();
      } catch (error) {
        this.host.log(MessageType.Error, `indexing the workspace failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        this.walker = undefined;
        this.initial = undefined;
        this.scan = undefined;
        this.queue.clear();
      }
      if (this.busy()) this.kick();
      else this.finished();
    });
  }

  /** One slice of background work. */
  private pump(): void {
    const deadline = performance.now() + SLICE_MS;
    const affected = new Set<string>();
    do {
      if (this.walker) {
        this.walkStep();
        continue;
      }
      if (this.initial) {
        this.initialStep();
        continue;
      }
      if (!this.scan && this.createdStems.size > 0) this.startScan();
      if (this.scan) {
        this.scanStep();
        continue;
      }
      const next = this.queue.values().next();
      if (next.done) break;
      this.queue.delete(next.value);
      for (const uri of this.refresh(next.value) ?? []) affected.add(uri);
      this.learnMates(next.value);
    } while (performance.now() < deadline);
    this.relint(affected);
  }

  /** The walk: lists the source files (their imports are read by `initialStep`, once all names are known). */
  private walkStep(): void {
    const item = this.walker!.next();
    const initial = this.initial!;
    if (item.done) {
      this.walker = undefined;
      return;
    }
    if (item.value.kind !== 'file') return;
    const file = toProjectPath(item.value.fsPath);
    if (languageForPath(file) === undefined) return; // notebooks are not project files
    // Past the limit the walk goes on a while, listing names only (the first files may import these).
    this.listed++;
    this.addNames(file);
    if (initial.files.length < this.maxFiles) {
      initial.files.push(file);
    } else if (this.listed === this.maxFiles + 1) {
      this.host.log(MessageType.Warning, `the workspace has more than ${this.maxFiles} source files: only the imports of the first ${this.maxFiles} are followed`);
    } else if (this.listed > this.maxFiles * MAX_LISTED_FACTOR) {
      this.walker!.return(undefined);
      this.walker = undefined;
      this.namesComplete = false;
    }
  }

  /** The first build: one file's imports. While it runs, the graph grows without linting anything again; at its end, once. */
  private initialStep(): void {
    const initial = this.initial!;
    const file = initial.files[initial.next++];
    if (file !== undefined) {
      const next = this.open.has(file) ? this.projectFor(file).importsOf(file) : this.readImports(file);
      this.setImports(file, next ?? []);
      this.learnMates(file);
      this.walkedFiles++;
    }
    if (initial.next < initial.files.length) return;
    this.initial = undefined;
    this.host.log(MessageType.Info, `indexed the imports of ${this.walkedFiles} file${this.walkedFiles === 1 ? '' : 's'} in the workspace`);
    // Open documents with importers now known are linted with their runs.
    this.relint([...this.open].filter(([f]) => this.importersFor(f).length > 0).map(([, uri]) => uri));
  }

  private startScan(): void {
    const stems = [...this.createdStems].filter((s) => s !== '');
    this.createdStems.clear();
    if (stems.length === 0) return;
    const paths = [...this.imports.keys()].filter((f) => !this.open.has(f));
    this.scan = { paths, next: 0, pattern: new RegExp(`(^|[^\\w$])(${stems.map(escapeRegExp).join('|')})($|[^\\w$])`) };
  }

  /** A file that mentions a created module's name may import it now: its imports are read again. */
  private scanStep(): void {
    const scan = this.scan!;
    const file = scan.paths[scan.next++];
    if (scan.next >= scan.paths.length) this.scan = undefined;
    if (file === undefined) return;
    const text = this.readDisk(file);
    if (text !== undefined && scan.pattern.test(text)) this.queue.add(file);
  }

  private finished(): void {
    // The parses made for reading imports are not needed any more.
    this.scratch = new Map();
    // No file event will tell that a folder's listing changed: what the work read is not kept.
    if (this.host.filesWatched?.() !== true) this.listings.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
