// Command-line parsing. Hand-written so the CLI bundle has no dependencies beyond the engine;
// every mistake becomes a UsageError, which main.ts turns into exit code 2.
import { allRules, DEFAULT_MAX_FILE_SIZE } from '../engine';

export type OutputFormat = 'text' | 'json' | 'sarif' | 'github';
export const outputFormats: readonly OutputFormat[] = ['text', 'json', 'sarif', 'github'];

export interface CheckCommand {
  command: 'check';
  paths: string[];
  format: OutputFormat;
  select?: string[];
  ignore?: string[];
  maxFileSize: number;
  // The options below are present only when given, so a plain `check` stays a small object.
  /** `--fix`: apply fixes and write the files. */
  fix?: true;
  /** `--unsafe-fixes` (with --fix): apply unsafe fixes too. */
  unsafeFixes?: true;
  /** `--statistics`: counts per code instead of the findings. */
  statistics?: true;
  /** `--exit-zero`: exit 0 even when findings remain. */
  exitZero?: true;
  /** `--config PATH`: this project file for every path. */
  config?: string;
  /** `--no-config`: no project file. */
  noConfig?: true;
  /** `--jobs N`: worker threads (default: as many as the work repays, up to one per core; 1 lints in the main thread). */
  jobs?: number;
  /** `--no-cache`: neither read nor write the cache. */
  noCache?: true;
  /** `--cache-dir PATH`: the cache folder for every file. */
  cacheDir?: string;
  /** `--force-exclude`: the project file's `exclude` applies to paths named explicitly too. */
  forceExclude?: true;
}

export type Command =
  | CheckCommand
  | { command: 'help'; topic?: 'server' }
  | { command: 'server' }
  | { command: 'version' }
  | { command: 'rules' }
  | { command: 'rule'; code: string };

export class UsageError extends Error {}

export const usage = `Usage: nabla <command> [options]

Finds regularization and update-rule math mistakes in ML training code
(Python, TypeScript, JavaScript).

Commands:
  check [PATH ...]       Lint files and folders (default: the current folder)
  rules                  List every rule
  rule CODE              Show the documentation of one rule, e.g. nabla rule NB101
  server                 Start the language server on stdin/stdout, for editors other
                         than VS Code (see nabla server --help)

Options for check:
  --format FORMAT        Output format: text (default), json, sarif or github
                         (GitHub Actions workflow annotations)
  --select CODES         Run only these rules: comma-separated codes or prefixes (NB1);
                         replaces the project file's select
  --ignore CODES         Skip these rules: comma-separated codes or prefixes
  --fix                  Apply safe fixes, write the files, and report what remains
  --unsafe-fixes         With --fix: apply unsafe fixes too (they change training)
  --statistics           Print the number of findings per rule instead of the findings
  --exit-zero            Exit 0 even when findings remain
  --config PATH          Use this nabla.toml or pyproject.toml for every file
  --no-config            Ignore nabla.toml and pyproject.toml files
  --max-file-size BYTES  Skip files larger than this (default: ${DEFAULT_MAX_FILE_SIZE})
                         (a notebook: its code cells, outputs not counted)
  --jobs N               Lint on N threads (default: as many as the amount of code
                         repays, up to one per core; a small run uses one)
  --no-cache             Neither read nor write the cache (.nabla_cache at the project
                         root: an unchanged file whose imports are unchanged is not
                         checked again; --fix never uses it)
  --cache-dir PATH       Keep the cache in this folder (default: the cache-dir setting,
                         or .nabla_cache at the project root)
  --force-exclude        Skip files and folders the project file's exclude covers even
                         when named explicitly (as pre-commit names them)
  --no-color             Accepted for scripts; Nabla never colors its output

Other options:
  -h, --help             Show this help
  --version              Show the version

Folders are searched recursively for Python, TypeScript, JavaScript and Jupyter notebook
(.ipynb) files, skipping build output and installed code (build, dist, _build, venv,
node_modules, site-packages, ...: Ruff's default exclude list), caches (Nabla's own
.nabla_cache too), Jupyter checkpoints, macOS resource forks (__MACOSX, ._*), minified
JavaScript (by name or content), whatever .gitignore files exclude and the project file's
exclude patterns; a negated pattern (exclude = ["!dist/"]) brings a folder back. Files named
explicitly are always checked (with --force-exclude, unless the project file's exclude covers
them).

Settings come from the nearest nabla.toml, or pyproject.toml with a [tool.nabla] table,
above each file. Suppress a finding with '# nabla: ignore[NB101]' (Python) or
'// nabla-ignore NB101' (TypeScript/JavaScript) at the end of its line.

Exit status: 0 no problems found (or --exit-zero), 1 problems found, 2 usage error or
unreadable path.
`;

