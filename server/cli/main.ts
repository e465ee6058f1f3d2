// Entry point of the `nabla` command (bundled to dist/cli.js). Parses arguments, dispatches,
// and sets process.exitCode rather than calling process.exit(), so piped output is never cut off.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine } from '../engine';
import { parseArgs, usage, UsageError, type CheckCommand } from './args';
import { jsonReporter } from './format/json';
import type { Reporter, Write } from './format/reporter';
import { sarifReporter } from './format/sarif';
import { textReporter } from './format/text';
import { lintFile, type FileNotice } from './lintFile';
import { formatRuleList, ruleDoc } from './rules';
import { walk } from './walk';

const EXIT_CLEAN = 0;
const EXIT_FINDINGS = 1;
const EXIT_ERROR = 2;

const writeOut: Write = (chunk) => void process.stdout.write(chunk);
const writeErr: Write = (chunk) => void process.stderr.write(chunk);

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

async function check(command: CheckCommand): Promise<number> {
  const version = command.format === 'sarif' ? readVersion() : '';
  const reporter: Reporter =
    command.format === 'json' ? jsonReporter(writeOut) : command.format === 'sarif' ? sarifReporter(writeOut, version) : textReporter(writeOut);
  await initEngine();

  let filesChecked = 0;
  let filesFound = 0;
  let hadErrors = false;
  let hadFindings = false;
  const options = { select: command.select, ignore: command.ignore, maxFileSize: command.maxFileSize };

  for (const item of walk(command.paths)) {
    if (item.kind === 'error') {
      writeErr(`nabla: error: ${item.message}\n`);
      hadErrors = true;
      continue;
    }
    if (item.kind === 'warning') {
      writeErr(`${item.display}: warning: ${item.message}\n`);
      continue;
    }
    filesFound++;
    // Sequential on purpose for now; lintFile is self-contained so workers can take it over.
    const result = await lintFile(item.fsPath, options);
    if (result.error !== undefined) {
      writeErr(`nabla: error: cannot read ${item.display}: ${result.error}\n`);
      hadErrors = true;
    }
    for (const notice of result.notices) writeErr(`${item.display}: ${noticeLevel(notice)}: ${notice.message}\n`);
    if (result.checked) filesChecked++;
    if (result.findings.length > 0) hadFindings = true;
    reporter.file(item.display, result);
  }

  if (filesFound === 0 && !hadErrors) writeErr('nabla: warning: no Python, TypeScript or JavaScript files found\n');
  reporter.finish({ filesChecked, hadErrors });
  return hadErrors ? EXIT_ERROR : hadFindings ? EXIT_FINDINGS : EXIT_CLEAN;
}

async function main(argv: readonly string[]): Promise<number> {
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
      writeOut(usage);
      return EXIT_CLEAN;
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
      return check(command);
  }
}

// `nabla check . | head` closes stdout early: stop quietly instead of crashing with EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_CLEAN);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    writeErr(`nabla: internal error: ${detail}\n`);
    process.exitCode = EXIT_ERROR;
  },
);
