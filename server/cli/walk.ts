// File discovery for `nabla check`: expands the paths given into the files to lint, lazily,
// so linting (and text output) can start before a large tree has been listed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { isLintablePath } from './lintFile';
import { isDeclarationFile } from '../engine/languages';
import { isDefaultExcludedFolder, isMinifiedName, looksMinified, mayBeMinified, MINIFIED_PREFIX_BYTES } from '../engine/defaultExclude';

export type WalkItem =
  /** `display` is the path to print: as given, or joined to the folder as given, with `/`. */
  | { kind: 'file'; display: string; fsPath: string }
  /** A path that cannot be linted at all; main.ts prints it and exits with 2. */
  | { kind: 'error'; message: string }
  /** Something skipped that the user named explicitly, so deserves a word. */
  | { kind: 'warning'; display: string; message: string };

/**
 * `._train.py`: an AppleDouble file (a macOS resource fork copied to a filesystem without them),
 * binary metadata named after the file it belongs to. Never code, so a walk does not list it.
 */
function isAppleDouble(name: string): boolean {
  return name.startsWith('._');
}

// Git matches case-sensitively unless the filesystem is case-insensitive, which is the
// default on macOS and Windows (where `git init` sets core.ignorecase).
const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';

/** The rules of one .gitignore file; patterns are matched relative to its folder. */
interface Matcher {
  /** Absolute folder of the .gitignore, with `/` separators and no trailing slash. */
  base: string;
  ig: Ignore;
}

function toSlashes(p: string): string {
  return path.sep === '\\' ? p.replace(/\\/g, '/') : p;
}

function loadGitignore(dir: string): Matcher | undefined {
  let content: string;
  try {
    content = fs.readFileSync(path.join(dir, '.gitignore'), 'utf8');
  } catch {
    return undefined; // absent or unreadable: git ignores it too
  }
  return { base: toSlashes(dir).replace(/\/+$/, ''), ig: ignore({ ignorecase: ignoreCase }).add(content) };
}

/**
 * What one .gitignore says about a path: true (ignore), false (re-included by `!pattern`) or
 * undefined (no opinion). A verdict it inherits from a parent folder is discarded: the walk only
 * gets here when that folder was kept, by a deeper .gitignore or because the user named it.
 */
function verdict(matcher: Matcher, absPath: string, isDir: boolean): boolean | undefined {
  const rel = absPath.slice(matcher.base.length + 1);
  if (rel === '') return undefined;
  try {
    const result = matcher.ig.test(isDir ? `${rel}/` : rel);
    if (result.unignored) return false;
    if (!result.ignored) return undefined;
    const slash = rel.lastIndexOf('/');
    if (slash > 0 && matcher.ig.ignores(rel.slice(0, slash + 1))) return undefined;
    return true;
  } catch {
    return undefined; // a name `ignore` cannot express as a relative path: no opinion
  }
}

/** Like git, the deepest .gitignore with an opinion decides. */
function isIgnored(matchers: readonly Matcher[], absPath: string, isDir: boolean): boolean {
  for (let i = matchers.length - 1; i >= 0; i--) {
    const v = verdict(matchers[i], absPath, isDir);
    if (v !== undefined) return v;
  }
  return false;
}

/** .gitignore files above `dir` up to the enclosing git repository's root (none outside a repository). */
function ancestorMatchers(dir: string): Matcher[] {
  const chain: string[] = [];
  let current = path.dirname(dir);
  let child = dir;
  let repoRoot: string | undefined;
  // The folder named on the command line may itself be the repository root.
  if (fs.existsSync(path.join(dir, '.git'))) return [];
  while (current !== child) {
    chain.push(current);
    if (fs.existsSync(path.join(current, '.git'))) {
      repoRoot = current;
      break;
    }
    child = current;
    current = path.dirname(current);
  }
  if (repoRoot === undefined) return [];
  return chain
    .reverse()
    .map(loadGitignore)
    .filter((m): m is Matcher => m !== undefined);
}

