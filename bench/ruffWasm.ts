// A peer for the CLI benchmark (run by bench/run.ts as a child process, timed like `nabla check`):
// Ruff compiled to WebAssembly (@astral-sh/ruff-wasm-nodejs) with its default rules, checking every
// Python file under a folder in one Node process. The same runtime as Nabla and a linter people run
// on every save, so it is the fairest peer. Prints the number of files and diagnostics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

function pythonFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) pythonFiles(full, out);
    else if (entry.name.endsWith('.py')) out.push(full);
  }
  return out;
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: node out/bench/ruffWasm.js <folder>');
const workspace = new Workspace(Workspace.defaultSettings(), PositionEncoding.Utf16);
let diagnostics = 0;
const files = pythonFiles(dir).sort();
for (const file of files) diagnostics += (workspace.check(fs.readFileSync(file, 'utf8')) as unknown[]).length;
process.stdout.write(`ruff ${Workspace.version()}: ${files.length} files, ${diagnostics} diagnostics\n`);
