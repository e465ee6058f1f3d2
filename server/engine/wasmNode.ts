// Where the parser's WASM files are on disk, for Node (the CLI, the node language server, tests):
// beside the bundle (dist/wasm), or in node_modules when run unbundled. The engine reaches this
// module only when its caller gives no way to load them (`initEngine()`); a browser worker gives
// one (server/lsp/browserMain.ts), and the web bundle is built without it.
import * as fs from 'node:fs';
import * as path from 'node:path';

const grammarPackages: Record<string, string> = {
  'tree-sitter.wasm': 'web-tree-sitter',
  'tree-sitter-python.wasm': 'tree-sitter-python',
  'tree-sitter-typescript.wasm': 'tree-sitter-typescript',
  'tree-sitter-tsx.wasm': 'tree-sitter-typescript',
  'tree-sitter-javascript.wasm': 'tree-sitter-javascript',
};

/** Finds a WASM file: beside the bundle (dist/wasm), or in node_modules when run unbundled. */
function locateWasm(file: string): string {
  const candidates = [path.join(__dirname, 'wasm', file), path.join(__dirname, '..', 'wasm', file)];
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    candidates.push(path.join(dir, 'dist', 'wasm', file));
    candidates.push(path.join(dir, 'node_modules', grammarPackages[file] ?? '', file));
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  for (const candidate of candidates) if (fs.existsSync(candidate)) return candidate;
  throw new Error(`Nabla could not find ${file} (looked beside ${__dirname} and in node_modules)`);
}

/** The bytes of one of the parser's WASM files (`tree-sitter.wasm`, `tree-sitter-python.wasm`, …). */
export async function readWasm(file: string): Promise<Uint8Array> {
  return fs.readFileSync(locateWasm(file));
}
