// How `nabla check` spreads files over threads (server/cli/parallel.ts), in process: the thread
// count planned from the work, and the same results in walk order whatever the count.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { FileResult } from '../../server/cli/lintFile';
import { lintInOrder, planThreads, type LintJob, type ParallelOptions } from '../../server/cli/parallel';
import { makeTree, PY_BUG, PY_OK, removeTrees, TS_BUG } from './helpers';

const MB = 1_000_000;

describe('nabla check: how many threads', function () {
  this.timeout(120_000);
  after(removeTrees);

  describe('planThreads', () => {
    it('keeps a small run on one thread, whatever the cores', () => {
      for (const cores of [1, 2, 8, 32, 128]) {
        assert.equal(planThreads(0, cores, cores), 1);
        assert.equal(planThreads(50_000, cores, cores), 1);
        assert.equal(planThreads(300_000, cores, cores), 1);
      }
    });

    it('uses two threads on two cores for a run the size of the bench corpus (4.6 MB), and one on one core', () => {
      assert.equal(planThreads(4.6 * MB, 2, 2), 2);
      assert.equal(planThreads(4.6 * MB, 1, 1), 1);
      assert.equal(planThreads(400 * MB, 1, 1), 1);
      // Two cores barely pay for a second thread under 4 MB (each thread compiles its own code).
      assert.equal(planThreads(2 * MB, 2, 2), 1);
    });

    it('never plans more threads than cores or the cap, and never fewer for more work', () => {
      for (const cores of [2, 4, 8, 32]) {
        let previous = 1;
        for (let bytes = 0; bytes <= 500 * MB; bytes = bytes * 2 + 100_000) {
          const t = planThreads(bytes, cores, cores);
          assert.ok(t >= previous && t <= cores, `${bytes} bytes on ${cores} cores: ${t} threads after ${previous}`);
          assert.ok(planThreads(bytes, cores, 3) <= 3);
          previous = t;
        }
      }
    });

    it('stops short of 32 threads on 32 cores for the bench corpus, where starting them costs more than it saves', () => {
      const t = planThreads(4.6 * MB, 32, 32);
      assert.ok(t > 2 && t < 16, `${t} threads`);
      assert.ok(planThreads(1000 * MB, 32, 32) > 16);
    });
  });

  describe('lintInOrder', () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 24; i++) {
      const dir = `pkg${i % 3}`;
      if (i % 4 === 3) files[`${dir}/step_${String(i).padStart(2, '0')}.ts`] = TS_BUG;
      else files[`${dir}/step_${String(i).padStart(2, '0')}.py`] = i % 2 === 0 ? PY_BUG : PY_OK;
    }
    files['pkg1/broken.py'] = 'def f(:\n    W -= lr * (dW + reg * np.sum(W * W))\n';
    const names = Object.keys(files).sort();

    /** Lints the tree's files (and a non-file item between them) and returns what came back, in order, with the debug messages. */
    async function run(dir: string, options: ParallelOptions, count = names.length, list = names): Promise<{ order: string[]; results: (FileResult | undefined)[]; debug: string[] }> {
      const items = list.slice(0, count).flatMap((name, i) => (i === 5 ? ['(not a file)', name] : [name]));
      const debug: string[] = [];
      const order: string[] = [];
      const results: (FileResult | undefined)[] = [];
      const toJob = (item: string): LintJob | undefined => (item.startsWith('(') ? undefined : { fsPath: path.join(dir, item), options: { maxFileSize: 1_000_000 } });
      for await (const { item, result } of lintInOrder(items, toJob, { ...options, debug: (m) => debug.push(m) })) {
        order.push(item);
        results.push(result);
      }
      assert.deepEqual(order, items);
      return { order, results, debug };
    }

    it('lints a run planned on one thread in this thread, as --jobs 1 does (no worker to start), with the same results', async () => {
      const dir = makeTree(files);
      const here = await run(dir, { jobs: 1 });
      const planned = await run(dir, { cores: 2 });
      assert.deepEqual(planned.debug, ['threads: this thread (' + names.reduce((sum, n) => sum + Buffer.byteLength(files[n]), 0) + ' bytes waiting, 2 cores)']);
      assert.deepEqual(planned.results, here.results);
      assert.ok(here.results.some((r) => r && r.findings.length > 0));
    });

    it('keeps each file linted in this thread to its time bound, checked between the lint\'s steps', async () => {
      // Among small files, one long enough to take more than 1 ms however warm the engine and its shared program are.
      const long = Array.from({ length: 100 }, () => PY_BUG).join('\n');
      const dir = makeTree({ ...files, 'pkg0/long.py': long });
      const { results } = await run(dir, { cores: 2, timeoutMs: 1, threshold: 0 }, 6, [...names.slice(0, 5), 'pkg0/long.py']);
      const linted = results.filter((r) => r !== undefined);
      assert.equal(linted.length, 6);
      for (const r of linted) assert.ok(r.checked || r.notices.some((n) => /took longer than 1 ms/.test(n.message)));
      assert.ok(linted.some((r) => r.notices.some((n) => /took longer than 1 ms, the per-file limit/.test(n.message))));
    });

    it('stays in this thread at or below the threshold', async () => {
      const dir = makeTree(files);
      const planned = await run(dir, { cores: 8, threshold: 100 });
      assert.deepEqual(planned.debug, ['threads: this thread only (25 files to lint)']);
    });

    it('starts as many workers as the work waiting repays, with the same results in the same order', async () => {
      const dir = makeTree(files);
      const here = await run(dir, { jobs: 1 });
      // Each file counted as 1 MB: 25 MB of work on 4 cores.
      const planned = await run(dir, { cores: 4, sizeOf: () => MB });
      const workers = planThreads(25 * MB, 4, 4);
      assert.ok(workers > 1);
      assert.deepEqual(planned.debug, [`threads: ${workers} workers (25000000 bytes waiting, 4 cores)`]);
      assert.deepEqual(planned.results, here.results);
    });

    it('counts a notebook by its code cells, not its outputs', async () => {
      const plot = { output_type: 'display_data', metadata: {}, data: { 'image/png': 'iVBORw0KGgo'.repeat(300_000), 'text/plain': ['<Figure size 640x480 with 1 Axes>'] } };
      const notebook = {
        cells: [
          { cell_type: 'markdown', metadata: {}, source: ['# Training curves'] },
          { cell_type: 'code', metadata: {}, execution_count: 1, outputs: [plot], source: PY_BUG.split(/(?<=\n)/) },
          { cell_type: 'code', metadata: {}, execution_count: 2, outputs: [plot, plot], source: ['plt.plot(losses)'] },
        ],
        metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' } },
        nbformat: 4,
        nbformat_minor: 5,
      };
      const dir = makeTree({ 'curves.ipynb': JSON.stringify(notebook, null, 1), 'step.py': PY_OK, 'notes.ipynb': '{"cells": [' });
      const debug: string[] = [];
      const items = ['curves.ipynb', 'notes.ipynb', 'step.py'];
      const results: (FileResult | undefined)[] = [];
      for await (const { result } of lintInOrder(items, (item) => ({ fsPath: path.join(dir, item), options: { maxFileSize: 1_000_000 } }), { cores: 4, threshold: 0, debug: (m) => debug.push(m) })) results.push(result);
      const code = PY_BUG.length + 1 + 'plt.plot(losses)'.length + 1;
      assert.deepEqual(debug, [`threads: this thread (${code + Buffer.byteLength(PY_OK)} bytes waiting, 4 cores)`], 'the 10 MB of plots are not work; a broken notebook is none');
      assert.ok(results[0]?.findings.length, 'the notebook is linted');
    });

    it('keeps each file to its time bound when workers hold a second file ready', async () => {
      // Every file overruns a 1 ms bound, and each overrun costs a worker restart (about 0.4 s):
      // 6 files (on workers despite the threshold) are enough for two workers that each hold a second.
      const dir = makeTree(files);
      const { results } = await run(dir, { jobs: 2, timeoutMs: 1, threshold: 0 }, 6);
      const linted = results.filter((r) => r !== undefined);
      assert.equal(linted.length, 6);
      // Every file has its answer: linted within the bound, or skipped with the reason.
      for (const r of linted) assert.ok(r.checked || r.notices.some((n) => /took longer than 1 ms/.test(n.message)));
      assert.ok(linted.some((r) => r.notices.some((n) => /took longer than 1 ms/.test(n.message))));
    });
  });
});
