// The `nabla` command: parses arguments, dispatches, and returns the exit code. `runCli` touches no
// process-wide state (working folder, stdout, stderr, environment, exit code): it is given them, so
// the tests run it in-process. The binary's entry (bin.ts, bundled to dist/cli.js) wires in the process's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigResolver, formatProblem, excludeVerdict, loadConfigFile, resolveFileOptions } from '../config/projectConfig';
import { parseArgs, serverUsage, usage, UsageError, type CheckCommand } from './args';
import { CACHE_FOLDER, cacheVersion, LintCache, settingsKey, type CacheKey } from './cache';
import { githubReporter } from './format/github';
import { jsonReporter } from './format/json';
import type { Reporter, Write } from './format/reporter';
import { sarifReporter } from './format/sarif';
import { statisticsReporter } from './format/statistics';
import { textReporter } from './format/text';
import { forgetDisk, isListed, projectRootOf, type FileNotice, type FileResult, type LintFileOptions } from './lintFile';
import { mergeForeignFindings } from './merge';
import { defaultTimeoutMs, lintInOrder, type LintJob } from './parallel';
import { formatRuleList, ruleDoc } from './rules';
import { walk, type WalkItem } from './walk';

const EXIT_CLEAN = 0;
const EXIT_FINDINGS = 1;
const EXIT_ERROR = 2;

/** What a run reads and writes of its surroundings. */
export interface CliIO {
  /** The working folder: relative paths are read from it, and paths are printed relative to it. */
  cwd: string;
  stdout: Write;
  stderr: Write;
  /** `NABLA_DEBUG`, `NABLA_FILE_TIMEOUT_MS`. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Threads when `--jobs` is not given, as if the machine had this many cores (default: parallel.ts
   * decides). In-process tests give 1: worker threads started from a test cost more than its run.
   */
  defaultJobs?: number;
  /**
   * `nabla server`: serves LSP on the process's stdin and stdout until the client ends it. Only the
   * binary (bin.ts) can give it; a run without it reports that the server needs its own process.
   */
  startServer?: () => Promise<number>;
}

/** The version in package.json: beside dist/ when installed, or above out/ in a checkout. */
function readVersion(): string {
  const read = (file: string): { name?: unknown; version?: unknown } | undefined => {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    } catch {
      return undefined; // not there or not JSON
    }
  };
  // The package.json next to dist/ is ours whatever the package is published as.
  const beside = read(path.join(__dirname, '..', 'package.json'));
  if (typeof beside?.version === 'string') return beside.version;
  // Elsewhere (compiled into out/, or bundled into another tool), only trust a package named nabla.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = read(path.join(dir, 'package.json'));
    if (pkg?.name === 'nabla' && typeof pkg.version === 'string') return pkg.version;
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

function noticeLevel(notice: FileNotice): 'note' | 'warning' {
  return notice.kind === 'parse-error' ? 'note' : 'warning';
}

/** A path as the user would type it from the working folder. */
function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return (rel === '' || path.isAbsolute(rel) ? file : rel).split(path.sep).join('/');
}

function makeReporter(command: CheckCommand, writeOut: Write, cwd: string): Reporter {
  if (command.statistics) return statisticsReporter(writeOut, command.format === 'json' ? 'json' : 'text');
  switch (command.format) {
    case 'json':
      return jsonReporter(writeOut, cwd);
    case 'sarif':
      return sarifReporter(writeOut, readVersion(), cwd);
    case 'github':
      return githubReporter(writeOut);
    default:
      return textReporter(writeOut, { fixing: command.fix, cwd });
  }
}

