// Command-line parsing. Hand-written so the CLI bundle has no dependencies beyond the engine;
// every mistake becomes a UsageError, which main.ts turns into exit code 2.
import { allRules, DEFAULT_MAX_FILE_SIZE } from '../engine';

export type OutputFormat = 'text' | 'json' | 'sarif';
export const outputFormats: readonly OutputFormat[] = ['text', 'json', 'sarif'];

export interface CheckCommand {
  command: 'check';
  paths: string[];
  format: OutputFormat;
  select?: string[];
  ignore?: string[];
  maxFileSize: number;
}

export type Command =
  | CheckCommand
  | { command: 'help' }
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

Options for check:
  --format FORMAT        Output format: text (default), json or sarif
  --select CODES         Run only these rules: comma-separated codes or prefixes (NB1)
  --ignore CODES         Skip these rules: comma-separated codes or prefixes
  --max-file-size BYTES  Skip files larger than this (default: ${DEFAULT_MAX_FILE_SIZE})
  --no-color             Accepted for scripts; Nabla never colors its output

Other options:
  -h, --help             Show this help
  --version              Show the version

Folders are searched recursively, skipping node_modules, .git, virtual environments,
caches and whatever .gitignore files exclude. Files named explicitly are always checked.

Exit status: 0 no problems found, 1 problems found, 2 usage error or unreadable path.
`;

// Which options take a value, and which commands accept them.
const valueOptions = new Set(['--format', '--select', '--ignore', '--max-file-size']);
const flagOptions = new Set(['--no-color', '--help', '-h', '--version']);

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
  if (flags.has('--help') || flags.has('-h')) return { command: 'help' };
  if (flags.has('--version')) return { command: 'version' };

  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('no command given (try: nabla check .)');

  if (command !== 'check') {
    const used = [...values.keys()][0];
    if (used) throw new UsageError(`option ${used} only applies to 'nabla check'`);
  }

  switch (command) {
    case 'help':
      return { command: 'help' };
    case 'rules':
      if (rest.length > 0) throw new UsageError(`'nabla rules' takes no arguments (got '${rest[0]}')`);
      return { command: 'rules' };
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
      return {
        command: 'check',
        paths: rest.length > 0 ? rest : ['.'],
        format: format as OutputFormat,
        select,
        ignore,
        maxFileSize: size === undefined ? DEFAULT_MAX_FILE_SIZE : parseSize(size),
      };
    }
    default: {
      // A bare path is the likeliest slip: suggest the command that would have worked.
      const hint = /[./\\]/.test(command) ? ` (did you mean 'nabla check ${command}'?)` : '';
      throw new UsageError(`unknown command '${command}'${hint}`);
    }
  }
}
