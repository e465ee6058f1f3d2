// The project file, read by both the CLI and the language server: `nabla.toml` (top-level keys)
// or a `[tool.nabla]` table in `pyproject.toml`. The nearest one above a file applies (in one
// folder `nabla.toml` wins; a pyproject.toml without `[tool.nabla]` is passed over), as Ruff
// finds its configuration.
//
//   select = ["NB1"]                 # only these rules (codes or prefixes, or "ALL")
//   ignore = ["NB102"]               # never these
//   exclude = ["vendor/", "**/generated_*.py"]        # gitignore-style, relative to this file's folder
//   cache-dir = ".cache/nabla"       # where `nabla check` keeps its cache (default: .nabla_cache at the project root)
//   [per-file-ignores]               # gitignore-style pattern → codes
//   "tests/**" = ["NB101"]
//   [severity]
//   NB101 = "warning"
//
// Invalid values are reported (naming the file and the key) and dropped; the rest still applies.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { allRules, type Severity } from '../engine';

// smol-toml ships a CommonJS build (its `require` export), but its types are ESM-only, which a
// CommonJS file cannot import; `parse` is all Nabla uses.
const { parse: parseToml } = require('smol-toml') as { parse(text: string): unknown };

export const CONFIG_FILE = 'nabla.toml';
export const PYPROJECT_FILE = 'pyproject.toml';

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'information', 'hint'];
const KEYS = ['select', 'ignore', 'exclude', 'per-file-ignores', 'severity', 'cache-dir'] as const;

export interface ProjectConfig {
  /** Absolute path of the file it came from. */
  file: string;
  /** The folder that `exclude` and `per-file-ignores` patterns are relative to. */
  root: string;
  /** Undefined when the file does not set it (or sets it to an empty list). */
  select?: string[];
  ignore: string[];
  exclude: string[];
  perFileIgnores: { pattern: string; codes: string[] }[];
  severity: Record<string, Severity>;
  /** `cache-dir`: the CLI's cache folder, absolute (resolved against `root`). */
  cacheDir?: string;
}

export interface ConfigProblem {
  /** Where in the file, e.g. `select[1]` or `tool.nabla.severity.NB101`; empty for the whole file. */
  key: string;
  message: string;
}

export interface LoadedConfig {
  config: ProjectConfig;
  problems: ConfigProblem[];
}

