// The LaTeX-in-comments injection grammars, tokenized by vscode-textmate + vscode-oniguruma (the
// engine VS Code uses) and injected as package.json's contributes.grammars says. The host grammars
// are small stand-ins that reproduce the scopes and begin/end shapes of VS Code's Python
// (MagicPython) and TypeScript grammars for comments, docstrings and strings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as vsctm from 'vscode-textmate';

const root = path.resolve(__dirname, '../../..');
const INLINE = 'markup.math.inline.nabla';
const BLOCK = 'markup.math.block.nabla';

interface GrammarContribution {
  scopeName: string;
  path: string;
  injectTo?: string[];
}

const PYTHON = {
  scopeName: 'source.python',
  patterns: [{ include: '#docstring' }, { include: '#comment' }, { include: '#string' }],
  repository: {
    docstring: { name: 'string.quoted.docstring.multi.python', begin: `(\\'\\'\\'|\\"\\"\\")`, end: '(\\1)' },
    comment: { name: 'comment.line.number-sign.python', begin: '(\\#)', beginCaptures: { 1: { name: 'punctuation.definition.comment.python' } }, end: '($)' },
    string: { name: 'string.quoted.single.python', begin: `(['"])`, end: '(\\1)|((?<!\\\\)\\n)' },
  },
};

function typescript(scopeName: string, suffix: string): object {
  return {
    scopeName,
    patterns: [{ include: '#comment' }, { include: '#string' }],
    repository: {
      comment: {
        patterns: [
          { name: `comment.block.documentation.${suffix}`, begin: '/\\*\\*(?!/)', end: '\\*/' },
          { name: `comment.block.${suffix}`, begin: '/\\*', end: '\\*/' },
          { name: `comment.line.double-slash.${suffix}`, begin: '(^[ \\t]+)?((//))', end: '(?=$)' },
        ],
      },
      string: { name: `string.template.${suffix}`, begin: '`', end: '`' },
    },
  };
}

const HOSTS: Record<string, object> = {
  'source.python': PYTHON,
  'source.ts': typescript('source.ts', 'ts'),
  'source.tsx': typescript('source.tsx', 'tsx'),
  'source.js': typescript('source.js', 'js'),
  'source.js.jsx': typescript('source.js.jsx', 'js.jsx'),
};

let registry: vsctm.Registry;
let contributions: GrammarContribution[];

