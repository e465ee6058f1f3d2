// A project: the files under a root folder, read through a host (the engine does no I/O itself),
// and how an import in one of them names another. Python: relative imports, absolute imports from
// the importing file's folder and its parents up to the root, from the root and from `src/`, with
// packages' `__init__.py`. TS/JS: relative specifiers, with or without extension, `index` files,
// and `.js` specifiers that name `.ts` sources. Packages from registries (numpy, torch,
// @tensorflow/tfjs) are never resolved: their semantics are the catalogue's (facts/catalogue.ts).
//
// Paths are absolute, with `/` separators, as the host gives them. Each path keeps one file id for
// the project's life, so its spans are stable across programs.
import { isClassicScript, parseFile, type ParsedFile } from './document';
import { languageForPath } from './languages';
import { ParseGaveUp } from './parse';
import { Program, type ProjectFiles } from './program';
import { looksBinary, makeSourceFile, type SourceFile } from './source';
import { isPagePath, pageScripts } from './pages';
import { isDefaultExcludedFolder, isMinifiedName, looksMinified, MINIFIED_PREFIX_BYTES } from './defaultExclude';
import type { LanguageId } from './types';

export interface ProjectHost {
  /** The text of the file at an absolute path, or undefined when there is none or it cannot be read. */
  readFile(path: string): string | undefined;
  /**
   * The files and folders in a folder (names, not paths), or undefined when it cannot be listed.
   * Optional: without it the engine sees only the files reached through imports, never the files
   * that import a module (a project base class's subclasses, `filesMentioning`).
   */
  listFolder?(path: string): { files: readonly string[]; folders: readonly string[] } | undefined;
}

export interface ProjectOptions {
  /** The project's root folder (absolute, `/` separators). */
  root: string;
  host: ProjectHost;
  /** Files larger than this (in characters) are not read as project files. */
  maxFileSize?: number;
  /** Parsed files kept across programs, most recently used first (default 512). */
  maxKeptFiles?: number;
  /**
   * Every lint gets the same program until a file changes (`invalidate`, or `adopt` of another
   * text), so a module many entries import is analysed once. For front ends whose files stay put
   * while they lint many entries (the CLI); an editor's program changes with every keystroke.
   */
  shareProgram?: boolean;
}

/** Parsed files kept across programs by default: the most recently used ones. */
const MAX_KEPT_FILES = 512;

const PY_SUFFIXES = ['.py', '/__init__.py'];
const TS_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];

/** A Python module path resolved from a folder: the file found, every path probed on the way, and the `asked` sets they were replayed into. */
interface PythonModule {
  path: string | undefined;
  probed: string[];
  replayedInto?: WeakSet<Set<string>>;
}

export class Project implements ProjectFiles {
  readonly root: string;
  private readonly host: ProjectHost;
  private readonly maxFileSize: number;
  private readonly maxKeptFiles: number;
  private readonly ids = new Map<string, number>();
  private readonly paths: string[] = [''];
  /** Texts read from the host (null: no such file), until `invalidate`. */
  private readonly texts = new Map<string, string | null>();
  /** Parsed files by path, most recently used last. */
  private readonly parsed = new Map<string, ParsedFile>();
  private readonly shareProgram: boolean;
  /** With `shareProgram`: the program every lint gets, until a file changes or it holds more files than are kept. */
  private shared?: Program;
  /**
   * By importing path: every path resolving its imports asked for, found or not, whoever asked
   * (`dependencies`). Valid while no text changes, appears or disappears.
   */
  private readonly asked = new Map<string, Set<string>>();
  /** While a resolution from a file runs: its set in `asked`. */
  private asking?: Set<string>;
  /**
   * Python module paths resolved, by the importing folder and the module: the path found and every
   * path probed on the way (replayed into `asked`). Valid while no text appears or disappears.
   */
  private readonly pythonModules = new Map<string, PythonModule>();
  /** The same entries by importing path, then module: found again without building the folder's key (every entry's `reachable` asks). */
  private readonly pythonModulesByFile = new Map<string, Map<string, PythonModule>>();

  constructor(options: ProjectOptions) {
    this.root = trimSlash(options.root);
    this.host = options.host;
    this.maxFileSize = options.maxFileSize ?? 1024 * 1024;
    this.maxKeptFiles = options.maxKeptFiles ?? MAX_KEPT_FILES;
    this.shareProgram = options.shareProgram ?? false;
  }

