// The type-check of `npm test` and `npm run build`: `tsc -p . --noEmit`, skipped when nothing it reads
// changed since it last passed. tsc's own incremental record (out/tsconfig.tsbuildinfo) spares it the
// checking but not the parsing of every file: about 6 s of CPU with nothing changed, where `tsc -b`
// took 0.3 s when it emitted out/. out/.typecheck-inputs.json keeps, after a check that passed, the
// size and time of each TypeScript file of client/, server/, test/ and bench/ (test/fixtures aside, as
// tsconfig.json excludes it), of tsconfig.json, package-lock.json and TypeScript's version.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** size:mtime of a file, or 'missing'. */
export function stamp(file) {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function inputsOf(root) {
  const inputs = {};
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (child !== 'test/fixtures' && entry.name !== 'node_modules') walk(child);
      } else if (/\.(ts|tsx|mts|cts)$/.test(entry.name)) inputs[child] = stamp(path.join(root, child));
    }
  };
  for (const folder of ['client', 'server', 'test', 'bench']) if (existsSync(path.join(root, folder))) walk(folder);
  for (const file of ['tsconfig.json', 'package-lock.json', 'node_modules/typescript/package.json']) inputs[file] = stamp(path.join(root, file));
  return inputs;
}

/**
 * Runs the type-check unless it passed on these very inputs. `output`: 'inherit' prints tsc's
 * output as it comes; 'buffer' keeps it in the result. Resolves { ok, skipped, output }.
 */
export function typecheck(root, output = 'inherit') {
  const record = path.join(root, 'out', '.typecheck-inputs.json');
  const inputs = inputsOf(root);
  try {
    const last = JSON.parse(readFileSync(record, 'utf8'));
    if (JSON.stringify(last) === JSON.stringify(inputs)) return Promise.resolve({ ok: true, skipped: true, output: '' });
  } catch {
    // no record: check
  }
  const require = createRequire(path.join(root, 'package.json'));
  return new Promise((resolve) => {
    let text = '';
    const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root, '--noEmit', ...(output === 'buffer' ? ['--pretty', 'false'] : [])], {
      cwd: root,
      stdio: output === 'buffer' ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (output === 'buffer') {
      tsc.stdout.setEncoding('utf8').on('data', (chunk) => (text += chunk));
      tsc.stderr.setEncoding('utf8').on('data', (chunk) => (text += chunk));
    }
    tsc.on('error', (error) => resolve({ ok: false, skipped: false, output: `tsc could not start: ${error.message}` }));
    tsc.on('close', (code) => {
      if (code === 0) {
        mkdirSync(path.dirname(record), { recursive: true });
        writeFileSync(record, JSON.stringify(inputs));
      }
      resolve({ ok: code === 0, skipped: false, output: text });
    });
  });
}