/** `nabla.toml: select[1]: "NBX" is not a rule code`. */
export function formatProblem(display: string, problem: ConfigProblem): string {
  return problem.key ? `${display}: ${problem.key}: ${problem.message}` : `${display}: ${problem.message}`;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isRuleCodeOrPrefix(code: string): boolean {
  return code === 'ALL' || (/^NB\d*$/.test(code) && allRules.some((rule) => rule.meta.code.startsWith(code)));
}

function isRuleCode(code: string): boolean {
  return allRules.some((rule) => rule.meta.code === code);
}

function tomlError(error: unknown): string {
  const e = error as { message?: unknown; line?: unknown; column?: unknown };
  const first = typeof e.message === 'string' ? e.message.split('\n')[0].replace(/^Invalid TOML document: /, '') : String(error);
  return typeof e.line === 'number' && typeof e.column === 'number' ? `invalid TOML at line ${e.line}, column ${e.column}: ${first}` : `invalid TOML: ${first}`;
}

function emptyConfig(file: string): ProjectConfig {
  return { file, root: path.dirname(file), ignore: [], exclude: [], perFileIgnores: [], severity: {} };
}

/**
 * Parses a config file's text. `undefined` for a pyproject.toml without `[tool.nabla]` (it is
 * not a Nabla config). A TOML syntax error gives a config with the defaults and one problem.
 */
export function parseConfigText(text: string, file: string): LoadedConfig | undefined {
  const isPyproject = path.basename(file) === PYPROJECT_FILE;
  const prefix = isPyproject ? 'tool.nabla.' : '';
  const problems: ConfigProblem[] = [];
  const config = emptyConfig(file);
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    // A broken pyproject.toml is someone else's problem unless it has our table.
    if (isPyproject && !/^\s*\[\s*tool\s*\.\s*nabla\s*[\].]/m.test(text)) return undefined;
    return { config, problems: [{ key: '', message: `${tomlError(error)}; using the defaults` }] };
  }
  let table: unknown = data;
  if (isPyproject) {
    const tool = data.tool;
    if (!isTable(tool) || tool.nabla === undefined) return undefined;
    table = tool.nabla;
    if (!isTable(table)) return { config, problems: [{ key: 'tool.nabla', message: 'must be a table' }] };
  }
  const values = table as Record<string, unknown>;

  const codeList = (key: string, value: unknown, exact: boolean): string[] => {
    if (!Array.isArray(value)) {
      problems.push({ key: prefix + key, message: `expected a list of rule codes, e.g. ["NB101"]` });
      return [];
    }
    const codes: string[] = [];
    value.forEach((item, i) => {
      const code = typeof item === 'string' ? item.trim().toUpperCase() : undefined;
      if (code !== undefined && (exact ? isRuleCode(code) : isRuleCodeOrPrefix(code))) codes.push(code);
      else problems.push({ key: `${prefix}${key}[${i}]`, message: `${JSON.stringify(item)} is not a rule code` });
    });
    return codes;
  };

  for (const [key, value] of Object.entries(values)) {
    switch (key) {
      case 'select': {
        const codes = codeList(key, value, false);
        if (codes.length > 0) config.select = codes;
        break;
      }
      case 'ignore':
        config.ignore = codeList(key, value, false);
        break;
      case 'exclude':
        if (!Array.isArray(value)) {
          problems.push({ key: prefix + key, message: 'expected a list of glob patterns, e.g. ["vendor/"]' });
          break;
        }
        value.forEach((item, i) => {
          if (typeof item === 'string' && item.trim() !== '') config.exclude.push(item.trim());
          else problems.push({ key: `${prefix}${key}[${i}]`, message: `${JSON.stringify(item)} is not a glob pattern` });
        });
        break;
      case 'per-file-ignores':
        if (!isTable(value)) {
          problems.push({ key: prefix + key, message: 'expected a table of glob pattern = [rule codes]' });
          break;
        }
        for (const [pattern, codes] of Object.entries(value)) {
          const list = codeList(`${key}.${JSON.stringify(pattern)}`, codes, false);
          if (pattern.trim() !== '' && list.length > 0) config.perFileIgnores.push({ pattern: pattern.trim(), codes: list });
        }
        break;
      case 'severity':
        if (!isTable(value)) {
          problems.push({ key: prefix + key, message: 'expected a table of rule code = severity, e.g. NB101 = "warning"' });
          break;
        }
        for (const [code, severity] of Object.entries(value)) {
          const normalized = typeof severity === 'string' ? severity.toLowerCase() : undefined;
          if (!isRuleCode(code.toUpperCase())) problems.push({ key: `${prefix}${key}.${code}`, message: `${JSON.stringify(code)} is not a rule code` });
          else if (!SEVERITIES.includes(normalized as Severity)) {
            problems.push({ key: `${prefix}${key}.${code}`, message: `${JSON.stringify(severity)} is not one of ${SEVERITIES.join(', ')}` });
          } else config.severity[code.toUpperCase()] = normalized as Severity;
        }
        break;
      case 'cache-dir':
        if (typeof value !== 'string' || value.trim() === '') problems.push({ key: prefix + key, message: 'expected a folder path, e.g. ".cache/nabla"' });
        else config.cacheDir = path.resolve(config.root, value.trim());
        break;
      default:
        problems.push({ key: prefix + key, message: `unknown key (expected one of ${KEYS.join(', ')})` });
    }
  }
  return { config, problems };
}

/** Reads and parses a config file; a file that cannot be read becomes a problem. */
export function loadConfigFile(file: string): LoadedConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { config: emptyConfig(file), problems: [{ key: '', message: `cannot read the file (${code ?? String(error)}); using the defaults` }] };
  }
  if (path.basename(file) === PYPROJECT_FILE && !/nabla/i.test(text)) return undefined; // cheap: most pyproject.toml files are not ours
  return parseConfigText(text, file);
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface ResolverOptions {
  /** `--config PATH`: this file for every path. */
  explicit?: string;
  /** `--no-config`: no project file at all. */
  disabled?: boolean;
  /** Called once per config file when it is first loaded (to report its problems). */
  onLoad?: (loaded: LoadedConfig) => void;
}

/** Finds and caches the config for files and folders. Call `clear()` when a config file changes. */
export class ConfigResolver {
  private readonly byDir = new Map<string, LoadedConfig | null>();
  private readonly byFile = new Map<string, LoadedConfig | null>();

  constructor(private readonly options: ResolverOptions = {}) {}

  /** The config that applies to a file (or folder) at this absolute path. */
  forPath(absPath: string): LoadedConfig | undefined {
    if (this.options.disabled) return undefined;
    if (this.options.explicit) return this.load(path.resolve(this.options.explicit));
    return this.forDir(path.dirname(path.resolve(absPath)));
  }

