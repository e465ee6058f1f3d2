// Fuzz cases for the engine: mutated fixtures, truncations at every point, random bytes, invalid
// UTF-8, byte-order marks, CRLF and lone CR, tabs, token soup, 10,000-deep nesting, a 5 MB single
// line and 100,000-line files. `runFuzz` lints each case (and hovers at a few offsets) and records
// what must never happen: an exception escaping, a case over its time bound, a crashed rule.
// `npm run fuzz` (scripts/fuzz.mjs) runs 10,000+ cases; test/fuzz/fuzz.test.ts runs a slice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../bench/corpus';
import { DEFAULT_MAX_FILE_SIZE, languageForPath, lintText, type LanguageId, type LintOutcome } from '../../server/engine';
import { explainAt } from '../../server/engine/explain';

export const repoRoot = path.resolve(__dirname, '../../..');

export interface FuzzCase {
  kind: string;
  name: string;
  text: string;
  language: LanguageId;
  /** Wall-clock bound for this case, in ms. */
  boundMs: number;
}

export interface FuzzFailure {
  kind: string;
  name: string;
  problem: 'threw' | 'too slow' | 'rule crashed' | 'bad outcome';
  detail: string;
  /** The input, cut to a few hundred characters, to reproduce. */
  sample: string;
}

export interface FuzzReport {
  cases: number;
  byKind: Record<string, { cases: number; maxMs: number; totalMs: number; skipped: number }>;
  failures: FuzzFailure[];
  slowest: { kind: string; name: string; ms: number; chars: number }[];
  totalMs: number;
}

/** Bound for an ordinary case (a fixture or less): generous, as CI machines are shared. */
export const CASE_BOUND_MS = 10_000;
/** Bound for the huge cases (up to the 1 MiB size limit). */
export const BIG_CASE_BOUND_MS = 60_000;

interface Source {
  file: string;
  text: string;
  language: LanguageId;
}

/** The fixtures and examples: realistic code to mutate. */
export function loadSources(): Source[] {
  const out: Source[] = [];
  const visit = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (fs.statSync(file).isDirectory()) visit(file);
      else {
        const language = languageForPath(file);
        if (language) out.push({ file: path.relative(repoRoot, file), text: fs.readFileSync(file, 'utf8'), language });
      }
    }
  };
  visit(path.join(repoRoot, 'test', 'fixtures'));
  visit(path.join(repoRoot, 'examples'));
  return out;
}

const pyTokens = ['(', ')', '[', ']', '{', '}', ':', ',', '.', '=', '-=', '+=', '*', '**', '@', '-', '+', '/', 'lambda', 'def', 'class', 'return', 'if', 'else', 'for', 'in', 'with', 'as', 'import', 'from', 'yield', 'await', 'not', 'and', 'W', 'dW', 'lr', 'reg', 'np.sum', 'p.grad', 'torch', '0.5', '1e-4', "'", '"', '"""', '#', '\\', '\n', '\n    ', '\t', ' ', '\r', ';', 'nabla: ignore[NB101]', '$$\\lambda$$'];
const tsTokens = ['(', ')', '[', ']', '{', '}', ':', ',', '.', '=', '-=', '+=', '*', '**', '-', '+', '/', '=>', 'function', 'class', 'return', 'if', 'else', 'for', 'of', 'const', 'let', 'import', 'export', 'new', 'w', 'g', 'lr', 'lam', '.sub(', '.add(', '.mul(', 'tf.', '`', '${', "'", '"', '//', '/*', '*/', '\n', '\t', ' ', ';', '<', '>', 'as', 'any', 'nabla-ignore NB101'];

const INHERITED_NAMES = ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'toLocaleString'];

function mutate(r: Rng, text: string, language: LanguageId): string {
  const tokens = language === 'python' ? pyTokens : tsTokens;
  let out = text;
  const n = r.int(1, 6);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, out.length);
    switch (r.int(0, 7)) {
      case 0: // delete a range
        out = out.slice(0, at) + out.slice(Math.min(out.length, at + r.int(1, 40)));
        break;
      case 1: // insert tokens
        out = out.slice(0, at) + Array.from({ length: r.int(1, 5) }, () => r.pick(tokens)).join(r.chance(0.5) ? ' ' : '') + out.slice(at);
        break;
      case 2: {
        // duplicate a range somewhere else
        const from = r.int(0, out.length);
        const piece = out.slice(from, from + r.int(1, 200));
        out = out.slice(0, at) + piece + out.slice(at);
        break;
      }
      case 3: {
        // swap two lines
        const lines = out.split('\n');
        const a = r.int(0, lines.length - 1);
        const b = r.int(0, lines.length - 1);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        out = lines.join('\n');
        break;
      }
      case 4: {
        // re-indent a line
        const lines = out.split('\n');
        const a = r.int(0, lines.length - 1);
        lines[a] = ' '.repeat(r.int(0, 12)) + lines[a].trimStart();
        out = lines.join('\n');
        break;
      }
      case 5: // replace a character with a random code point (astral planes and surrogates included)
        out = out.slice(0, at) + String.fromCodePoint(r.chance(0.2) ? r.int(0x10000, 0x10ffff) : r.int(0, 0xffff)) + out.slice(at + 1);
        break;
      case 6: {
        // rename a word everywhere to a name every JS object inherits (the engine's tables must not see it)
        const words = out.match(/[A-Za-z_]\w*/g);
        if (words) out = out.split(r.pick(words)).join(r.pick(INHERITED_NAMES));
        break;
      }
      default: // flip an operator
        out = out.replace(r.pick(['-=', '+=', '*', '-', '+', '(', ')']), r.pick(['+=', '-=', '**', '+', '-', '', '((']));
    }
  }
  return out;
}

