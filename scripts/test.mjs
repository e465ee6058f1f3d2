// `npm test`: the build without its type-check (`scripts/build.mjs --no-typecheck`: the bundles and
// out/, transpiled file by file by TypeScript's transpileModule), then mocha (`.mocharc.cjs`, its two workers; arguments after `--`
// go to mocha) and the type-check (`tsc -p . --noEmit`) at the same time. tsc is one thread for
// about 18 s of CPU from scratch (none when nothing it reads changed: scripts/typecheck.mjs), which
// before sat alone in front of mocha's two workers with one core idle; beside them, the three
// processes keep both cores busy. At the same priority, not lower: tsc then ends early in the run
// and slows both workers alike, where a lower priority would leave most of it to run alone on one
// core after mocha. Its output is printed after mocha's. Fails when either fails.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { typecheck } from './typecheck.mjs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
    child.on('error', (error) => {
      console.error(`${path.basename(args[0] ?? command)} could not start: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const built = await run(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--no-typecheck']);
if (built !== 0) process.exit(built);

const typechecked = typecheck(root, 'buffer');
const tested = run(process.execPath, [require.resolve('mocha/bin/mocha.js', { paths: [root] }), ...process.argv.slice(2)]);

const [mocha, checked] = await Promise.all([tested, typechecked]);
if (!checked.ok) console.error(`\ntype-check (tsc -p . --noEmit) failed:\n${checked.output}`);
else console.log(`type-check (tsc -p . --noEmit): ${checked.skipped ? 'nothing changed since it passed' : 'no errors'}`);
process.exit(mocha !== 0 ? mocha : checked.ok ? 0 : 2);