/** A JavaScript file found by a walk that is minified: by its name, or by the start of its text (engine/defaultExclude.ts). */
function isMinified(absPath: string, name: string): boolean {
  if (isMinifiedName(name)) return true;
  let fd: number | undefined;
  try {
    fd = fs.openSync(absPath, 'r');
    const buffer = Buffer.alloc(MINIFIED_PREFIX_BYTES);
    const read = fs.readSync(fd, buffer, 0, MINIFIED_PREFIX_BYTES, 0);
    return looksMinified(buffer.toString('latin1', 0, read));
  } catch {
    return false; // unreadable: linting it reports why
  } finally {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // nothing to do
      }
    }
  }
}

function compareNames(a: string, b: string): number {
  // Code-unit order, not localeCompare: output must not depend on the user's locale.
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'not found';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Yields the files to lint for the paths given, in a deterministic order: the paths in the
 * order given, each folder's entries sorted by name. Each file is yielded at most once.
 */
export interface WalkOptions {
  /**
   * The project file's `exclude`: true, a folder or file it covers is not visited (files named explicitly still
   * are); false, a negated pattern (`!dist/`) brings back what the defaults leave out (engine/defaultExclude.ts);
   * undefined, no opinion.
   */
  isExcluded?: (absPath: string, isDir: boolean) => boolean | undefined;
  /** `--force-exclude`: `isExcluded` applies to the paths named explicitly too; they are skipped without a word. */
  forceExclude?: boolean;
  /** The folder relative paths are given from (default: the process's working folder). Items' `fsPath` are then absolute. */
  cwd?: string;
}

/** Whether a folder is a virtual environment or tagged as a cache: a walk does not enter it (below the folder it starts from). */
function isEnvironmentOrCache(names: (name: string) => boolean): boolean {
  return names('pyvenv.cfg') || names('CACHEDIR.TAG');
}

/** Why a walk leaves a file out (`walkExclusion`). */
export interface WalkExclusion {
  /** Why, in words: "it is in build/, a folder Nabla leaves out by default". */
  why: string;
  /** The negated `exclude` pattern that brings it back, when one does (a default's name); none for a virtual environment or cache folder, or the user's own pattern. */
  bringBack?: string;
}

/**
 * Why a walk of `root` would leave out the file at `absPath`, or undefined when it would list it: the
 * language server asks this for a document opened in the editor, which it then leaves alone, as Ruff's
 * server does with what its `exclude` covers (a walk's `--force-exclude`). The same tests as `walk`, in
 * its order, for each folder between `root` (not itself: a folder named is always entered) and the file:
 * a default-excluded name unless `isExcluded` brings it back, the project file's `exclude`, a virtual
 * environment or cache folder; then the file: `exclude`, an AppleDouble file, minified JavaScript by name
 * or by `text` (the editor's, when given). `.gitignore` is not consulted: an ignored file a user opens
 * is checked, as with Ruff. `absPath` and `root` are absolute.
 */
export function walkExclusion(absPath: string, root: string, options: { isExcluded?: WalkOptions['isExcluded']; text?: string; exists?: (p: string) => boolean } = {}): WalkExclusion | undefined {
  const rel = path.relative(root, absPath);
  // Outside `root`: `..` or `../…` (not a folder whose name starts with `..`, such as `..data/`).
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  const parts = rel.split(path.sep);
  const name = parts.pop()!;
  const exists = options.exists ?? ((p: string) => fs.existsSync(p));
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    const shown = toSlashes(path.relative(root, dir));
    const verdict = options.isExcluded?.(dir, true);
    if (isDefaultExcludedFolder(part) && verdict !== false) return { why: `it is in ${shown}/, a folder Nabla leaves out by default`, bringBack: `!${part}/` };
    if (verdict === true) return { why: `the project file's exclude covers ${shown}/` };
    if (isEnvironmentOrCache((n) => exists(path.join(dir, n)))) return { why: `it is in ${shown}/, a virtual environment or cache folder (it holds pyvenv.cfg or CACHEDIR.TAG)` };
  }
  const verdict = options.isExcluded?.(absPath, false);
  if (verdict === true) return { why: "the project file's exclude covers it" };
  if (isAppleDouble(name)) return { why: 'it is a macOS resource fork (._ file)' };
  if (verdict !== false && mayBeMinified(name)) {
    if (isMinifiedName(name)) return { why: 'it is minified JavaScript (by its name)', bringBack: `!${name}` };
    if (options.text !== undefined && looksMinified(options.text.slice(0, MINIFIED_PREFIX_BYTES))) return { why: 'it is minified JavaScript (by its content)', bringBack: `!${name}` };
  }
  return undefined;
}

