// Entry point of the `nabla` command (bundled to dist/cli.js): runs the command line with this
// process's working folder, output and environment, and sets process.exitCode rather than calling
// process.exit(), so piped output is never cut off.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runCli } from './main';
import { isLintWorker } from './parallel';

/**
 * `nabla server`: loads the language server's own bundle (dist/server.js, beside this one wherever the
 * package is installed) as if it had been started with `--stdio`, so the connection is on stdin and
 * stdout and console output goes to the client's log, not into the protocol. It never settles: the
 * server exits the process when the client sends `exit` or closes stdin.
 */
function startServer(): Promise<number> {
  // The bundle in dist/; compiled by tsc (out/server/cli), the server's compiled entry.
  const candidates = [path.join(__dirname, 'server.js'), path.join(__dirname, '..', 'lsp', 'main.js')];
  const entry = candidates.find((file) => fs.existsSync(file));
  if (entry === undefined) {
    process.stderr.write(`nabla: error: the language server is missing (looked for ${candidates[0]})\n`);
    return Promise.resolve(2);
  }
  process.argv = [process.argv[0], entry, '--stdio'];
  require(entry);
  return new Promise<number>(() => undefined);
}

/**
 * V8 considers optimizing a function each time about 66 KB of its bytecode has run
 * (`--interrupt-budget`). A lint run is short, and much of a fresh process's extra CPU is TurboFan
 * compiling, on background threads, functions that have run only a little, then compiling them
 * again after a deoptimization (a node shape their first feedback had not seen). With sixteen times
 * the budget, functions are optimized later, on steadier type feedback, and fewer are optimized at
 * all: four times saved 9 % of CPU on the bench corpus and 14 % on real code (stop 21); sixteen saves
 * another 12–17 % on the 28 labelled repositories (stop 42; bench/results/ANALYSIS.md). V8's flags
 * are the process's, so the lint workers (and `nabla server`) share it; set once, here, before any lint.
 * (`--single-threaded-gc` cannot be set this way: V8 aborts at the next full collection.)
 */
function tuneV8ForShortRuns(): void {
  setFlagsFromString('--interrupt-budget=1081344');
}

// A lint worker thread (parallel.ts) loads this same bundle: it serves files, it runs no command.
if (!isLintWorker) {
  tuneV8ForShortRuns();
  // `nabla check . | head` closes stdout early: stop quietly instead of crashing with EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  void runCli(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (chunk) => void process.stdout.write(chunk),
    stderr: (chunk) => void process.stderr.write(chunk),
    env: process.env,
    startServer,
  }).then((code) => {
    process.exitCode = code;
  });
}
