// A real editor other than VS Code: headless Neovim (Debian's `neovim`, installed by .ci/run)
// starts `nabla server` with its own LSP client, and the test reads what Neovim got:
// `vim.diagnostic.get()` and a hover. The file is sent with an empty language id (no filetype
// detection under `-u NONE`), so this also covers the server judging a file by its extension.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliPath, repoRoot } from '../cli/helpers';

const script = path.join(repoRoot, 'test', 'editors', 'neovim.lua');

const TRAIN = `import numpy as np


def train(X, y, W, lr=0.1, lam=0.01, epochs=10):
    for _ in range(epochs):
        dW = X.T @ (X @ W - y) / len(y)
        W -= lr * (dW + lam * np.sum(W ** 2))
    return W
`;

interface NeovimResult {
  waited: boolean;
  filetype: string;
  diagnostics: { line: number; col: number; code: string; source: string; message: string; severity: number }[];
  hover: string | null;
}

function hasNeovim(): boolean {
  return spawnSync('nvim', ['--version'], { encoding: 'utf8' }).status === 0;
}

describe('Neovim (headless) with nabla server', function () {
  this.timeout(60_000);

  /** Runs neovim.lua on TRAIN, with `init_options` when given, and returns what Neovim got. */
  function runNeovim(initOptions?: unknown): NeovimResult {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-nvim-'));
    try {
      const file = path.join(dir, 'train.py');
      const out = path.join(dir, 'out.json');
      fs.writeFileSync(file, TRAIN);
      const init = initOptions === undefined ? {} : { NABLA_NVIM_INIT: JSON.stringify(initOptions) };
      const run = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${script}`], {
        encoding: 'utf8',
        timeout: 50_000,
        env: { ...process.env, NABLA_NVIM_OUT: out, NABLA_NVIM_FILE: file, NABLA_CLI: cliPath, NABLA_NODE: process.execPath, ...init },
      });
      assert.equal(run.status, 0, `nvim exited with ${run.status}: ${run.stderr}`);
      return JSON.parse(fs.readFileSync(out, 'utf8')) as NeovimResult;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it('shows Nabla diagnostics and hovers in Neovim', function () {
    // .ci/run installs neovim; a machine without it says so here instead of failing.
    if (!hasNeovim()) this.skip();
    const result = runNeovim();
    assert.equal(result.filetype, '', 'the document is sent without a language id');
    assert.ok(result.waited, 'Neovim received diagnostics');
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.source, d.line, d.col, d.severity]),
      [['NB101', 'nabla', 6, 24, 1]],
    );
    assert.match(result.diagnostics[0].message, /penalty .* where its gradient 2·lam·W belongs/);
    assert.ok(result.hover, 'a hover came back');
    assert.match(result.hover, /Correct update: W ← W − η\(∂L\/∂W \+ 2λW\)/);
    assert.match(result.hover, /```latex\n/);
  });

  it("takes Nabla's settings from init_options (the initializationOptions)", function () {
    if (!hasNeovim()) this.skip();
    const result = runNeovim({ severity: { NB101: 'hint' } });
    assert.ok(result.waited, 'Neovim received diagnostics');
    assert.deepEqual(
      result.diagnostics.map((d) => [d.code, d.line, d.severity]),
      [['NB101', 6, 4]],
      'nabla.severity from init_options: a hint (4), not an error (1)',
    );
  });
});