  /** A program over this project's files as they are now (with `shareProgram`, the one every lint shares). */
  program(): Program {
    if (!this.shareProgram) return new Program(this);
    // A file's facts do not depend on which programs asked for them first (Analyzer.apart), so
    // sharing changes no finding; the bound keeps the memory of a large project's run what it was.
    if (!this.shared || this.shared.fileCount > this.maxKeptFiles) this.shared = new Program(this);
    return this.shared;
  }

  /**
   * Every path a lint of `path` may have depended on besides its own text: what resolving the
   * imports of `path` asked for, found or not, and so on through the files found. A superset of
   * what the lint read (the same resolutions, asked by any lint of this project), so the CLI's
   * cache, which keys an entry by these files' contents, stays sound when facts are shared. A path
   * ending in `/` is a folder whose listing was read (`filesMentioning`).
   */
  dependencies(path: string): string[] {
    const out = new Set<string>();
    const queue = [path];
    for (let i = 0; i < queue.length; i++) {
      for (const dep of this.asked.get(queue[i]) ?? []) {
        if (out.has(dep)) continue;
        out.add(dep);
        queue.push(dep);
      }
    }
    out.delete(path);
    return [...out];
  }

  /** Runs a resolution from `from`, recording every path it asks for as one of `from`'s dependencies. */
  private askingFrom<T>(from: string, fn: () => T): T {
    const outer = this.asking;
    let set = this.asked.get(from);
    if (!set) this.asked.set(from, (set = new Set()));
    this.asking = set;
    try {
      return fn();
    } finally {
      this.asking = outer;
    }
  }

  /** The stable file id of a path (ids start at 1: 0 is a lone document). */
  idOf(path: string): number {
    let id = this.ids.get(path);
    if (id === undefined) {
      id = this.paths.length;
      this.paths.push(path);
      this.ids.set(path, id);
    }
    return id;
  }

  pathOf(file: SourceFile): string {
    return this.paths[file.id] ?? file.path;
  }

  /** Bumped by every `invalidate`; `changedAt` is when each path last changed, `allChangedAt` when everything did. */
  private stamp = 0;
  private readonly changedAt = new Map<string, number>();
  private allChangedAt = 0;

  /** The current change stamp, for `changedSince`. */
  get changeStamp(): number {
    return this.stamp;
  }

  /** Whether a file other than `except` changed, appeared or disappeared (was invalidated) after `stamp`. */
  changedSince(stamp: number, except: string): boolean {
    if (this.allChangedAt > stamp) return true;
    for (const [path, at] of this.changedAt) if (at > stamp && path !== except) return true;
    return false;
  }

  /** Forget what was read of a path (it changed on disk, or its editor buffer did). */
  invalidate(path?: string): void {
    this.stamp++;
    if (path === undefined) this.allChangedAt = this.stamp;
    else this.changedAt.set(path, this.stamp);
    this.forgetResolutions();
    if (path === undefined) {
      this.texts.clear();
      return;
    }
    this.texts.delete(path);
  }

  /**
   * The source file of a path with this text (for a document whose text the caller holds); a
   * notebook's path with its cells' Python gives `language`, since its name says no language.
   */
  sourceFile(path: string, text: string, language: LanguageId | undefined = languageForPath(path)): SourceFile | undefined {
    return language && makeSourceFile(this.idOf(path), path, text, language);
  }

  /** Keep a parse the caller made (an open document parsed incrementally), so programs reuse it. */
  adopt(parsed: ParsedFile): void {
    const path = parsed.file.path;
    this.parsed.delete(path);
    this.parsed.set(path, parsed);
    const known = this.texts.get(path);
    // Read as missing: resolutions that probed it no longer hold. Never read: nothing depended on it.
    if (known === null) this.forgetResolutions();
    else if (known !== undefined && (known !== parsed.text || (this.shared?.parsedById(parsed.file.id) ?? parsed) !== parsed)) this.shared = undefined;
    this.texts.set(path, parsed.text);
  }

  /** A file changed, appeared or disappeared: what resolved imports, and the program built on it, no longer hold. */
  private forgetResolutions(): void {
    this.pythonModules.clear();
    this.pythonModulesByFile.clear();
    this.asked.clear();
    this.sourceTrees.clear();
    this.pageFolders.clear();
    this.classicScripts.clear();
    this.shared = undefined;
  }

