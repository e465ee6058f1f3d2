// ARCHITECTURE.md: "engine data becomes LSP data only in convert.ts". A grep over server/lsp/:
// no other file builds a Diagnostic, a Range literal, related information or a Hover, nor names the
// LSP enums those need.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './lspClient';

const LSP_DIR = path.join(repoRoot, 'server', 'lsp');

/** What building LSP diagnostic or hover data looks like in source. */
const CONSTRUCTS: [string, RegExp][] = [
  ['a Range literal', /\{\s*start:\s*\{\s*line\s*:/],
  ['a typed Diagnostic literal', /:\s*Diagnostic(\[\])?\s*=\s*[{[]/],
  ['a diagnostic severity or tag', /\bDiagnostic(Severity|Tag)\./],
  ['related information', /\blocation:\s*\{\s*uri\b/],
  ['a code description', /\bcodeDescription:\s*\{/],
  ['hover contents', /\bcontents:\s*\{\s*kind:/],
  ['a markup kind', /\bMarkupKind\./],
];

describe('lsp architecture: convert.ts is the only place engine data becomes LSP data', function () {
  it('no other server/lsp file builds diagnostics, ranges or hovers', function () {
    const offences: string[] = [];
    for (const name of fs.readdirSync(LSP_DIR).filter((f) => f.endsWith('.ts') && f !== 'convert.ts')) {
      const lines = fs.readFileSync(path.join(LSP_DIR, name), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // comments may name them
        for (const [what, pattern] of CONSTRUCTS) if (pattern.test(line)) offences.push(`server/lsp/${name}:${i + 1}: ${what}: ${line.trim()}`);
      });
    }
    assert.deepEqual(offences, []);
  });

  it('the check sees what it looks for (convert.ts itself matches)', function () {
    const text = fs.readFileSync(path.join(LSP_DIR, 'convert.ts'), 'utf8');
    for (const [what, pattern] of CONSTRUCTS.filter(([w]) => w !== 'a typed Diagnostic literal')) assert.ok(pattern.test(text), what);
  });
});
