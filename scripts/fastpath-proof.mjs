// The proof that the CLI's fast path (server/engine/prefilter.ts) loses no finding: it runs
// `nabla check` with the fast path (the default) and without it (NABLA_FULL_ANALYSIS=1) over
//   - every fixture and example (test/fixtures, examples),
//   - the bench corpus (bench/corpus.ts, the seed `npm run bench` uses),
//   - and any folders given on the command line,
// and compares the findings and the notices exactly. The one difference allowed by design: a file
// the fast path skips is parsed but not lowered, so it cannot have the notice about expressions
// nested too deeply to analyse (counted and printed); its syntax-error notice is the same.
// Prints every other difference and exits 1 if there is any. Run `npm run build` first.
//
//   node scripts/fastpath-proof.mjs [--fixtures-only] [--no-corpus] [--jobs N] [FOLDER ...]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');

/** Runs the CLI over a folder, fast or full, and returns its JSON report and the CPU time it took. */
export function runCheck(folder, { full, jobs = 1 }) {
  const env = { ...process.env };
  if (full) env.NABLA_FULL_ANALYSIS = '1';
  else delete env.NABLA_FULL_ANALYSIS;
  const result = spawnSync(process.execPath, [cli, 'check', folder, '--format', 'json', '--no-cache', '--no-config', '--exit-zero', '--jobs', String(jobs)], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`nabla check ${folder} exited with ${result.status}: ${result.stderr.slice(0, 2000)}`);
  return JSON.parse(result.stdout);
}

const line = (x) => JSON.stringify(x);

/**
 * The differences between a full and a fast report: findings and notices present in one and not the
 * other (as multisets of their JSON). `skippedByFastPath(file)` says whether the fast path skips a
 * file; its notice about expressions nested too deeply (lowering's) is expected to be missing from the fast report.
 */
export function compareReports(full, fast, skippedByFastPath) {
  const differences = [];
  let droppedSyntaxNotes = 0;
  if (full.files !== fast.files) differences.push(`files checked: ${full.files} in full, ${fast.files} in fast`);
  const diff = (kind, a, b, allowed) => {
    const counts = new Map();
    for (const x of a) counts.set(line(x), (counts.get(line(x)) ?? 0) + 1);
    for (const x of b) counts.set(line(x), (counts.get(line(x)) ?? 0) - 1);
    for (const [key, n] of counts) {
      if (n === 0) continue;
      const item = JSON.parse(key);
      if (n > 0 && allowed(item)) {
        droppedSyntaxNotes += n;
        continue;
      }
      differences.push(`${kind} ${n > 0 ? 'only in the full analysis' : 'only in the fast path'}${Math.abs(n) > 1 ? ` (${Math.abs(n)}×)` : ''}: ${key}`);
    }
  };
  diff('finding', full.diagnostics, fast.diagnostics, () => false);
  diff('notice', full.notices, fast.notices, (n) => n.kind === 'parse-error' && n.message.startsWith('some expressions nest too deeply') && skippedByFastPath(n.file));
  return { differences, droppedSyntaxNotes };
}

/** The source files `nabla check` lints in a folder (its own discovery, server/cli/walk.ts), notebooks aside. */
function sourceFiles(dir) {
  const { walk } = require(path.join(root, 'out', 'server', 'cli', 'walk.js'));
  const out = [];
  for (const item of walk([dir])) if (item.kind === 'file' && !/\.ipynb$/i.test(item.fsPath)) out.push(item.fsPath);
  return out;
}

/** Runs both paths over one folder and prints what differs; returns the tallies. */
export function proveFolder(folder, { jobs = 1, log = console.log } = {}) {
  const { mayHoldTrainingMath } = require(path.join(root, 'out', 'server', 'engine', 'prefilter.js'));
  const skips = (file) => {
    try {
      return !mayHoldTrainingMath(fs.readFileSync(path.resolve(file), 'utf8'));
    } catch {
      return false;
    }
  };
  const files = sourceFiles(folder);
  const skipped = files.filter(skips).length;
  const full = runCheck(folder, { full: true, jobs });
  const fast = runCheck(folder, { full: false, jobs });
  const { differences, droppedSyntaxNotes } = compareReports(full, fast, skips);
  log(`${folder}: ${full.files} files checked, ${skipped} of ${files.length} source files (notebooks aside) skipped by the fast path; ${full.diagnostics.length} findings, ${full.notices.length} notices in full; ${droppedSyntaxNotes} nesting notes of skipped files dropped; ${differences.length === 0 ? 'identical' : `${differences.length} DIFFERENCES`}`);
  for (const d of differences) log(`  ${d}`);
  return { folder, files: full.files, sourceFiles: files.length, skipped, findings: full.diagnostics.length, notices: full.notices.length, droppedSyntaxNotes, differences };
}

function main(argv) {
  let jobs = 1;
  let fixturesOnly = false;
  let corpus = true;
  const folders = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--jobs') jobs = Number(argv[++i]);
    else if (argv[i] === '--fixtures-only') fixturesOnly = true;
    else if (argv[i] === '--no-corpus') corpus = false;
    else folders.push(path.resolve(argv[i]));
  }
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const targets = [path.join(root, 'test', 'fixtures'), path.join(root, 'examples')];
  let corpusDir;
  if (!fixturesOnly && corpus) {
    const { writeCorpus, DEFAULT_SEED } = require(path.join(root, 'out', 'bench', 'corpus.js'));
    corpusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-fastpath-corpus-'));
    writeCorpus(corpusDir, { seed: DEFAULT_SEED });
    targets.push(corpusDir);
  }
  if (!fixturesOnly) targets.push(...folders);
  let failed = false;
  try {
    for (const target of targets) if (proveFolder(target, { jobs }).differences.length > 0) failed = true;
  } finally {
    if (corpusDir) fs.rmSync(corpusDir, { recursive: true, force: true });
  }
  console.log(failed ? 'The fast path and the full analysis DIFFER.' : 'The fast path and the full analysis agree on every file.');
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