  /** The kept parse of a path when it was made from this text (the CLI's entry file, often loaded as another file's import first). */
  keptParse(path: string, text: string): ParsedFile | undefined {
    const known = this.parsed.get(path);
    if (!known || known.text !== text) return undefined;
    this.parsed.delete(path);
    this.parsed.set(path, known);
    return known;
  }

  /** The parsed file at a path, read through the host; undefined when it is missing, binary, too large or not source. */
  load(path: string): ParsedFile | undefined {
    const text = this.read(path);
    if (text === undefined) return undefined;
    const known = this.keptParse(path, text);
    if (known) return known;
    const file = this.sourceFile(path, text);
    if (!file) return undefined;
    let parsed: ParsedFile;
    try {
      parsed = parseFile(file);
    } catch (error) {
      if (!(error instanceof ParseGaveUp)) throw error;
      this.texts.set(path, null); // an import that cannot be parsed is read as a missing one
      this.forgetResolutions();
      return undefined;
    }
    this.parsed.delete(path);
    this.parsed.set(path, parsed);
    for (const old of this.parsed.keys()) {
      if (this.parsed.size <= this.maxKeptFiles) break;
      this.parsed.delete(old);
    }
    return parsed;
  }

  private read(path: string): string | undefined {
    this.asking?.add(path);
    let text = this.texts.get(path);
    if (text === undefined) {
      const read = this.host.readFile(path);
      text = read === undefined || read.length > this.maxFileSize || looksBinary(read) ? null : read.charCodeAt(0) === 0xfeff ? ' ' + read.slice(1) : read;
      this.texts.set(path, text);
    }
    return text ?? undefined;
  }

  private exists(path: string): boolean {
    return this.read(path) !== undefined;
  }

  // ---------------------------------------------------------------- files that mention a word

  /** Source paths of the project by language family and starting folder, with the folders listed for them (`sourceTree`), until a file appears or disappears. */
  private readonly sourceTrees = new Map<string, { paths: string[]; listed: string[] }>();

  /**
   * The project files of `from`'s language family (Python, or TS/JS) whose text `pattern` matches,
   * parsed (`from` itself included when it matches): where the files that derive from a class of
   * `from` may be, which no import of `from` reaches. Read from the host's folder listings: the
   * outermost package `from` is in (or its folder) first, then the rest of the project, at most
   * `MAX_SCANNED_FILES` files. Every file read is recorded as a dependency of `from`, and so is every
   * folder listed, as its path with a trailing `/` (a file that appears there later may be a
   * subclass: the CLI's cache keys the entry by the listing). Empty when the host cannot list folders.
   */
  filesMentioning(from: SourceFile, pattern: RegExp): ParsedFile[] {
    if (!this.host.listFolder) return [];
    const fromPath = this.pathOf(from);
    const python = from.language === 'python';
    const start = python ? outermostPackage(fromPath, this.root, (p) => this.exists(p)) : dirname(fromPath);
    return this.askingFrom(fromPath, () => {
      const out: ParsedFile[] = [];
      const tree = this.sourceTree(start, python);
      for (const folder of tree.listed) this.asking!.add(`${folder}/`);
      for (const path of tree.paths) {
        const text = this.read(path);
        if (text === undefined || !pattern.test(text)) continue;
        const parsed = this.load(path);
        if (parsed) out.push(parsed);
      }
      return out;
    });
  }

  /** Source files under `start`, then under the root, breadth first, skipping hidden and tool folders. */
  private sourceTree(start: string, python: boolean): { paths: string[]; listed: string[] } {
    const key = `${python ? 'py' : 'js'}\0${start}`;
    const known = this.sourceTrees.get(key);
    if (known) return known;
    const paths: string[] = [];
    const listedFolders: string[] = [];
    const list = this.host.listFolder!.bind(this.host);
    const seen = new Set<string>();
    const starts = start.startsWith(this.root) ? [start, this.root] : [this.root];
    let folders = 0;
    for (const top of starts) {
      const queue = [top];
      for (let i = 0; i < queue.length && paths.length < MAX_SCANNED_FILES && folders < MAX_SCANNED_FOLDERS; i++) {
        const dir = queue[i];
        if (seen.has(dir)) continue;
        seen.add(dir);
        folders++;
        const listed = list(dir);
        listedFolders.push(dir);
        if (!listed) continue;
        for (const name of [...listed.files].sort()) {
          const language = languageForPath(name);
          if (language && (language === 'python') === python && paths.length < MAX_SCANNED_FILES) paths.push(`${dir}/${name}`);
        }
        for (const name of [...listed.folders].sort()) if (!isDefaultExcludedFolder(name) && !name.startsWith('.')) queue.push(`${dir}/${name}`);
      }
    }
    const tree = { paths, listed: listedFolders };
    this.sourceTrees.set(key, tree);
    return tree;
  }

