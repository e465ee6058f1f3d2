// Two links a hand-written JS library makes without imports or operators: a global bound by a file it
// requires (`m = module.exports` in math.js, read as `m.addMat` elsewhere: implicitGlobals.ts), and a
// helper that adds or subtracts two arrays entry by entry (elementwiseHelpers.ts).
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { Project } from '../../server/engine/project';
import { programIndex } from '../../server/engine/facts/program';
import { resolveCall, returnsOf } from '../../server/engine/facts/resolve';
import { elementwiseArithmetic } from '../../server/engine/facts/elementwiseHelpers';

function project(files: Record<string, string>) {
  return new Project({ root: '/p', host: { readFile: (p: string) => files[p.slice('/p/'.length)] } });
}

/** Each call of `entry` whose text starts with `prefix`: the function it runs, and what that function computes entry by entry. */
function calls(files: Record<string, string>, entry: string, prefix: string): { call: string; fn?: string; elementwise?: string }[] {
  const p = project(files);
  const program = p.program();
  const parsed = p.load(`/p/${entry}`);
  assert.ok(parsed, entry);
  program.add(parsed);
  const facts = program.facts(parsed);
  const text = (s: { span: { start: number; end: number } }): string => program.source(s.span);
  return programIndex(facts)
    .calls.filter(({ call }) => text(call).startsWith(prefix))
    .sort((x, y) => x.call.span.start - y.call.span.start)
    .map(({ call, scope, at }) => {
      const target = resolveCall(program, call, scope, at);
      if (!target) return { call: text(call) };
      const e = elementwiseArithmetic(target.fn, returnsOf(program, target.fn).map((r) => r.expr));
      return { call: text(call), fn: target.fn.name, ...(e ? { elementwise: `${target.fn.params[e.left].name} ${e.op} ${target.fn.params[e.right].name}` } : {}) };
    });
}

const MATH = [
  'm = module.exports;',
  'm.addMat = function (a, b) {',
  '  var out = new Array(a.length);',
  '  for (var i = 0; i < a.length; i++) {',
  '    out[i] = new Array(a[i].length);',
  '    for (var j = 0; j < a[i].length; j++) out[i][j] = a[i][j] + b[i][j];',
  '  }',
  '  return out;',
  '};',
  'm.subVec = function (u, v) { var out = []; for (var i = 0; i < u.length; i++) out.push(u[i] - v[i]); return out; };',
  'm.rows = function (a, b) {',
  '  var out = [];',
  '  for (var i = 0; i < a.length; i++) { var row = []; for (var j = 0; j < a[i].length; j++) row.push(b[i][j] + a[i][j]); out.push(row); }',
  '  return out;',
  '};',
  'm.plus = (a, b) => a.map((row, i) => row.map((v, j) => v + b[i][j]));',
  'm.minus = (a, b) => a.map((v, i) => v - b[i]);',
  // Not plain arithmetic: a scale, crossed indices, a clamp, a result handed to a call, two kinds of entries,
  // a result also kept in an object literal.
  'm.axpy = function (a, b) { var out = []; for (var i = 0; i < a.length; i++) out.push(a[i] + 2 * b[i]); return out; };',
  'm.crossed = function (a, b) { var out = new Array(a.length); for (var i = 0; i < a.length; i++) for (var j = 0; j < a.length; j++) out[i][j] = a[i][j] + b[j][i]; return out; };',
  'm.clamped = (a, b) => a.map((v, i) => Math.min(v + b[i], 1));',
  'm.logged = function (a, b) { var out = []; for (var i = 0; i < a.length; i++) out.push(a[i] + b[i]); record(out); return out; };',
  'm.mixed = function (a, b) { var out = []; for (var i = 0; i < a.length; i++) { out.push(a[i] + b[i]); out.push(a[i] - b[i]); } return out; };',
  'm.boxed = function (a, b) { var out = []; for (var i = 0; i < a.length; i++) out.push(a[i] + b[i]); m.last = { value: out }; return out; };',
  'm.scale = (a, s) => a.map((v) => v * s);',
  '',
].join('\n');

describe('facts: globals bound by a required file, and elementwise helpers', () => {
  before(() => initEngine());

  it('resolves a global a required file binds to its exports (m = module.exports), through a file that requires it', () => {
    const files = {
      'math.js': MATH,
      'utils.js': 'utils = module.exports;\nutils.math = require("./math");\n',
      'net.js': 'var math = require("./utils").math;\nfunction step(W, dW, u, v) {\n  W = m.addMat(W, dW);\n  u = m.subVec(u, v);\n  return m.scale(W, 2);\n}\n',
    };
    assert.deepEqual(calls(files, 'net.js', 'm.'), [
      { call: 'm.addMat(W, dW)', fn: 'addMat', elementwise: 'a + b' },
      { call: 'm.subVec(u, v)', fn: 'subVec', elementwise: 'u - v' },
      { call: 'm.scale(W, 2)', fn: 'scale' },
    ]);
  });

  it('leaves a global unresolved when the file binds the name itself, when two required files bind it, and in TypeScript', () => {
    const other = 'm = module.exports;\nm.addMat = function (a, b) { return a; };\n';
    const ambiguous = { 'math.js': MATH, 'other.js': other, 'net.js': 'require("./math");\nrequire("./other");\nfunction step(W, dW) { return m.addMat(W, dW); }\n' };
    assert.deepEqual(calls(ambiguous, 'net.js', 'm.'), [{ call: 'm.addMat(W, dW)' }]);
    const own = { 'math.js': MATH, 'net.js': 'require("./math");\nfunction step(W, dW, m) { return m.addMat(W, dW); }\n' };
    assert.deepEqual(calls(own, 'net.js', 'm.'), [{ call: 'm.addMat(W, dW)' }]);
    const typed = { 'math.js': MATH, 'net.ts': 'import "./math";\nexport function step(W: number[][], dW: number[][]) { return m.addMat(W, dW); }\n' };
    assert.deepEqual(calls(typed, 'net.ts', 'm.'), [{ call: 'm.addMat(W, dW)' }]);
  });

  it('reads loops, pushed rows and maps that add or subtract two arrays entry by entry, and nothing else', () => {
    const files = {
      'math.js': MATH,
      'use.js': [
        'require("./math");',
        'function all(a, b) {',
        '  return [m.addMat(a, b), m.subVec(a, b), m.rows(a, b), m.plus(a, b), m.minus(a, b),',
        '    m.axpy(a, b), m.crossed(a, b), m.clamped(a, b), m.logged(a, b), m.mixed(a, b), m.boxed(a, b)];',
        '}',
        '',
      ].join('\n'),
    };
    assert.deepEqual(
      calls(files, 'use.js', 'm.').map((c) => `${c.fn}: ${c.elementwise ?? '-'}`),
      ['addMat: a + b', 'subVec: u - v', 'rows: b + a', 'plus: a + b', 'minus: a - b', 'axpy: -', 'crossed: -', 'clamped: -', 'logged: -', 'mixed: -', 'boxed: -'],
    );
  });
});
