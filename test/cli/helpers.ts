// Shared helpers for the CLI tests. Most run the command in this process (`runCli`: the same
// code as the binary, given a working folder, output streams and environment); the few that need
// a real process (exit status, piping, another installed version, concurrent runs, permissions)
// spawn the bundle (`spawnCli`: `node dist/cli.js`, so run `npm run build` first). Temporary
// trees live under os.tmpdir() and are removed afterwards.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { runCli as runInProcess } from '../../server/cli/main';

/** The repository root, from out/test/cli. */
export const repoRoot = path.resolve(__dirname, '../../..');
export const cliPath = path.join(repoRoot, 'dist', 'cli.js');

export const PY_BUG = ['import numpy as np', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + reg * np.sum(W * W))', '    return W', ''].join('\n');
export const PY_OK = ['import numpy as np', 'def step(W, dW, lr, reg):', '    W -= lr * (dW + 2 * reg * W)', '    return W', ''].join('\n');
export const PENALTY = 'reg * np.sum(W * W)';
/** Where the NB101 finding in PY_BUG starts (1-based) and ends (exclusive end column). */
export const PY_BUG_AT = { line: 3, column: 21, endLine: 3, endColumn: 21 + PENALTY.length };

export const TS_BUG = [
  'function step(w, g, lr, reg) {',
  '  w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));',
  '  return w;',
  '}',
  '',
].join('\n');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `nabla ARGS` run in this process, from the folder `cwd`; `env` is added to this process's
 * environment. Exit status and output are what the binary gives (binary.test.ts checks a sample
 * against `spawnCli`). Without `--jobs` it lints in this thread, as on one core: worker threads
 * started here would cost more than the run (the same output on workers is checked by
 * parallel.test.ts and the cache tests, with `--jobs 2`).
 */
export async function runCli(args: string[], cwd: string = repoRoot, env?: Record<string, string>): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const status = await runInProcess(args, {
    cwd,
    stdout: (chunk) => void (stdout += chunk),
    stderr: (chunk) => void (stderr += chunk),
    env: env ? { ...process.env, ...env } : process.env,
    defaultJobs: 1,
  });
  return { status, stdout, stderr };
}

export interface SpawnOptions {
  /** Run as another user (only root can), e.g. to test permission errors. */
  uid?: number;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** Another copy of the bundle (e.g. installed as another version). */
  cli?: string;
}

/** `node dist/cli.js ARGS` in a process of its own, from the folder `cwd`. */
export function spawnCli(args: string[], cwd: string = repoRoot, options: SpawnOptions = {}): RunResult {
  const cli = options.cli ?? cliPath;
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 60000, uid: options.uid, env: options.env ? { ...process.env, ...options.env } : undefined });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like `spawnCli`, without waiting: for runs that must overlap. */
export function spawnCliAsync(args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const tempDirs: string[] = [];

/** Writes `files` (relative path → content) into a fresh temporary folder and returns it. */
export function makeTree(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-cli-'));
  tempDirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return dir;
}

export function removeTrees(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}
// Also when mocha ends early (--bail, --exit, a crash elsewhere), so /tmp does not fill up.
process.on('exit', removeTrees);

/** The JSON output's diagnostics as `file:line:col code`, for compact assertions. */
export function summarize(diagnostics: { file: string; line: number; column: number; code: string }[]): string[] {
  return diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`);
}
