// The CLI on worker threads (server/cli/parallel.ts): the same output as one thread, in walk order,
// and a file over the per-file time bound is skipped with a clear message while the run goes on.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath, makeTree, PY_BUG, PY_OK, removeTrees, TS_BUG } from '../cli/helpers';

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('nabla check on worker threads', function () {
  this.timeout(120_000);
  after(removeTrees);

  const files: Record<string, string> = {};
  for (let i = 0; i < 24; i++) {
    const dir = `pkg${i % 3}`;
    if (i % 4 === 3) files[`${dir}/step_${String(i).padStart(2, '0')}.ts`] = TS_BUG;
    else files[`${dir}/step_${String(i).padStart(2, '0')}.py`] = i % 2 === 0 ? PY_BUG : PY_OK;
  }
  files['pkg1/broken.py'] = 'def f(:\n    W -= lr * (dW + reg * np.sum(W * W))\n';

  it('prints the same output in the same order with --jobs 2 as with --jobs 1', () => {
    const dir = makeTree(files);
    for (const format of ['text', 'json']) {
      const one = run(['check', '--jobs', '1', '--format', format, '.'], dir);
      const two = run(['check', '--jobs', '2', '--format', format, '.'], dir);
      assert.equal(one.status, 1);
      assert.equal(two.status, one.status);
      assert.equal(two.stdout, one.stdout);
      assert.equal(two.stderr, one.stderr);
    }
  });

  it('skips a file that takes longer than the per-file bound, says so, and goes on', () => {
    const dir = makeTree(files);
    const { stderr, status } = run(['check', '--jobs', '2', '.'], dir, { NABLA_FILE_TIMEOUT_MS: '1' });
    assert.match(stderr, /pkg0\/step_00\.py: warning: skipped: checking took longer than 1 ms, the per-file limit/);
    assert.ok(status === 0 || status === 1, `exit status ${status}`);
  });

  it('rejects a bad --jobs', () => {
    const dir = makeTree({ 'a.py': PY_OK });
    const { status, stderr } = run(['check', '--jobs', '0', '.'], dir);
    assert.equal(status, 2);
    assert.match(stderr, /--jobs needs a number of threads from 1 to 256/);
  });
});