export const serverUsage = `Usage: nabla server [--stdio]

Starts Nabla's language server, the same one the VS Code extension runs, speaking the
Language Server Protocol over stdin and stdout (--stdio is accepted and changes nothing).
Point an editor's LSP client at this command: Neovim, Helix, Zed, Emacs (eglot), Sublime
Text (LSP) and others. It publishes diagnostics, answers hovers with the math of a finding
(Unicode lines and TeX) and offers code actions (fixes, ignore comments).

Documents are checked by their language id (python, typescript, typescriptreact,
javascript, javascriptreact); a document sent with an empty or unfamiliar id is checked
by its file extension (.py, .pyi, .ts, .mts, .cts, .tsx, .js, .jsx, .mjs, .cjs).
Settings come from nabla.toml or [tool.nabla] in pyproject.toml, and from the client's
'nabla' settings section (workspace/configuration) when it has one.

The server runs until the editor shuts it down or closes its stdin.
`;

// Which options take a value, and which commands accept them.
const valueOptions = new Set(['--format', '--select', '--ignore', '--max-file-size', '--config', '--jobs', '--cache-dir']);
const flagOptions = new Set(['--stdio', '--no-color', '--help', '-h', '--version', '--fix', '--unsafe-fixes', '--statistics', '--exit-zero', '--no-config', '--no-cache', '--force-exclude']);
const checkFlags = ['--fix', '--unsafe-fixes', '--statistics', '--exit-zero', '--no-config', '--no-cache', '--force-exclude'];

function matchesAnyRule(pattern: string): boolean {
  const upper = pattern.toUpperCase();
  return upper === 'ALL' || allRules.some((rule) => rule.meta.code.startsWith(upper));
}

/** Splits `NB101, NB2` into codes, rejecting any that no rule has (a typo would silently select nothing). */
function parseCodes(option: string, value: string): string[] {
  const codes = value
    .split(',')
    .map((code) => code.trim())
    .filter((code) => code !== '');
  if (codes.length === 0) throw new UsageError(`option ${option} needs at least one rule code`);
  for (const code of codes) {
    if (!matchesAnyRule(code)) {
      throw new UsageError(`${option}: no rule has the code or prefix '${code}' (run 'nabla rules' to list them)`);
    }
  }
  return codes.map((code) => code.toUpperCase());
}

function parseJobs(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) throw new UsageError(`--jobs needs a number of threads from 1 to 256, not '${value}'`);
  return Number(value);
}

