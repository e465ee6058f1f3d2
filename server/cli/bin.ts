// Entry point of the `nabla` command (bundled to dist/cli.js): runs the command line with this
// process's working folder, output and environment, and sets process.exitCode rather than calling
// process.exit(), so piped output is never cut off.
import { runCli } from './main';
import { isLintWorker } from './parallel';

// A lint worker thread (parallel.ts) loads this same bundle: it serves files, it runs no command.
if (!isLintWorker) {
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
  }).then((code) => {
    process.exitCode = code;
  });
}