  // ---------------------------------------------------------------- scripts that share a page

  /** Per folder: its pages' local scripts (absolute paths, module scripts marked) and its JavaScript files, until a file appears or disappears. */
  private readonly pageFolders = new Map<string, PageFolder>();
  /** Per JavaScript path: whether it is a classic script, for `pageMates`'s folder fallback. */
  private readonly classicScripts = new Map<string, boolean>();

  /**
   * The JavaScript files that share one global scope with `from` in a browser, parsed, `from` left
   * out: the classic scripts of every page (an `.html` file in `from`'s folder or up to two folders
   * above it, inside the root) that loads `from` with `<script src>`. When no such page loads it,
   * the other scripts of its folder that no page there loads either, if `from` and they are
   * classic scripts (`isClassicScript`: no `import`, `export` or `require`): a page elsewhere, or none
   * the project holds, loads them together. Every page read and folder listed is a dependency of
   * `from`. Empty when the host cannot list folders.
   */
  pageMates(from: SourceFile): ParsedFile[] {
    if (from.language !== 'javascript') return [];
    const fromPath = this.pathOf(from);
    return this.askingFrom(fromPath, () => {
      const out: ParsedFile[] = [];
      for (const path of this.pageMateCandidates(fromPath)) {
        if (out.length >= MAX_PAGE_MATES) break;
        if (!this.isPageMate(path)) continue;
        const parsed = this.load(path);
        if (parsed) out.push(parsed);
      }
      return out;
    });
  }

  /**
   * The paths of the scripts `pageMates` gives for the JavaScript file at `path` (the language server's
   * workspace index links them, as it links imports: an edit of one lints the other again). `pagesOnly`:
   * only the scripts of pages that load it, not a folder's classic scripts (which parses them).
   */
  pageMatePaths(path: string, pagesOnly = false): string[] {
    if (languageForPath(path) !== 'javascript') return [];
    return this.askingFrom(path, () => {
      const out: string[] = [];
      for (const mate of this.pageMateCandidates(path, pagesOnly)) {
        if (out.length >= MAX_PAGE_MATES) break;
        if (this.isPageMate(mate) && this.exists(mate)) out.push(mate);
      }
      return out;
    });
  }

  private isPageMate(path: string): boolean {
    return languageForPath(path) === 'javascript' && !this.isMinified(path);
  }

  /** The scripts that share a page with `fromPath`, not yet read or checked to be JavaScript that is not minified (see `pageMates`). */
  private pageMateCandidates(fromPath: string, pagesOnly = false): string[] {
    if (!this.host.listFolder) return [];
    const dir = dirname(fromPath);
    const folders: PageFolder[] = [];
    for (let d = dir, up = 0; up <= PAGE_LEVELS_UP && (d === this.root || d.startsWith(`${this.root}/`)); d = dirname(d), up++) {
      folders.push(this.pageFolder(d));
      if (d === this.root || dirname(d) === d) break;
    }
    const mates = new Set<string>();
    let loaded = false;
    for (const folder of folders) {
      for (const page of folder.pages) {
        if (!page.some((s) => s.path === fromPath)) continue;
        loaded = true;
        for (const s of page) if (!s.module && s.path !== fromPath) mates.add(s.path);
      }
    }
    const own = folders[0];
    if (!loaded && own && !pagesOnly) {
      const onPages = new Set(folders.flatMap((f) => f.pages.flatMap((page) => page.map((s) => s.path))));
      if (own.scripts.length <= MAX_FOLDER_SCRIPTS && this.classicScript(fromPath)) {
        for (const path of own.scripts) if (path !== fromPath && !onPages.has(path) && this.classicScript(path)) mates.add(path);
      }
    }
    return [...mates];
  }