function parseSize(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--max-file-size needs a whole number of bytes, not '${value}'`);
  const size = Number(value);
  if (!Number.isSafeInteger(size)) throw new UsageError(`--max-file-size is too large: ${value}`);
  return size;
}

export function parseArgs(argv: readonly string[]): Command {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  let onlyPositionals = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (valueOptions.has(name)) {
      let value: string | undefined;
      if (name !== arg) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('-')) value = argv[++i];
      if (value === undefined || value === '') throw new UsageError(`option ${name} needs a value`);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (flagOptions.has(name)) {
      if (name !== arg) throw new UsageError(`option ${name} does not take a value`);
      flags.add(name);
    } else {
      throw new UsageError(`unknown option: ${arg}`);
    }
  }

  // Help wins over everything else, so `nabla check --help` shows help instead of linting.
  if (flags.has('--help') || flags.has('-h')) return positionals[0] === 'server' ? { command: 'help', topic: 'server' } : { command: 'help' };
  if (flags.has('--version')) return { command: 'version' };

  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('no command given (try: nabla check .)');

  if (flags.has('--stdio') && command !== 'server') throw new UsageError(`option --stdio only applies to 'nabla server'`);
  if (command !== 'check') {
    const used = [...values.keys()][0] ?? checkFlags.find((flag) => flags.has(flag));
    if (used) throw new UsageError(`option ${used} only applies to 'nabla check'`);
  }

  switch (command) {
    case 'help':
      return { command: 'help' };
    case 'rules':
      if (rest.length > 0) throw new UsageError(`'nabla rules' takes no arguments (got '${rest[0]}')`);
      return { command: 'rules' };
    case 'server':
      if (rest.length > 0) throw new UsageError(`'nabla server' takes no arguments (got '${rest[0]}')`);
      return { command: 'server' };
    case 'rule':
      if (rest.length !== 1) throw new UsageError(`'nabla rule' takes exactly one rule code, e.g. nabla rule NB101`);
      return { command: 'rule', code: rest[0] };
    case 'check': {
      const format = values.get('--format')?.at(-1) ?? 'text';
      if (!(outputFormats as readonly string[]).includes(format)) {
        throw new UsageError(`unknown format '${format}' (expected one of: ${outputFormats.join(', ')})`);
      }
      const select = values.get('--select')?.flatMap((value) => parseCodes('--select', value));
      const ignore = values.get('--ignore')?.flatMap((value) => parseCodes('--ignore', value));
      const size = values.get('--max-file-size')?.at(-1);
      const check: CheckCommand = {
        command: 'check',
        paths: rest.length > 0 ? rest : ['.'],
        format: format as OutputFormat,
        select,
        ignore,
        maxFileSize: size === undefined ? DEFAULT_MAX_FILE_SIZE : parseSize(size),
      };
      if (flags.has('--unsafe-fixes') && !flags.has('--fix')) throw new UsageError('--unsafe-fixes only applies with --fix');
      if (flags.has('--statistics') && (format === 'sarif' || format === 'github')) {
        throw new UsageError(`--statistics prints text or json, not ${format}`);
      }
      const config = values.get('--config')?.at(-1);
      if (config !== undefined && flags.has('--no-config')) throw new UsageError('--config and --no-config cannot be used together');
      if (flags.has('--fix')) check.fix = true;
      if (flags.has('--unsafe-fixes')) check.unsafeFixes = true;
      if (flags.has('--statistics')) check.statistics = true;
      if (flags.has('--exit-zero')) check.exitZero = true;
      if (config !== undefined) check.config = config;
      const jobs = values.get('--jobs')?.at(-1);
      if (jobs !== undefined) check.jobs = parseJobs(jobs);
      if (flags.has('--no-config')) check.noConfig = true;
      const cacheDir = values.get('--cache-dir')?.at(-1);
      if (cacheDir !== undefined && flags.has('--no-cache')) throw new UsageError('--cache-dir and --no-cache cannot be used together');
      if (flags.has('--no-cache')) check.noCache = true;
      if (cacheDir !== undefined) check.cacheDir = cacheDir;
      if (flags.has('--force-exclude')) check.forceExclude = true;
      return check;
    }
    default: {
      // A bare path is the likeliest slip: suggest the command that would have worked.
      const hint = /[./\\]/.test(command) ? ` (did you mean 'nabla check ${command}'?)` : '';
      throw new UsageError(`unknown command '${command}'${hint}`);
    }
  }
}
