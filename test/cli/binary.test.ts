// The real binary (`node dist/cli.js`) in processes of their own: the few things the in-process
// runs of the other CLI tests cannot show. The exit status and output the process gives are
// those `runCli` returns, and stdout closed early (`nabla check . | head`) ends the run quietly.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cliPath, makeTree, PY_BUG, PY_OK, removeTrees, runCli, spawnCli } from './helpers';

describe('nabla binary', function () {
  this.timeout(60000);
  after(removeTrees);

  it('exits and prints as the in-process runs do: 0, 1, 2, --help, --version', async function () {
    const dir = makeTree({ 'src/bad.py': PY_BUG, 'src/good.py': PY_OK });
    const cases: [string[], number][] = [
      [['check', 'src/good.py'], 0],
      [['check', 'src', '--no-cache'], 1],
      [['check', '--format', 'json', 'src', 'missing.py', '--no-cache'], 2],
      [['check', '--bogus'], 2],
      [['--help'], 0],
      [['--version'], 0],
    ];
    for (const [args, status] of cases) {
      const spawned = spawnCli(args, dir);
      assert.equal(spawned.status, status, args.join(' '));
      assert.deepEqual(await runCli(args, dir), spawned, args.join(' '));
    }
  });

  it('stops quietly when stdout is closed early, as by `| head`', async function () {
    const dir = makeTree({ 'bad.py': PY_BUG });
    const child = spawn(process.execPath, [cliPath, 'check', '.', '--no-cache'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before anything is written: every write fails with EPIPE
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    assert.equal(stderr, '');
    assert.ok(status === 0 || status === 1, `exit status ${status}`);
  });
});
