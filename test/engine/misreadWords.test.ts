// Valid JavaScript that tree-sitter-javascript misreads because of one word (server/engine/parseRecovery.ts):
// a JSX attribute named with a reserved word, a variable named `using`. Such a file draws no
// syntax-error notice, the rest of it is read as before, and a real syntax error in it is still
// reported where it is.
import * as assert from 'node:assert/strict';
import { initEngine, lintText } from '../../server/engine';
import { analyzeDocument, ParseCache } from '../../server/engine/document';
import { parse, wasRecovered } from '../../server/engine/parse';
import { recoverMisreadWords } from '../../server/engine/parseRecovery';
import type { Stmt } from '../../server/engine/ir';

/** A weight stepped up its gradient (NB102), to show the rest of a file is still read. */
const uphill = [
  'function fitGain(inputs, targets, rounds) {',
  '  let w = 0;',
  '  for (let r = 0; r < rounds; r++) {',
  '    let grad = 0;',
  '    for (let k = 0; k < inputs.length; k++) grad += (w * inputs[k] - targets[k]) * inputs[k];',
  '    w += grad;',
  '  }',
  '  return w;',
  '}',
].join('\n');
const uphillLine = 5;

function lint(text: string) {
  return lintText(text, { language: 'javascript' });
}

function summary(text: string) {
  const { findings, notices } = lint(text);
  return { findings: findings.map((f) => `${f.code}@${f.range.start.line}:${f.range.start.character}`), notices: notices.map((n) => n.message) };
}

/** `text` above the uphill training code, as TypeScript and TSX: no notice, and NB102 found where the uphill code is. */
function assertReadsAsTypeScript(text: string): void {
  const tsUphill = uphill.replace('function fitGain(inputs, targets, rounds)', 'function fitGain(inputs: number[], targets: number[], rounds: number)');
  const lines = text.split('\n').length;
  for (const language of ['typescript', 'tsx'] as const) {
    const { findings, notices } = lintText(`${text}\n${tsUphill}\n`, { language });
    assert.deepEqual(notices.map((n) => n.message), []);
    assert.deepEqual(findings.map((f) => `${f.code}@${f.range.start.line}`), [`NB102@${lines + uphillLine}`]);
  }
}

/** A real syntax error in TypeScript `text` is reported once, on `line`. */
function assertErrorOnLine(text: string, line: number): void {
  const broken = lintText(text, { language: 'typescript' });
  assert.equal(broken.notices.length, 1);
  assert.match(broken.notices[0].message, new RegExp(`^syntax error at ${line}:`));
}

/** The names assigned at the top level of a file, and in its blocks. */
function assignedNames(body: readonly Stmt[]): string[] {
  const out: string[] = [];
  for (const s of body) {
    if (s.kind === 'assign') for (const t of s.targets) if (t.kind === 'name') out.push(t.name);
    if (s.kind === 'block') out.push(...assignedNames(s.body));
  }
  return out;
}

