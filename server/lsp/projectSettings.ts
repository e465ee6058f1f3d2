// The project file (nabla.toml / pyproject.toml [tool.nabla], server/config/projectConfig.ts)
// layered under the VS Code settings for each document, reloaded when a config file changes.
//
// Precedence (documented in README "Project configuration"): the project file first, then the
// editor settings on top: a non-empty `nabla.select` is added to the file's `select`,
// `nabla.ignore` is added to its `ignore`, `nabla.severity` overrides per code. A file that the
// project's `exclude` covers gets no diagnostics, and neither does one a walk of its workspace folder
// leaves out by default (server/cli/walk.ts `walkExclusion`: build output, installed packages, minified
// JavaScript), as Ruff's server leaves alone what its `exclude` (defaults included) covers; the
// Output channel says why, once per file. A negated pattern (`exclude = ["!dist/"]`) brings it back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigResolver, CONFIG_FILE, formatProblem, excludeVerdict, PYPROJECT_FILE, resolveFileOptions, type LoadedConfig } from '../config/projectConfig';
import { projectRoot } from '../cli/lintFile';
import { walkExclusion, type WalkExclusion } from '../cli/walk';
import type { NablaSettings } from './settings';

/** Glob patterns of the files whose changes reload the project configuration. */
export const CONFIG_WATCH_PATTERNS = [`**/${CONFIG_FILE}`, `**/${PYPROJECT_FILE}`];

/** The local path of a `file:` URI, or undefined for other schemes (untitled, virtual files). */
export function fsPathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** Whether a changed file (by URI) is one that may hold the project configuration. */
export function isConfigUri(uri: string): boolean {
  const name = uri.replace(/[?#].*$/, '').split('/').pop() ?? '';
  return name === CONFIG_FILE || name === PYPROJECT_FILE;
}

export interface ProjectSettingsHost {
  /** Shown to the user once per distinct text (window/showWarningMessage). */
  warn(message: string): void;
  /** Written to the output channel every time a file with problems is loaded. */
  log(message: string): void;
  /** Written to the output channel once per file left out (an information, not a warning). */
  note?(message: string): void;
}

export class ProjectSettings {
  private resolver: ConfigResolver;
  private readonly shown = new Set<string>();
  private roots: string[] = [];
  /** Paths found present or absent (folder markers of `walkExclusion`), until the configuration reloads. */
  private readonly existing = new Map<string, boolean>();
  /** The project root of a file outside the workspace folders, by its folder. */
  private readonly outsideRoots = new Map<string, string>();
  /** Files whose exclusion the output channel was told about, with the reason. */
  private readonly noted = new Map<string, string>();

  constructor(private readonly host: ProjectSettingsHost) {
    this.resolver = this.createResolver();
  }

  /** Workspace folders, to show config paths relative to them. */
  setRoots(roots: readonly string[]): void {
    this.roots = [...roots];
  }

  /** A config file changed: forget everything loaded; the next lint reads the files again. */
  reload(): void {
    this.resolver = this.createResolver();
    this.existing.clear();
    this.outsideRoots.clear();
    this.noted.clear();
  }

  /** The project config for a local path, if any. */
  configFor(fsPath: string): LoadedConfig | undefined {
    return this.resolver.forPath(fsPath);
  }

  /** What the project's `exclude` says about a path, for the workspace walk: covered, brought back by `!pattern`, or no opinion (undefined). */
  excludes(fsPath: string, isDir: boolean): boolean | undefined {
    const loaded = this.configFor(fsPath);
    return loaded === undefined ? undefined : excludeVerdict(loaded.config, fsPath, isDir);
  }

  /**
   * Why a walk of the file's workspace folder (outside them: of its project root) leaves it out, or
   * undefined: what `nabla check <folder>` and Lint Workspace skip, the editor does not lint either.
   * `text`: the document's, for minified JavaScript told by its content.
   */
  leftOut(fsPath: string, text?: string): WalkExclusion | undefined {
    const root = this.walkRoot(fsPath);
    const exists = (p: string): boolean => {
      let known = this.existing.get(p);
      if (known === undefined) this.existing.set(p, (known = fs.existsSync(p)));
      return known;
    };
    return walkExclusion(fsPath, root, { isExcluded: (p, isDir) => this.excludes(p, isDir), text, exists });
  }

  /** The deepest workspace folder holding a file, else the project root the CLI gives it (lintFile.ts). */
  private walkRoot(fsPath: string): string {
    let best: string | undefined;
    for (const root of this.roots) {
      const rel = path.relative(root, fsPath);
      if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) continue;
      if (best === undefined || root.length > best.length) best = root;
    }
    if (best !== undefined) return best;
    const dir = path.dirname(fsPath);
    let root = this.outsideRoots.get(dir);
    if (root === undefined) this.outsideRoots.set(dir, (root = path.resolve(projectRoot(fsPath))));
    return root;
  }

  /** The editor settings for a document with its project file layered underneath (`text`: the open document's). */
  apply(uri: string, editor: NablaSettings, text?: string): NablaSettings {
    const fsPath = fsPathOf(uri);
    if (!fsPath) return editor;
    if (editor.enable) {
      const left = this.leftOut(fsPath, text);
      if (left !== undefined) {
        if (this.noted.get(fsPath) !== left.why) {
          this.noted.set(fsPath, left.why);
          const how = left.bringBack !== undefined ? `; to check it, bring it back with a negated pattern in the project file's exclude (exclude = ["${left.bringBack}"]), as for nabla check` : '';
          this.host.note?.(`${this.display(fsPath)} is not checked: ${left.why}, as nabla check and Lint Workspace leave it out${how}`);
        }
        return { ...editor, enable: false };
      }
      this.noted.delete(fsPath);
    }
    const loaded = this.configFor(fsPath);
    if (!loaded) return editor;
    const options = resolveFileOptions(loaded.config, fsPath, editor, 'editor');
    return {
      ...editor,
      enable: editor.enable && !options.excluded,
      select: options.select ?? [],
      ignore: options.ignore ?? [],
      severity: options.severity ?? {},
    };
  }

  private display(file: string): string {
    for (const root of this.roots) {
      const rel = path.relative(root, file);
      if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
    }
    return file;
  }

  private createResolver(): ConfigResolver {
    return new ConfigResolver({
      onLoad: (loaded) => {
        if (loaded.problems.length === 0) return;
        const lines = loaded.problems.map((problem) => formatProblem(this.display(loaded.config.file), problem));
        for (const line of lines) this.host.log(`project configuration: ${line}`);
        const more = lines.length > 1 ? ` (and ${lines.length - 1} more; see the Nabla output)` : '';
        const wholeFile = loaded.problems.some((problem) => problem.key === '');
        const message = `Nabla: ${lines[0]}${more}${wholeFile ? '' : '. These values are ignored; the rest of the file applies'}.`;
        if (this.shown.has(message)) return;
        this.shown.add(message);
        this.host.warn(message);
      },
    });
  }
}