async function check(command: CheckCommand, io: CliIO): Promise<number> {
  const { cwd, stdout: writeOut, stderr: writeErr } = io;
  const resolve = (p: string): string => path.resolve(cwd, p);
  // A run sees the disk as it is when it starts, also after an earlier run in this process.
  forgetDisk();
  if (command.config !== undefined) {
    // Named explicitly, so a missing file is the user's mistake, not a warning.
    let isFile = false;
    try {
      isFile = fs.statSync(resolve(command.config)).isFile();
    } catch {
      // reported below
    }
    if (!isFile) {
      writeErr(`nabla: error: --config: no such file: ${command.config}\n`);
      return EXIT_ERROR;
    }
    if (loadConfigFile(resolve(command.config)) === undefined) {
      writeErr(`nabla: warning: ${displayPath(resolve(command.config), cwd)} has no [tool.nabla] table; using the defaults\n`);
    }
  }
  const reporter = makeReporter(command, writeOut, cwd);
  // Problems in a project file are warnings: the run goes on with the defaults for the bad keys, and the exit status is unchanged.
  const configs = new ConfigResolver({
    explicit: command.config === undefined ? undefined : resolve(command.config),
    disabled: command.noConfig,
    onLoad: (loaded) => {
      for (const problem of loaded.problems) writeErr(`nabla: warning: ${formatProblem(displayPath(loaded.config.file, cwd), problem)}\n`);
    },
  });
  // The parsers load only when a file is linted (parallel.ts): a run answered by the cache never loads them.
  // With --fix, files change under the run: it neither reads nor writes the cache.
  const debug = /(^|,)cache(,|$)/.test(io.env.NABLA_DEBUG ?? '');
  const debugThreads = /(^|,)threads(,|$)/.test(io.env.NABLA_DEBUG ?? '');
  const cache = command.noCache || command.fix ? undefined : new LintCache(cacheVersion(readVersion()), debug ? (m) => writeErr(`nabla: debug: ${m}\n`) : undefined, isListed);
  const cacheKeys = new Map<string, CacheKey>();
  const cacheKeyOf = (absPath: string, settings: Record<string, unknown>): CacheKey => {
    const { root, marked } = projectRootOf(absPath, cwd);
    // --cache-dir, the cache-dir setting, .nabla_cache at the project root (or, with no marker above the file, in the working folder).
    const dir = command.cacheDir !== undefined ? resolve(command.cacheDir) : (configs.forPath(absPath)?.config.cacheDir ?? path.join(marked ? root : cwd, CACHE_FOLDER));
    return { dir, path: toSlashes(absPath), root, settings: settingsKey(settings) };
  };

  let filesChecked = 0;
  let filesFound = 0;
  let hadErrors = false;
  let hadFindings = false;
  let fixed = 0;
  const fix = command.fix ? (command.unsafeFixes ? 'unsafe' : 'safe') : undefined;
  const excluded = (absPath: string, isDir: boolean): boolean | undefined => {
    const config = configs.forPath(absPath)?.config;
    return config === undefined ? undefined : excludeVerdict(config, absPath, isDir);
  };

  // Files are linted on all cores (parallel.ts) and come back in walk order, so output streams deterministically.
  const toJob = (item: WalkItem): LintJob | undefined => {
    if (item.kind !== 'file') return undefined;
    const absPath = resolve(item.fsPath);
    const own = resolveFileOptions(configs.forPath(absPath)?.config, absPath, { select: command.select, ignore: command.ignore }, 'cli');
    const options: LintFileOptions = { select: own.select, ignore: own.ignore, severity: own.severity, maxFileSize: command.maxFileSize, fix, fallbackRoot: cwd };
    if (!cache) return { fsPath: item.fsPath, options };
    cacheKeys.set(item.fsPath, cacheKeyOf(absPath, { ...options }));
    return { fsPath: item.fsPath, options: { ...options, recordInputs: true } };
  };
  const lookup = cache && ((job: LintJob): FileResult | undefined => cache.lookup(cacheKeys.get(job.fsPath)!, job.options.maxFileSize));
  // Every file is linted before any is reported: a file's run can find a mistake in another file it
  // imports (a helper's sign, a base class's decay), which belongs to that file's report.
  const linted: { display: string; absPath: string; result: FileResult }[] = [];
  for await (const { item, job, result, cached } of lintInOrder(walk(command.paths, { isExcluded: excluded, forceExclude: command.forceExclude, cwd }), toJob, {
    jobs: command.jobs ?? io.defaultJobs,
    lookup,
    timeoutMs: defaultTimeoutMs(io.env),
    debug: debugThreads ? (m) => writeErr(`nabla: debug: ${m}\n`) : undefined,
  })) {
    if (item.kind === 'error') {
      writeErr(`nabla: error: ${item.message}\n`);
      hadErrors = true;
      continue;
    }
    if (item.kind === 'warning') {
      writeErr(`${item.display}: warning: ${item.message}\n`);
      continue;
    }
    if (cache && job && result && !cached) {
      cache.store(cacheKeys.get(job.fsPath)!, result, result.inputs);
      delete result.inputs;
    }
    cacheKeys.delete(item.fsPath);
    linted.push({ display: item.display, absPath: toSlashes(resolve(item.fsPath)), result: result! });
  }
  if (cache && debug) {
    const { hits, misses, written, rejected, skipped } = cache.stats;
    writeErr(`nabla: debug: cache: ${hits} hits, ${misses} misses (${rejected} entries rejected), ${written} written, ${skipped} over the size limit\n`);
  }
  const reached = mergeForeignFindings(linted, (absPath) => {
    const own = resolveFileOptions(configs.forPath(absPath)?.config, absPath, { select: command.select, ignore: command.ignore }, 'cli');
    return own.excluded ? undefined : own;
  }, cwd);

  filesFound = linted.length;
  for (const { display, result } of [...linted, ...reached]) {
    fixed += result.fixed ?? 0;
    if (result.error !== undefined) {
      writeErr(`nabla: error: cannot read ${display}: ${result.error}\n`);
      hadErrors = true;
    }
    for (const notice of result.notices) writeErr(`${display}: ${noticeLevel(notice)}: ${notice.message}\n`);
    if (result.checked) filesChecked++;
    if (result.findings.length > 0) hadFindings = true;
    reporter.file(display, result);
  }

  if (filesFound === 0 && !hadErrors) writeErr('nabla: warning: no Python, TypeScript or JavaScript files found\n');
  reporter.finish({ filesChecked, hadErrors, fixed: command.fix ? fixed : undefined });
  return hadErrors ? EXIT_ERROR : hadFindings && !command.exitZero ? EXIT_FINDINGS : EXIT_CLEAN;
}

