// Shared helpers for the CLI tests: they run the real bundle (`node dist/cli.js`), so run
// `npm run build` first. Temporary trees live under os.tmpdir() and are removed afterwards.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

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

/** `uid`: run as another user (only root can), e.g. to test permission errors. `env`: added to the environment. */
export function runCli(args: string[], cwd: string = repoRoot, uid?: number, env?: Record<string, string>, cli: string = cliPath): RunResult {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 60000, uid, env: env ? { ...process.env, ...env } : undefined });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
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