/** A random window of a source, so cases stay small and many. */
function window(r: Rng, text: string): string {
  const lines = text.split('\n');
  if (lines.length <= 60 || r.chance(0.15)) return text;
  const start = r.int(0, lines.length - 40);
  return lines.slice(start, start + r.int(20, 120)).join('\n');
}

const lenient = new TextDecoder('utf-8', { fatal: false });

/** Random bytes; most without NUL, which would make the file binary and skipped before parsing. */
function randomBytes(r: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  const lowest = r.chance(0.2) ? 0 : 1;
  for (let i = 0; i < n; i++) b[i] = r.int(lowest, 255);
  return b;
}

function invalidUtf8(r: Rng, text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const bad = [[0x80], [0xc3], [0xff], [0xfe], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xe2, 0x82]];
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < r.int(1, 8); i++) {
    const cut = r.int(at, bytes.length);
    parts.push(bytes.subarray(at, cut), Buffer.from(r.pick(bad)));
    at = cut;
  }
  parts.push(bytes.subarray(at));
  return lenient.decode(Buffer.concat(parts)); // as lintFile decodes a file that is not UTF-8
}

function lineEnds(r: Rng, text: string): string {
  switch (r.int(0, 4)) {
    case 0:
      return text.replace(/\n/g, '\r\n');
    case 1:
      return text.replace(/\n/g, '\r');
    case 2:
      return '\ufeff' + text.replace(/\n/g, '\r\n');
    case 3:
      return text.replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4));
    default:
      return text.replace(/\n/g, () => r.pick(['\n', '\r\n', '\r', '\u2028', '\n\ufeff']));
  }
}