describe('valid JavaScript the grammar misreads by one word', () => {
  before(() => initEngine());

  const card = ['export function Card() {', '  return (', '    <div class="card">', '      <label for="rate" class="hint">rate</label>', '      <Fade in={true} />', '    </div>', '  )', '}'].join('\n');

  it('reads a JSX attribute named `class`, `for` or `in` without a notice, and the rest of the file as before', () => {
    const text = `${card}\n${uphill}\n`;
    const lines = card.split('\n').length;
    assert.deepEqual(summary(text), { findings: [`NB102@${lines + uphillLine}:4`], notices: [] });
    // The same file with `className` gives the same findings: the attribute's name changes nothing else.
    assert.deepEqual(summary(text.replace(/class=/g, 'className=')), summary(text));
  });

  it('parses with the tsx grammar only where a tag names a reserved word before `=` (garbage with `<` costs no extra parse)', () => {
    const grammars: string[] = [];
    const spy = (t: string, l: Parameters<typeof parse>[1]) => {
      grammars.push(l);
      return parse(t, l);
    };
    // Token soup with tags and keywords but no `<Tag … class=`: the JavaScript tree is all the reading there is.
    const soup = 'class;*/.mul(:else<nabla-ignore x:+=[*.sub(export*/lam+}of-=:<of+=.add(ofgif\t[,iflet.mul(];)=>if class=>';
    const soupTree = parse(soup, 'javascript');
    assert.ok(soupTree.rootNode.hasError);
    assert.equal(recoverMisreadWords(soup, 'javascript', soupTree, spy), undefined);
    assert.deepEqual(grammars, []);
    // A reserved attribute after an arrow function in another attribute (`=>` inside the tag) is still read.
    const jsx = card.replace('<div class="card">', '<div onClick={() => go()} class="card">');
    const jsxTree = parse(jsx, 'javascript');
    assert.ok(wasRecovered(jsxTree) && !jsxTree.rootNode.hasError);
    soupTree.delete();
    jsxTree.delete();
  });

  it('reads a variable named `using` at the start of a statement without a notice', () => {
    const usingVar = ['let using = 0;', 'using = using + 1;', 'using += 2;', 'using++;', 'const lane = [0];', 'using\n(lane)', 'using = [1];', 'using[0] = 3;', 'using.size = 2;'].join('\n');
    const text = `${usingVar}\n${uphill}\n`;
    const lines = usingVar.split('\n').length;
    assert.deepEqual(summary(text), { findings: [`NB102@${lines + uphillLine}:4`], notices: [] });
    // The IR names the variable as written, not by the stand-in the recovery parsed.
    const names = assignedNames(analyzeDocument(text, 'javascript').module.body);
    assert.ok(names.includes('using'), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('usin') && n !== 'using'), names.join(', '));
    // The TypeScript grammars read `using` the same way.
    for (const language of ['typescript', 'tsx'] as const) {
      assert.deepEqual(lintText('let using: number[] = [0];\nusing = [1];\nusing[0] = 2;\n', { language }).notices, []);
    }
    // A `using` declaration stays one.
    assert.deepEqual(summary('{ using handle = open(); }\nasync function f() { await using lock = acquire(); }\n').notices, []);
  });

  it('reads a line starting with an identifier like `in_cache` after a statement with no semicolon without a notice', () => {
    const inWords = ['var g = 1', 'in_cache = 2', 'let h = g', 'in2 = h', 'const table = { n: 0 }', '  instanceof_seen = table', 'in_cache.hits = 3', 'const within = {', '  in_rate: 1,', '}', 'inside = 4'].join('\n');
    const text = `${inWords}\n${uphill}\n`;
    const lines = inWords.split('\n').length;
    assert.deepEqual(summary(text), { findings: [`NB102@${lines + uphillLine}:4`], notices: [] });
    // The IR names the variables as written, and the statements stay apart.
    const names = assignedNames(analyzeDocument(text, 'javascript').module.body);
    for (const name of ['g', 'in_cache', 'h', 'in2', 'instanceof_seen']) assert.ok(names.includes(name), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('_n')), names.join(', '));
    for (const language of ['typescript', 'tsx'] as const) assert.deepEqual(lintText('let g: number = 1\nin_cache = 2\n', { language }).notices, []);
    // `k\nin obj` is the operator: one expression statement, no notice, nothing replaced.
    assert.deepEqual(summary('const obj = {}\nconst k = "x"\nconst has = k\nin obj\n').notices, []);
    // A real error after such a line is still reported.
    assert.equal(summary('var g = 1\nin_cache = (2 +\n').notices.length, 1);
  });

  it('reads a bare `&` in JSX text without a notice, and leaves operators and character references alone', () => {
    const panel = ['export function Panel(props) {', '  return (', '    <div>', '      <h3>Drag & Drop</h3>', '      <b>Train & Predict &amp; more</b>', '      {props.open && props.ready ? <i>yes</i> : null}', '    </div>', '  );', '}'].join('\n');
    const text = `${panel}\n${uphill}\n`;
    const lines = panel.split('\n').length;
    assert.deepEqual(summary(text), { findings: [`NB102@${lines + uphillLine}:4`], notices: [] });
    for (const language of ['typescript', 'tsx'] as const) assert.deepEqual(lintText(`${panel}\n`, { language: language === 'typescript' ? 'tsx' : language }).notices, []);
    // Outside JSX an `&` with nothing after it is still an error, reported where it is.
    assert.deepEqual(summary('const mask = 3 &\nconst k = (1 + ;\n').notices.length, 1);
    assert.match(summary('function f(a) {\n  return a & ;\n}\n').notices.join(), /^syntax error at 2:/);
  });

  it('reads a TypeScript import type followed by `[]` or type arguments without a notice, and leaves a dynamic import alone', () => {
    const types = [
      'export type Plan = {',
      '  inputs: import("./tensor").Tensor[];',
      "  batches: Array<{ commands: import('./plan').Gpu.Command[] }>;",
      '  table: import("@scope/pkg/types").Table<number>;',
      '};',
      'export function run(grads: import("./tensor").Tensor[], n: number): number { return n }',
      'export async function load() { const m = await import("./tensor"); return m.Tensor }',
    ].join('\n');
    assertReadsAsTypeScript(types);
    // A real error beside an import type is still reported where it is.
    assertErrorOnLine('type P = { inputs: import("./t").Tensor[] };\nconst k = (1 + ;\n', 2);
  });

  it('reads a type-only star export (`export type * from`, `export type * as ns from`) without a notice', () => {
    const text = [
      "export type * from './types';",
      "export type * as shapes from \"./shapes\";",
      "export * from './ops';",
      "export type { Tensor } from './tensor';",
    ].join('\n');
    assertReadsAsTypeScript(text);
    // A real error after it keeps its place.
    assertErrorOnLine("export type * from './types';\nconst k = (1 + ;\n", 2);
  });

  it('reads a reserved word as a module export name (`export { default as const } from`) without a notice', () => {
    const text = [
      "export { default as const } from './const.js';",
      "export { default as add, scale as if } from './ops.js';",
      "import { const as constant, default as base } from './layers.js';",
      "export { if } from './branch.js';",
      'const table = { class: 1, for: 2 };',
      'export { table as default, table as new };',
    ].join('\n');
    const lines = text.split('\n').length;
    assert.deepEqual(summary(`${text}\n${uphill}\n`), { findings: [`NB102@${lines + uphillLine}:4`], notices: [] });
    assertReadsAsTypeScript(text);
    // A real error after it keeps its place.
    assertErrorOnLine("export { default as const } from './const.js';\nconst k = (1 + ;\n", 2);
    // A reserved word where a binding or a local reference stands is an error, and keeps its notice.
    // (tree-sitter-typescript reads `import { if }` without an error; the JavaScript grammar does not.)
    for (const [text, line] of [["import { if } from './ops.js';\nexport const k = 1;\n", 1], ["import { default } from './ops.js';\n", 1], ["const table = 1;\nexport { if };\n", 2]] as const) {
      assert.match(lintText(text, { language: 'javascript' }).notices.map((n) => n.message).join('; '), new RegExp(`^syntax error at ${line}:`));
    }
  });

  it('reads a TypeScript contextual keyword as a variable (`let as = input.w`, `i < keyof.length`) without a notice', () => {
    const text = [
      'export function maxOf(input: { w: number[] }, unknown: number[]): number {',
      '  let as = input.w;',
      '  let satisfies: number[] = as;',
      '  let abstract;',
      '  abstract = satisfies;',
      '  const keyof = unknown, never = as, infer = as, unique = as;',
      '  let best = as[0];',
      '  for (let i = 1; i < as.length; i++) if (as[i] > best) best = as[i];',
      '  for (let i = 0; i < keyof.length && i < never.length; i++) best += i<infer[0] ? unique[i] : abstract[i];',
      '  return i < unknown.length ? best : (best as number);',
      '}',
    ].join('\n').replace('return i <', 'return 0 <');
    assertReadsAsTypeScript(text);
    // A real error beside such a word, or beside a cast's `as`, keeps its notice at its own place.
    assertErrorOnLine('let as = [1];\nlet y = as[0] +;\n', 2);
    assertErrorOnLine('const x: unknown = 1;\nconst y = (x as number) + ;\n', 2);
    assertErrorOnLine('const x = [1];\nlet as number = x;\n', 2);
    assertErrorOnLine('const i = 1, x = [2];\nconst y = i < keyof x;\n', 2);
  });

  it('reads `typeof import(...)` as a type argument without a notice, and leaves `typeof` of a dynamic import in an expression alone', () => {
    const text = [
      "vi.mock('fs', async (importOriginal) => {",
      "  const actual = await importOriginal<typeof import('fs')>();",
      '  return { ...actual };',
      '});',
      'export function pick(load: <T>() => T) {',
      '  return load<typeof import("./tensor")>()',
      '}',
    ].join('\n');
    assertReadsAsTypeScript(text);
    // `typeof import('x')` in an expression is valid already; a real error after it keeps its place.
    assertErrorOnLine("const kind = typeof import('./m');\nconst k = (1 + ;\n", 2);
  });

  it('reads a generator member after a class member with no semicolon without a notice, and keeps a multiplication on the next line', () => {
    const text = [
      'export abstract class Rows<T> {',
      '  abstract row(i: number): T',
      '  abstract get size(): number',
      '',
      '  *[Symbol.iterator](): Iterator<T> {',
      '    for (let i = 0; i < this.size; i++) yield this.row(i)',
      '  }',
      '  declare label: string',
      '  *pairs(): Generator<[number, T]> {',
      '    for (let i = 0; i < this.size; i++) yield [i, this.row(i)]',
      '  }',
      '}',
    ].join('\n');
    assertReadsAsTypeScript(text);
    // A line starting with `*` in an expression continues it; a real error elsewhere keeps its place.
    assertErrorOnLine('let a = 2\nlet b = a\n  * 3\nconst k = (1 + ;\n', 4);
    // A class whose `*` line is really broken is still reported.
    const bad = lintText('class C {\n  abstract n(): number\n  * = 3\n}\n', { language: 'typescript' });
    assert.equal(bad.notices.length, 1);
  });

  it('still reports a real syntax error at its own position in such a file', () => {
    const lines = card.split('\n').length;
    // A JSX file with a broken expression at its end.
    const withError = `${card}\n${uphill}\nconst total = (1 + ;\n`;
    const jsx = lint(withError);
    assert.equal(jsx.notices.length, 1);
    assert.match(jsx.notices[0].message, new RegExp(`^syntax error at ${lines + uphill.split('\n').length + 1}:`));
    assert.deepEqual(jsx.notices, lint(withError.replace(/class=/g, 'className=')).notices);
    assert.equal(jsx.findings.length, 1);
    // A broken attribute value beside a `class` attribute.
    const inside = lint('function Tag(n) {\n  return (\n    <div class="tag">\n      <span title={n +}>x</span>\n    </div>\n  )\n}\n');
    assert.deepEqual(inside.notices.map((n) => n.message), ['syntax error at 4:23; the rest of the file was still checked']);
    // A child expression left open inside `return (…)`: the error is where the brace is missing, not at `return`.
    const open = lint('function Tag(n) {\n  const k = 1\n  return (\n    <div class="tag">\n      <span>{n</span>\n    </div>\n  )\n}\n');
    assert.deepEqual(open.notices.map((n) => n.message), ['syntax error at 5:13; the rest of the file was still checked']);
    // The same in TSX (its grammar's WASM file carries no name, so it cannot be told from JS by the tree).
    const tsx = lintText('function Tag(n) {\n  const k = 1\n  return (\n    <div className="tag">\n      <span>{n</span>\n    </div>\n  )\n}\n', { language: 'tsx' });
    assert.deepEqual(tsx.notices.map((n) => n.message), ['syntax error at 5:13; the rest of the file was still checked']);
    // A file with a `using` variable and a function missing its closing parenthesis.
    const broken = lint('let using = 1;\nusing = 2;\nfunction g( {\n  return using\n}\n');
    assert.deepEqual(broken.notices.map((n) => n.message), ['syntax error at 3:1; the rest of the file was still checked']);
  });

  it('gives an edited document the same reading as a fresh parse', () => {
    for (const head of [card, 'let using = 0;\nusing = using + 1;\nusing[0] = 2;', 'var g = 1\nin_cache = 2\nin_cache += g']) {
      const cache = new ParseCache();
      const first = `${head}\n${uphill}\n`;
      analyzeDocument(first, 'javascript', cache);
      // An edit far from the word, then one next to it.
      for (const edited of [first.replace('let grad = 0;', 'let grad = 0.0;'), first.replace('<div class', '<div  class').replace('using = using', 'using  = using')]) {
        const incremental = analyzeDocument(edited, 'javascript', cache);
        const fresh = analyzeDocument(edited, 'javascript', new ParseCache());
        assert.deepEqual(incremental.module, fresh.module);
        assert.deepEqual(fresh.module.errors, []);
      }
    }
  });
});
