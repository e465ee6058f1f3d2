// Loaded first in each of mocha's worker processes (.mocharc.cjs `require`), for `npm test`'s speed;
// it changes no test's outcome.
//
// - V8 optimizes a function each time about 66 KB of its bytecode has run (`--interrupt-budget`).
//   A test file runs many short, different lints: with the default budget much of a worker's CPU
//   is TurboFan compiling functions that have run a little, and compiling them again after a
//   deoptimization. The CLI sets a budget four times the default for the same reason
//   (server/cli/bin.ts); the tests take sixteen times: 20 to 35 % less CPU per test file
//   (bench/results/ANALYSIS.md, stop 42). NABLA_TEST_INTERRUPT_BUDGET=default keeps V8's own.
// - The processes the tests spawn (the CLI, the language servers, Neovim's server) load
//   scripts/codeCache.cjs first, a V8 code cache for the 3 MB bundles in dist/.
'use strict';
const path = require('node:path');
const v8 = require('node:v8');

const budget = process.env.NABLA_TEST_INTERRUPT_BUDGET ?? '1081344';
if (budget !== 'default') v8.setFlagsFromString(`--interrupt-budget=${Number(budget)}`);
// Sparkplug, V8's baseline compiler, for every function from its first call rather than after a
// while in the interpreter. NABLA_TEST_SPARKPLUG=default keeps V8's own.
if (process.env.NABLA_TEST_SPARKPLUG !== 'default') v8.setFlagsFromString('--always-sparkplug');

const codeCache = path.join(__dirname, 'codeCache.cjs');
if (!(process.env.NODE_OPTIONS ?? '').includes(codeCache)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(codeCache)}`.trim();
}