/** 10,000-deep nesting of every shape that nests in the tree. */
export function deepCases(depth = 10_000): FuzzCase[] {
  const py = (name: string, text: string): FuzzCase => ({ kind: 'deep', name, text, language: 'python', boundMs: BIG_CASE_BOUND_MS });
  const ts = (name: string, text: string): FuzzCase => ({ kind: 'deep', name, text, language: 'typescript', boundMs: BIG_CASE_BOUND_MS });
  return [
    py('parentheses', `x = ${'('.repeat(depth)}1${')'.repeat(depth)}\n`),
    py('lists', `x = ${'['.repeat(depth)}1${']'.repeat(depth)}\n`),
    py('calls', `y = ${'f('.repeat(depth)}x${')'.repeat(depth)}\n`),
    py('attribute chain', `y = a${'.b'.repeat(depth)}\n`),
    py('call chain', `y = f${'()'.repeat(depth)}\n`),
    py('subscript chain', `y = x${'[0]'.repeat(depth)}\n`),
    py('method chain in an update', `W -= lr * W${'.sum()'.repeat(depth)}\n`),
    py('left-deep sum in an update', `W -= lr * (${'a + '.repeat(depth)}reg * np.sum(W * W))\n`),
    py('power tower', `y = ${'x ** '.repeat(depth)}2\n`),
    py('not chain', `y = ${'not '.repeat(depth)}x\n`),
    py('unary chain', `y = ${'-'.repeat(depth)}x\n`),
    py('lambdas', `f = ${'lambda: '.repeat(depth)}1\n`),
    py('conditional expressions', `y = ${'a if b else '.repeat(depth)}c\n`),
    py('dicts', `d = ${"{'k': ".repeat(depth)}1${'}'.repeat(depth)}\n`),
    py('nested blocks (one-space indent)', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}if a:\n`).join('') + `${' '.repeat(1000)}W -= lr * dW\n`),
    py('unclosed parentheses', `W -= lr * ${'('.repeat(depth)}dW\n`),
    ts('arrays', `const y = ${'['.repeat(depth)}1${']'.repeat(depth)};\n`),
    ts('blocks', `${'if (a) {'.repeat(depth)}w -= lr * g;${'}'.repeat(depth)}\n`),
    ts('arrow functions', `const f = ${'() => '.repeat(depth)}1;\n`),
    ts('method chain', `const y = w${'.mul(1)'.repeat(depth)};\n`),
    ts('ternaries', `const y = ${'a ? b : '.repeat(depth)}c;\n`),
    ts('objects', `const o = ${'{ k: '.repeat(depth)}1${' }'.repeat(depth)};\n`),
    ts('unclosed braces', `function f() {${'{'.repeat(depth)}\n`),
    ts('template literals', `const s = ${'`${'.repeat(depth)}x${'}`'.repeat(depth)};\n`),
  ];
}

/** The huge cases: a 5 MB single line, 100,000-line files, a file just under the size limit. */
export function bigCases(): FuzzCase[] {
  const big = (name: string, text: string, language: LanguageId = 'python'): FuzzCase => ({ kind: 'big', name, text, language, boundMs: BIG_CASE_BOUND_MS });
  const update = 'W -= lr * (dW + reg * np.sum(W * W))\n';
  return [
    big('5 MB single line', `x = [${'1, '.repeat((5 * 1024 * 1024) / 3)}]\n`),
    big('5 MB single line without newline (TS)', `const x = [${'1, '.repeat((5 * 1024 * 1024) / 3)}];`, 'typescript'),
    big('100,000 short lines', 'x = 1\n'.repeat(100_000)),
    big('100,000 lines of updates', update.repeat(100_000)),
    big('100,000 empty lines', '\n'.repeat(100_000)),
    big('100,000 lines of one statement', `x = [\n${'    1,\n'.repeat(100_000)}]\n`),
    big('100,000 CR-only lines', 'y = x\r'.repeat(100_000)),
    big('near the size limit: one long sum', `W -= lr * (${'a + '.repeat(Math.floor((DEFAULT_MAX_FILE_SIZE - 100) / 4))}dW)\n`),
    big('near the size limit: updates in one function', `def f(W, dW, lr):\n${'    W -= lr * dW\n'.repeat(Math.floor((DEFAULT_MAX_FILE_SIZE - 100) / 17))}`),
    big('near the size limit: updates in a TS function', `function f(w, g, lr) {\n${'  w = w.sub(g.mul(lr));\n'.repeat(Math.floor((DEFAULT_MAX_FILE_SIZE - 100) / 25))}}\n`, 'typescript'),
  ];
}

/** Every prefix of a few small, realistic inputs (what an editor sees while typing). */
export function truncationCases(): FuzzCase[] {
  const inputs: [string, LanguageId][] = [
    ['import numpy as np\n\ndef step(W, dW, lr, reg):\n    """One SGD step."""\n    loss = 0.5 * reg * np.sum(W * W)\n    W -= lr * (dW + reg * np.sum(W * W))  # nabla: ignore[NB102]\n    return W, loss\n', 'python'],
    ["import * as tf from '@tensorflow/tfjs';\nconst step = (w: tf.Variable, g: tf.Tensor, lr: number, l2: number) => {\n  w.assign(w.sub(g.add(w.square().sum().mul(l2)).mul(lr))); // nabla-ignore NB102\n  return `${lr}`;\n};\n", 'typescript'],
    ['for p in model.parameters():\n    p.grad += lam * p.pow(2).sum()\n    p.data.add_(-lr * p.grad)\n', 'python'],
  ];
  const out: FuzzCase[] = [];
  for (const [text, language] of inputs) {
    for (let i = 0; i <= text.length; i++) out.push({ kind: 'truncation', name: `${language} prefix ${i}`, text: text.slice(0, i), language, boundMs: CASE_BOUND_MS });
  }
  return out;
}

/** `count` random cases from the sources, deterministic for a seed. */
export function* randomCases(seed: number, count: number, sources: Source[]): Generator<FuzzCase> {
  const r = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const src = r.pick(sources);
    const base = window(r, src.text);
    const k = r.int(0, 99);
    let kind: string;
    let text: string;
    let language = src.language;
    if (k < 45) {
      kind = 'mutation';
      text = mutate(r, base, language);
    } else if (k < 55) {
      kind = 'truncation';
      text = base.slice(0, r.int(0, base.length));
    } else if (k < 63) {
      kind = 'random bytes';
      text = lenient.decode(randomBytes(r, r.int(0, 4000)));
      language = r.pick(['python', 'typescript', 'tsx', 'javascript'] as const);
    } else if (k < 71) {
      kind = 'invalid UTF-8';
      text = invalidUtf8(r, base);
    } else if (k < 81) {
      kind = 'line ends, BOM, tabs';
      text = lineEnds(r, r.chance(0.5) ? mutate(r, base, language) : base);
    } else if (k < 91) {
      kind = 'token soup';
      const tokens = language === 'python' ? pyTokens : tsTokens;
      text = Array.from({ length: r.int(1, 600) }, () => r.pick(tokens)).join(r.chance(0.5) ? ' ' : '');
    } else {
      kind = 'other language';
      // Python read as TypeScript and the other way round, and the TSX grammar on plain TS.
      text = mutate(r, base, language);
      language = language === 'python' ? r.pick(['typescript', 'tsx', 'javascript'] as const) : r.chance(0.5) ? 'python' : 'tsx';
    }
    yield { kind, name: `${kind} #${i} from ${src.file}`, text, language, boundMs: CASE_BOUND_MS };
  }
}

function checkOutcome(outcome: LintOutcome): string | undefined {
  if (!outcome || !Array.isArray(outcome.findings) || !Array.isArray(outcome.notices)) return 'lintText returned no findings/notices arrays';
  for (const f of outcome.findings) {
    const r = f.range;
    if (!r || r.start.line < 0 || r.start.character < 0 || r.end.line < r.start.line || (r.end.line === r.start.line && r.end.character < r.start.character)) {
      return `finding ${f.code} has a bad range ${JSON.stringify(r)}`;
    }
  }
  return undefined;
}

/** Lints each case (and hovers at a few offsets of some) and reports what went wrong. */
export function runFuzz(cases: Iterable<FuzzCase>, options: { hoverEvery?: number; onCase?: (i: number) => void } = {}): FuzzReport {
  const report: FuzzReport = { cases: 0, byKind: {}, failures: [], slowest: [], totalMs: 0 };
  const hoverEvery = options.hoverEvery ?? 10;
  const r = new Rng(7);
  const t00 = performance.now();
  for (const c of cases) {
    const i = report.cases++;
    options.onCase?.(i);
    const sample = c.text.length > 300 ? `${c.text.slice(0, 300)}…(${c.text.length} chars)` : c.text;
    const fail = (problem: FuzzFailure['problem'], detail: string): void => void report.failures.push({ kind: c.kind, name: c.name, problem, detail, sample });
    const t0 = performance.now();
    let outcome: LintOutcome | undefined;
    try {
      outcome = lintText(c.text, { language: c.language });
      if (i % hoverEvery === 0 && c.text.length < 200_000) {
        for (let h = 0; h < 3; h++) explainAt(c.text, { language: c.language }, r.int(0, c.text.length));
      }
    } catch (error) {
      fail('threw', error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    const ms = performance.now() - t0;
    if (ms > c.boundMs) fail('too slow', `${Math.round(ms)} ms, over the bound of ${c.boundMs} ms`);
    if (outcome) {
      const bad = checkOutcome(outcome);
      if (bad) fail('bad outcome', bad);
      for (const n of outcome.notices) if (n.kind === 'internal-error') fail('rule crashed', n.message);
    }
    const entry = (report.byKind[c.kind] ??= { cases: 0, maxMs: 0, totalMs: 0, skipped: 0 });
    entry.cases++;
    entry.totalMs += ms;
    entry.maxMs = Math.max(entry.maxMs, ms);
    if (outcome?.notices.some((n) => n.kind === 'skipped')) entry.skipped++;
    report.slowest.push({ kind: c.kind, name: c.name, ms, chars: c.text.length });
    if (report.slowest.length > 40) report.slowest = report.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10);
  }
  report.slowest = report.slowest.sort((a, b) => b.ms - a.ms).slice(0, 10).map((s) => ({ ...s, ms: Math.round(s.ms) }));
  for (const k of Object.values(report.byKind)) {
    k.maxMs = Math.round(k.maxMs);
    k.totalMs = Math.round(k.totalMs);
  }
  report.totalMs = Math.round(performance.now() - t00);
  return report;
}

export function formatReport(report: FuzzReport): string {
  const lines = [`${report.cases} cases in ${(report.totalMs / 1000).toFixed(1)} s; ${report.failures.length} failures`];
  for (const [kind, k] of Object.entries(report.byKind)) {
    lines.push(`  ${kind.padEnd(22)} ${String(k.cases).padStart(6)} cases  max ${String(k.maxMs).padStart(6)} ms  mean ${(k.totalMs / k.cases).toFixed(1).padStart(7)} ms  skipped ${k.skipped}`);
  }
  lines.push('slowest:');
  for (const s of report.slowest) lines.push(`  ${String(s.ms).padStart(6)} ms  ${s.name} (${s.chars} chars)`);
  for (const f of report.failures.slice(0, 30)) lines.push(`FAIL [${f.problem}] ${f.name}: ${f.detail.split('\n')[0]}\n    input: ${JSON.stringify(f.sample)}`);
  return lines.join('\n') + '\n';
}