  /** A folder's pages (each the scripts it loads) and JavaScript files, read once until a file appears or disappears. */
  private pageFolder(dir: string): PageFolder {
    this.asking?.add(`${dir}/`);
    const known = this.pageFolders.get(dir);
    if (known) {
      for (const page of known.pagePaths) this.asking?.add(page);
      return known;
    }
    const listed = this.host.listFolder!(dir);
    const folder: PageFolder = { pages: [], pagePaths: [], scripts: [] };
    if (listed) {
      const names = [...listed.files].sort();
      for (const name of names) {
        if (languageForPath(name) === 'javascript') folder.scripts.push(`${dir}/${name}`);
        if (!isPagePath(name) || folder.pagePaths.length >= MAX_FOLDER_PAGES) continue;
        const path = `${dir}/${name}`;
        folder.pagePaths.push(path);
        const html = this.readPage(path);
        if (html === undefined) continue;
        folder.pages.push(pageScripts(html).map((s) => ({ path: normalize(s.src.startsWith('/') ? `${this.root}${s.src}` : `${dir}/${s.src}`), module: s.module })));
      }
    }
    this.pageFolders.set(dir, folder);
    return folder;
  }

  /** A page's text, read through the host (not kept with the sources: a page is read once per folder index). */
  private readPage(path: string): string | undefined {
    this.asking?.add(path);
    const text = this.host.readFile(path);
    return text === undefined || text.length > MAX_PAGE_SIZE ? undefined : text;
  }

  /** A minified bundle a page loads (`js/p5.min.js`): never the user's code, and the slowest kind of file to read, so never a page mate. */
  private isMinified(path: string): boolean {
    if (isMinifiedName(path)) return true;
    const text = this.read(path);
    return text !== undefined && looksMinified(text.slice(0, MINIFIED_PREFIX_BYTES));
  }

  /** Whether a JavaScript file is a classic script (`isClassicScript`), once per path until a file appears or disappears. */
  private classicScript(path: string): boolean {
    let known = this.classicScripts.get(path);
    if (known === undefined) {
      const parsed = this.load(path);
      known = parsed !== undefined && isClassicScript(parsed);
      this.classicScripts.set(path, known);
    }
    return known;
  }

  // ---------------------------------------------------------------- imports

  /** The project files a file imports (for a workspace index of who imports whom). */
  importsOf(path: string): string[] {
    const parsed = this.load(path);
    if (!parsed) return [];
    const out = new Set<string>();
    for (const imported of parsed.scopes.imports.values()) {
      const target = this.resolve(parsed.file, imported.module);
      if (!target) continue;
      out.add(target.file.path);
      // `from pkg import mod`: the submodule is imported too.
      const sub = imported.name !== undefined ? this.submodule(target, imported.name) : undefined;
      if (sub) out.add(sub.file.path);
    }
    for (const [, exported] of parsed.scopes.exports) {
      const target = exported.from && this.resolve(parsed.file, exported.from.module);
      if (target) out.add(target.file.path);
    }
    for (const module of [...parsed.scopes.starExports, ...parsed.scopes.starImports]) {
      const target = this.resolve(parsed.file, module);
      if (target) out.add(target.file.path);
    }
    out.delete(path);
    return [...out];
  }

  resolve(from: SourceFile, module: string): ParsedFile | undefined {
    return this.askingFrom(from.path, () => {
      const path = from.language === 'python' ? this.resolvePython(from.path, module) : this.resolveScript(from.path, module);
      return path !== undefined ? this.load(path) : undefined;
    });
  }

  submodule(pkg: ParsedFile, name: string): ParsedFile | undefined {
    if (pkg.language !== 'python' || !pkg.file.path.endsWith('/__init__.py')) return undefined;
    const dir = dirname(pkg.file.path);
    return this.askingFrom(pkg.file.path, () => {
      for (const suffix of PY_SUFFIXES) {
        const path = `${dir}/${name}${suffix}`;
        if (this.exists(path)) return this.load(path);
      }
      return undefined;
    });
  }