export function* walk(paths: readonly string[], options: WalkOptions = {}): Generator<WalkItem> {
  const seenFiles = new Set<string>();
  // Real paths of folders already listed: stops symlink loops and double visits.
  const seenDirs = new Set<string>();

  function* visitFile(display: string, fsPath: string): Generator<WalkItem> {
    let real: string;
    try {
      real = fs.realpathSync(fsPath);
    } catch {
      real = path.resolve(fsPath);
    }
    if (seenFiles.has(real)) return;
    seenFiles.add(real);
    yield { kind: 'file', display, fsPath };
  }

  function* visitDir(display: string, absDir: string, matchers: Matcher[], explicit: boolean): Generator<WalkItem> {
    let entries: fs.Dirent[];
    try {
      const real = fs.realpathSync(absDir);
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      entries = fs.readdirSync(absDir, { withFileTypes: true });
    } catch (error) {
      yield { kind: 'error', message: `cannot read folder ${display}: ${describeError(error)}` };
      return;
    }
    // A virtual environment holds installed packages, not the user's code; a folder tagged as a
    // cache (CACHEDIR.TAG: Nabla's own under any name, --cache-dir, and other tools') holds none either.
    if (!explicit && isEnvironmentOrCache((name) => entries.some((e) => e.name === name))) return;

    if (entries.some((e) => e.name === '.gitignore')) {
      const own = loadGitignore(absDir);
      if (own) matchers = [...matchers, own];
    }
    entries.sort((a, b) => compareNames(a.name, b.name));
    for (const entry of entries) {
      const childAbs = path.join(absDir, entry.name);
      const childDisplay = path.posix.join(display, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      // Follow symlinks; some filesystems report no type at all, which needs a stat too.
      if (entry.isSymbolicLink() || (!isDir && !isFile)) {
        try {
          const stat = fs.statSync(childAbs);
          isDir = stat.isDirectory();
          isFile = stat.isFile();
        } catch {
          continue; // a dangling link is nothing to lint
        }
      }
      if (isDir) {
        if (isDefaultExcludedFolder(entry.name) && options.isExcluded?.(childAbs, true) !== false) continue;
        if (isIgnored(matchers, toSlashes(childAbs), true)) continue;
        if (options.isExcluded?.(childAbs, true) === true) continue;
        yield* visitDir(childDisplay, childAbs, matchers, false);
      } else if (isFile) {
        // Only regular files: a FIFO, socket or device is never source (and reading a FIFO blocks).
        if (!isLintablePath(entry.name) || isAppleDouble(entry.name)) continue;
        if (isIgnored(matchers, toSlashes(childAbs), false)) continue;
        const excluded = options.isExcluded?.(childAbs, false);
        if (excluded === true) continue;
        if (excluded !== false && mayBeMinified(entry.name) && isMinified(childAbs, entry.name)) continue;
        yield* visitFile(childDisplay, childAbs);
      }
    }
  }

  for (const given of paths) {
    const display = toSlashes(given);
    const fsPath = options.cwd === undefined ? given : path.resolve(options.cwd, given);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(fsPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      yield {
        kind: 'error',
        message: code === 'ENOENT' || code === 'ENOTDIR' ? `path not found: ${display}` : `cannot access ${display}: ${describeError(error)}`,
      };
      continue;
    }
    if (options.forceExclude && options.isExcluded?.(path.resolve(fsPath), stat.isDirectory()) === true) continue;
    if (stat.isDirectory()) {
      const abs = path.resolve(fsPath);
      yield* visitDir(display, abs, ancestorMatchers(abs), true);
    } else if (stat.isFile()) {
      // Named explicitly: linted even when .gitignore excludes it.
      if (!isLintablePath(given)) {
        const why = isDeclarationFile(given) ? 'a TypeScript declaration file (types only, no code that runs)' : 'not a Python, TypeScript, JavaScript or notebook file (by its extension)';
        yield { kind: 'warning', display, message: `skipped: ${why}` };
        continue;
      }
      yield* visitFile(display, fsPath);
    } else {
      yield { kind: 'warning', display, message: 'skipped: not a regular file' };
    }
  }
}
