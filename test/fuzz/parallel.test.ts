// The CLI on worker threads (server/cli/parallel.ts): the same output as one thread, in walk order,
// and a file over the per-file time bound is skipped with a clear message while the run goes on.
// The runs on workers are the real binary's, in processes of their own (its workers load the bundle).
import * as assert from 'node:assert/strict';
import { DEFAULT_PARALLEL_THRESHOLD } from '../../server/cli/parallel';
import { makeTree, PY_BUG, PY_OK, removeTrees, runCli, spawnCli, TS_BUG } from '../cli/helpers';

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

  it('prints the same output in the same order with --jobs 2 as with --jobs 1', async () => {
    const dir = makeTree(files);
    for (const format of ['text', 'json']) {
      const one = await runCli(['check', '--jobs', '1', '--no-cache', '--format', format, '.'], dir);
      const two = spawnCli(['check', '--jobs', '2', '--no-cache', '--format', format, '.'], dir);
      assert.equal(one.status, 1);
      assert.equal(two.status, one.status);
      assert.equal(two.stdout, one.stdout);
      assert.equal(two.stderr, one.stderr);
    }
  });

  it('skips a file that takes longer than the per-file bound, says so, and goes on', () => {
    // Every file times out, and each costs a fresh worker: just enough files to start workers.
    const dir = makeTree(Object.fromEntries(Object.entries(files).slice(0, DEFAULT_PARALLEL_THRESHOLD + 1)));
    const { stderr, status } = spawnCli(['check', '--jobs', '2', '.'], dir, { env: { NABLA_FILE_TIMEOUT_MS: '1' } });
    assert.match(stderr, /pkg0\/step_00\.py: warning: skipped: checking took longer than 1 ms, the per-file limit/);
    assert.ok(status === 0 || status === 1, `exit status ${status}`);
  });

  it('rejects a bad --jobs', async () => {
    const dir = makeTree({ 'a.py': PY_OK });
    const { status, stderr } = await runCli(['check', '--jobs', '0', '.'], dir);
    assert.equal(status, 2);
    assert.match(stderr, /--jobs needs a number of threads from 1 to 256/);
  });
});
