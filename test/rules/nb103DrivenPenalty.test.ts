// NB103 across three modules: the cost in one, the back-propagation in another, and a driver (a
// script or a notebook) that hands both the same weights and strength. The finding is reported in
// the gradient's module, from the driver's run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree, repoRoot, runCli } from '../cli/helpers';

const project = path.join(repoRoot, 'test', 'fixtures', 'projects', 'course-split-backprop', 'ex4');
const modules = Object.fromEntries(['__init__.py', 'costs.py', 'backprop.py'].map((f) => [`ex4/${f}`, fs.readFileSync(path.join(project, f), 'utf8')]));

function notebook(cells: string[]): string {
  const code = cells.map((text, i) => ({ cell_type: 'code', metadata: {}, execution_count: i + 1, outputs: [], source: text.split(/(?<=\n)/) }));
  return JSON.stringify({ cells: code, metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1);
}

interface Diagnostic {
  file: string;
  line: number;
  code: string;
  message: string;
  related: { file: string; line: number; message: string }[];
}

async function nb103(files: Record<string, string>): Promise<Diagnostic[]> {
  const dir = makeTree({ ...modules, ...files });
  const { stdout } = await runCli(['check', '.', '--no-config', '--no-cache', '--exit-zero', '--format', 'json'], dir);
  return (JSON.parse(stdout).diagnostics as Diagnostic[]).filter((d) => d.code === 'NB103');
}

const setup = 'import numpy as np\nfrom ex4.costs import nn_cost, PenalizedCost\nfrom ex4.backprop import backprop, backprop_accumulated\nX = np.random.rand(40, 4)\nY = np.eye(3)[np.random.randint(0, 3, 40)]\nthetas = [np.random.randn(5, 5), np.random.randn(3, 6)]\nlam = 1.0\n';

describe('NB103: a penalty the driver ties to a gradient in another module', () => {
  it('reports the term in the gradient module when a notebook hands the same weights and strength to the cost and to back-propagation', async () => {
    const found = await nb103({
      'ex4.ipynb': notebook([setup, 'for it in range(100):\n    J = nn_cost(thetas, X, Y, lam)\n    grads = backprop(thetas, X, Y, lam)\n    thetas = [t - 0.5 * g for t, g in zip(thetas, grads)]\n']),
    });
    assert.deepEqual(found.map((d) => [d.file, d.line]), [['ex4/backprop.py', 26]]);
    assert.match(found[0].message, /on line 18 of costs\.py.*tied by line 2 of cell 2 of ex4\.ipynb, which hands the same thetas to nn_cost\(\) and to backprop\(\)/);
    assert.deepEqual(found[0].related.map((r) => [r.file, r.line]), [['ex4/backprop.py', 25], ['ex4/costs.py', 18], ['ex4.ipynb', 9], ['ex4.ipynb', 10]]);
  });

  it('follows a cost method whose strength the notebook gives the instance it builds', async () => {
    const found = await nb103({
      'ex4.ipynb': notebook([setup, 'objective = PenalizedCost(lam)\nfor it in range(100):\n    J = objective.cost(thetas, X, Y)\n    grads = backprop_accumulated(thetas, X, Y, lam)\n    thetas = [t - 0.5 * g for t, g in zip(thetas, grads)]\n']),
    });
    assert.deepEqual(found.map((d) => [d.file, d.line]), [['ex4/backprop.py', 44]]);
  });

  it('stays silent when the notebook hands the cost other weights, or another strength', async () => {
    const found = await nb103({
      'ex4.ipynb': notebook([
        setup,
        'start = [t.copy() for t in thetas]\nJ0 = nn_cost(start, X, Y, lam)\ngrads = backprop(thetas, X, Y, lam)\n',
        'objective = PenalizedCost(0.1)\nJ = objective.cost(thetas, X, Y)\ngrads = backprop_accumulated(thetas, X, Y, lam)\n',
      ]),
    });
    assert.deepEqual(found, []);
  });
});