  /** The nearest config at or above a folder. */
  forDir(dir: string): LoadedConfig | undefined {
    const chain: string[] = [];
    let found: LoadedConfig | undefined;
    for (let current = dir; ; ) {
      const cached = this.byDir.get(current);
      if (cached !== undefined) {
        found = cached ?? undefined;
        break;
      }
      chain.push(current);
      const own = this.own(current);
      if (own) {
        found = own;
        break;
      }
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
    for (const d of chain) this.byDir.set(d, found ?? null);
    return found;
  }

  clear(): void {
    this.byDir.clear();
    this.byFile.clear();
  }

  private own(dir: string): LoadedConfig | undefined {
    for (const name of [CONFIG_FILE, PYPROJECT_FILE]) {
      const file = path.join(dir, name);
      if (!isFile(file)) continue;
      const loaded = this.load(file);
      if (loaded) return loaded;
    }
    return undefined;
  }

  private load(file: string): LoadedConfig | undefined {
    const cached = this.byFile.get(file);
    if (cached !== undefined) return cached ?? undefined;
    const loaded = loadConfigFile(file);
    this.byFile.set(file, loaded ?? null);
    if (loaded) this.options.onLoad?.(loaded);
    return loaded;
  }
}

// Git matches case-insensitively on macOS and Windows; follow the walker (server/cli/walk.ts).
const ignoreCase = process.platform === 'darwin' || process.platform === 'win32';
const matchers = new WeakMap<ProjectConfig, { exclude: Ignore; perFile: { ig: Ignore; codes: string[] }[] }>();

function matchersOf(config: ProjectConfig) {
  let m = matchers.get(config);
  if (!m) {
    m = {
      exclude: ignore({ ignorecase: ignoreCase }).add(config.exclude),
      perFile: config.perFileIgnores.map(({ pattern, codes }) => ({ ig: ignore({ ignorecase: ignoreCase }).add(pattern), codes })),
    };
    matchers.set(config, m);
  }
  return m;
}

/** The path relative to the config's folder with `/`, or undefined when it is outside it. */
function relativeTo(config: ProjectConfig, absPath: string): string | undefined {
  const rel = path.relative(config.root, absPath);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

function test(ig: Ignore, rel: string, isDir: boolean): boolean {
  try {
    return ig.ignores(isDir ? `${rel}/` : rel);
  } catch {
    return false; // a name `ignore` cannot take as a relative path
  }
}

/** Whether `exclude` covers a file or folder. */
export function isExcluded(config: ProjectConfig, absPath: string, isDir = false): boolean {
  return excludeVerdict(config, absPath, isDir) === true;
}

/**
 * What `exclude` says about a file or folder for a walk: true (covered), false (a negated pattern such as
 * `!dist/` brings it back, over the default exclusions of engine/defaultExclude.ts) or undefined (no opinion).
 */
export function excludeVerdict(config: ProjectConfig, absPath: string, isDir = false): boolean | undefined {
  if (config.exclude.length === 0) return undefined;
  const rel = relativeTo(config, absPath);
  if (rel === undefined) return undefined;
  try {
    const result = matchersOf(config).exclude.test(isDir ? `${rel}/` : rel);
    return result.ignored ? true : result.unignored ? false : undefined;
  } catch {
    return undefined; // a name `ignore` cannot take as a relative path
  }
}

/** The codes `per-file-ignores` turns off for a file. */
export function perFileIgnores(config: ProjectConfig, absPath: string): string[] {
  const rel = relativeTo(config, absPath);
  if (rel === undefined) return [];
  return matchersOf(config).perFile.flatMap(({ ig, codes }) => (test(ig, rel, false) ? codes : []));
}

export interface LayerOptions {
  select?: string[];
  ignore?: string[];
  severity?: Record<string, Severity>;
}

export interface FileOptions {
  select?: string[];
  ignore?: string[];
  severity?: Record<string, Severity>;
  /** `exclude` covers the file. */
  excluded: boolean;
}

function nonEmpty(list: string[] | undefined): string[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

/**
 * The options for one file: the project file first, then the front end's own on top.
 * - `editor` (VS Code settings): a non-empty `nabla.select` is added to the file's `select`
 *   (either alone applies as is); `nabla.ignore` is added to `ignore`; `nabla.severity` overrides per code.
 * - `cli`: `--select` replaces the file's `select` (as in Ruff); `--ignore` is added to `ignore`.
 * `per-file-ignores` are added to `ignore` in both.
 */
export function resolveFileOptions(config: ProjectConfig | undefined, absPath: string | undefined, own: LayerOptions, mode: 'editor' | 'cli'): FileOptions {
  const ownSelect = nonEmpty(own.select);
  if (!config) return { select: ownSelect, ignore: nonEmpty(own.ignore), severity: own.severity, excluded: false };
  let select: string[] | undefined;
  if (mode === 'cli') select = ownSelect ?? config.select;
  else select = config.select && ownSelect ? [...new Set([...config.select, ...ownSelect])] : (config.select ?? ownSelect);
  const ignoreList = [...config.ignore, ...(own.ignore ?? []), ...(absPath ? perFileIgnores(config, absPath) : [])];
  return {
    select,
    ignore: nonEmpty([...new Set(ignoreList)]),
    severity: { ...config.severity, ...(own.severity ?? {}) },
    excluded: absPath !== undefined && isExcluded(config, absPath),
  };
}