  /** The file a Python module path names, seen from `fromPath`. */
  resolvePython(fromPath: string, module: string): string | undefined {
    let byModule = this.pythonModulesByFile.get(fromPath);
    if (!byModule) this.pythonModulesByFile.set(fromPath, (byModule = new Map()));
    let known = byModule.get(module);
    if (!known) {
      const key = `${dirname(fromPath)}\0${module}`;
      known = this.pythonModules.get(key);
      if (!known) {
        const probed: string[] = [];
        const path = this.probePython(fromPath, module, probed);
        // Probing read each path, so the set asking now holds them all.
        known = { path, probed, ...(this.asking ? { replayedInto: new WeakSet([this.asking]) } : {}) };
        this.pythonModules.set(key, known);
      }
      byModule.set(module, known);
    }
    // A set of `asked` only grows (until it is dropped with this memo): paths replayed into it once are there.
    if (this.asking && !known.replayedInto?.has(this.asking)) {
      for (const path of known.probed) this.asking.add(path);
      (known.replayedInto ??= new WeakSet()).add(this.asking);
    }
    return known.path;
  }

  private probePython(fromPath: string, module: string, probed: string[]): string | undefined {
    const level = /^\.*/.exec(module)![0].length;
    const parts = module.slice(level).split('.').filter((p) => p !== '');
    let roots: string[];
    if (level > 0) {
      let dir = dirname(fromPath);
      for (let i = 1; i < level; i++) dir = dirname(dir);
      roots = [dir];
    } else {
      // sys.path as scripts see it: the script's folder, then (run from the repository) its parents
      // up to the root, the root itself and a `src/` layout.
      roots = [];
      for (let dir = dirname(fromPath); dir.length >= this.root.length && dir.startsWith(this.root); dir = dirname(dir)) {
        roots.push(dir);
        if (dir === this.root || dirname(dir) === dir) break;
      }
      if (!roots.includes(this.root)) roots.push(this.root);
      roots.push(`${this.root}/src`);
    }
    for (const root of roots) {
      const base = parts.length > 0 ? `${root}/${parts.join('/')}` : root;
      const candidates = parts.length > 0 ? PY_SUFFIXES.map((s) => base + s) : [`${base}/__init__.py`];
      for (const path of candidates) {
        probed.push(path);
        if (this.exists(path)) return path;
      }
    }
    return undefined;
  }

  /** The file a relative TS/JS specifier names, seen from `fromPath`. */
  resolveScript(fromPath: string, specifier: string): string | undefined {
    if (!specifier.startsWith('./') && !specifier.startsWith('../') && specifier !== '.' && specifier !== '..') return undefined;
    const base = normalize(`${dirname(fromPath)}/${specifier}`);
    const candidates = [base, ...TS_EXTENSIONS.map((e) => base + e), ...TS_EXTENSIONS.map((e) => `${base}/index${e}`)];
    // ESM TypeScript imports its sources by the name they compile to: `./model.js` is `./model.ts`.
    const m = /\.(m|c)?js$/.exec(base);
    if (m) {
      const stem = base.slice(0, -m[0].length);
      candidates.push(`${stem}.${m[1] ?? ''}ts`, `${stem}.tsx`);
    }
    for (const path of candidates) if (languageForPath(path) && this.exists(path)) return path;
    return undefined;
  }
}

/** A folder's pages and scripts for `pageMates`: each page is the list of local scripts it loads. */
interface PageFolder {
  pages: { path: string; module: boolean }[][];
  pagePaths: string[];
  scripts: string[];
}

/** Pages are looked for in a script's folder and this many folders above it. */
export const PAGE_LEVELS_UP = 2;
/** Most pages read per folder, and the largest page read (characters). */
const MAX_FOLDER_PAGES = 32;
const MAX_PAGE_SIZE = 512 * 1024;
/** A folder of more scripts than this is not read as one page's scripts when no page says so. */
const MAX_FOLDER_SCRIPTS = 24;
/** Most scripts that share a page with one script. */
const MAX_PAGE_MATES = 64;

/** At most this many source files and folders are listed for `filesMentioning`. */
const MAX_SCANNED_FILES = 2000;
const MAX_SCANNED_FOLDERS = 400;

/** The outermost package folder a Python file is in (folders with `__init__.py`, inside the root), or its own folder. */
function outermostPackage(path: string, root: string, exists: (p: string) => boolean): string {
  let dir = dirname(path);
  let top = dir;
  while (dir.startsWith(root) && dir !== root && exists(`${dir}/__init__.py`)) {
    top = dir;
    dir = dirname(dir);
  }
  return top;
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '.';
  return i === 0 ? '/' : path.slice(0, i);
}

/** Resolves `.` and `..` segments of a `/`-separated path. */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '.' || (part === '' && out.length > 0)) continue;
    if (part === '..' && out.length > 1) out.pop();
    else out.push(part);
  }
  return out.join('/') || '/';
}