function toSlashes(p: string): string {
  return path.sep === '\\' ? p.replace(/\\/g, '/') : p;
}

/**
 * Runs one command line (without the program name) and returns its exit code: 0 clean, 1 findings,
 * 2 an error. Output goes to `io.stdout` and `io.stderr`; an internal error is printed, never thrown.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    return await main(argv, io);
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr(`nabla: internal error: ${detail}\n`);
    return EXIT_ERROR;
  }
}

async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const { stdout: writeOut, stderr: writeErr } = io;
  let command;
  try {
    command = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    writeErr(`nabla: error: ${error.message}\nRun 'nabla --help' for usage.\n`);
    return EXIT_ERROR;
  }

  switch (command.command) {
    case 'help':
      writeOut(command.topic === 'server' ? serverUsage : usage);
      return EXIT_CLEAN;
    case 'server':
      if (!io.startServer) {
        writeErr('nabla: error: the language server needs a process of its own: run the nabla command\n');
        return EXIT_ERROR;
      }
      return io.startServer();
    case 'version':
      writeOut(`nabla ${readVersion()}\n`);
      return EXIT_CLEAN;
    case 'rules':
      writeOut(formatRuleList());
      return EXIT_CLEAN;
    case 'rule': {
      const doc = ruleDoc(command.code);
      if (!doc.ok) {
        writeErr(`nabla: error: ${doc.message}\n`);
        return EXIT_ERROR;
      }
      writeOut(doc.text);
      if (doc.missingPage) writeErr(`nabla: warning: the documentation page for ${command.code.toUpperCase()} is missing\n`);
      return EXIT_CLEAN;
    }
    case 'check':
      return check(command, io);
  }
}