async function tokenize(scopeName: string, text: string): Promise<{ text: string; scopes: string[] }[]> {
  const grammar = await registry.loadGrammar(scopeName);
  assert.ok(grammar, scopeName);
  const tokens: { text: string; scopes: string[] }[] = [];
  let stack = vsctm.INITIAL;
  for (const line of text.split('\n')) {
    const result = grammar.tokenizeLine(line, stack);
    for (const t of result.tokens) tokens.push({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    stack = result.ruleStack;
  }
  return tokens;
}

/** The scopes over all of `needle` (which must lie within tokens of one line). */
async function scopesOf(scopeName: string, text: string, needle: string): Promise<Set<string>> {
  const tokens = await tokenize(scopeName, text);
  const joined = tokens.map((t) => t.text).join('\u0000');
  const flat = tokens.map((t) => t.text).join('');
  const at = flat.indexOf(needle);
  assert.ok(at >= 0, `${needle} in ${text}`);
  let offset = 0;
  let common: Set<string> | undefined;
  for (const t of tokens) {
    const start = offset;
    offset += t.text.length;
    if (offset <= at || start >= at + needle.length || t.text.length === 0) continue;
    common = common ? new Set(t.scopes.filter((s) => common!.has(s))) : new Set(t.scopes);
  }
  assert.ok(common, joined);
  return common;
}

async function has(scopeName: string, text: string, needle: string, scope: string): Promise<void> {
  const scopes = await scopesOf(scopeName, text, needle);
  assert.ok(scopes.has(scope), `${JSON.stringify(needle)} should be ${scope}: ${[...scopes].join(' ')}`);
}

async function hasNot(scopeName: string, text: string, needle: string, ...forbidden: string[]): Promise<void> {
  const scopes = await scopesOf(scopeName, text, needle);
  for (const scope of forbidden) assert.ok(!scopes.has(scope), `${JSON.stringify(needle)} should not be ${scope}: ${[...scopes].join(' ')}`);
}

describe('syntaxes: LaTeX in comments and docstrings', () => {
  before(async () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    contributions = manifest.contributes.grammars;
    const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) => {
        const contribution = contributions.find((c) => c.scopeName === scopeName);
        if (contribution) {
          const file = path.join(root, contribution.path);
          return vsctm.parseRawGrammar(readFileSync(file, 'utf8'), file);
        }
        const host = HOSTS[scopeName];
        return host ? vsctm.parseRawGrammar(JSON.stringify(host), `${scopeName}.json`) : null;
      },
      getInjections: (scopeName: string) => contributions.filter((c) => c.injectTo?.includes(scopeName)).map((c) => c.scopeName),
    });
  });

  it('is valid JSON, registered with injectTo for Python, TS, TSX, JS and JSX, with regexes Oniguruma compiles', () => {
    const nabla = contributions.filter((c) => c.scopeName.startsWith('nabla.'));
    assert.ok(nabla.length >= 1);
    for (const c of nabla) {
      const grammar = JSON.parse(readFileSync(path.join(root, c.path), 'utf8'));
      assert.equal(grammar.scopeName, c.scopeName);
      assert.match(grammar.injectionSelector, /L:comment/);
      assert.deepEqual([...c.injectTo!].sort(), Object.keys(HOSTS).sort());
      const regexes: string[] = [];
      JSON.stringify(grammar, (key, value) => {
        if (['match', 'begin', 'end', 'while'].includes(key) && typeof value === 'string') regexes.push(value);
        return value;
      });
      assert.ok(regexes.length > 0);
      for (const re of regexes) assert.doesNotThrow(() => new oniguruma.OnigScanner([re]).dispose(), re);
    }
  });

  it('scopes $…$ and $$…$$ in Python comments', async () => {
    const line = String.raw`W -= lr * (dW + 2 * reg * W)  # gradient of $\lambda\sum W^2$ is $$2\lambda W$$`;
    await has('source.python', line, String.raw`$\lambda\sum W^2$`, INLINE);
    await has('source.python', line, String.raw`$$2\lambda W$$`, BLOCK);
    await has('source.python', line, String.raw`\lambda\sum W^2`, 'comment.line.number-sign.python');
    await hasNot('source.python', line, 'W -= lr', INLINE, BLOCK);
  });

  it('scopes display math across lines in a docstring, and leaves prices alone', async () => {
    const text = ['def step(W, dW):', '    """Plain SGD with L2.', '', '    $$', String.raw`    W \leftarrow W - \eta(\nabla L + 2\lambda W)`, '    $$', '    Costs $5 and $10, or $ x $.', '    """', '    return W'].join('\n');
    await has('source.python', text, String.raw`W \leftarrow W - \eta(\nabla L + 2\lambda W)`, BLOCK);
    await has('source.python', text, String.raw`W \leftarrow W - \eta(\nabla L + 2\lambda W)`, 'string.quoted.docstring.multi.python');
    await hasNot('source.python', text, 'Costs $5 and $10, or $ x $.', INLINE, BLOCK);
    await hasNot('source.python', text, 'return W', INLINE, BLOCK, 'string.quoted.docstring.multi.python');
  });

  it('never lets an unclosed $$ run past its comment or docstring', async () => {
    await hasNot('source.python', '"""Broken $$ x"""\nreturn W', 'return W', BLOCK, 'string.quoted.docstring.multi.python');
    await hasNot('source.python', '# broken $$ x\nreturn W', 'return W', BLOCK, 'comment.line.number-sign.python');
    await hasNot('source.ts', '/* broken $$ x */ const y = 1;', 'const y = 1;', BLOCK, 'comment.block.ts');
    await hasNot('source.ts', '// broken $$ x\nconst y = 1;', 'const y = 1;', BLOCK, 'comment.line.double-slash.ts');
  });

  it('ignores $ in ordinary strings and code', async () => {
    await hasNot('source.python', 's = "$x$"', '$x$', INLINE);
    await hasNot('source.ts', 'const s = `${a}$b$`;', '$b$', INLINE);
  });

  for (const scope of ['source.ts', 'source.tsx', 'source.js', 'source.js.jsx']) {
    it(`scopes math in ${scope} line, block and JSDoc comments`, async () => {
      await has(scope, String.raw`w -= lr * (g + 2 * lam * w); // $\eta\,2\lambda w$`, String.raw`$\eta\,2\lambda w$`, INLINE);
      await has(scope, String.raw`/* $a \$ b$ */`, String.raw`$a \$ b$`, INLINE);
      const jsdoc = ['/**', ' * Update:', ' * $$', String.raw` * W \leftarrow (1-\eta\lambda)W`, ' * $$', ' */', 'export const x = 1;'].join('\n');
      await has(scope, jsdoc, String.raw`W \leftarrow (1-\eta\lambda)W`, BLOCK);
      await hasNot(scope, jsdoc, 'export const x = 1;', BLOCK, INLINE);
    });
  }
});
