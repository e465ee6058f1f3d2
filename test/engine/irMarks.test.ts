// What the lowering keeps that the engine reads instead of the text: the parentheses written around
// an expression (`parenSpan`, the outermost pair; not a statement's own, not around a cast), unpacked
// arguments and elements (`spread` on `other`), an object's spread entries (`spreads`) and JavaScript's
// rest parameters (`rest`), and the names that are a method's receiver (`receiver`).
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import type { Expr, Stmt } from '../../server/engine/ir';
import { forEachChild } from '../../server/engine/facts/scope';
import type { LanguageId } from '../../server/engine/types';

function lowered(lines: string[], language: LanguageId): { body: Stmt[]; text: string } {
  const text = [...lines, ''].join('\n');
  return { body: analyzeDocument(text, language).module.body, text };
}

/** The value of each `name = value` (Python) or `name = value;` (TS/JS) statement, by name. */
function values(lines: string[], language: LanguageId): { v: (n: string) => Expr; text: string } {
  const { body, text } = lowered(lines, language);
  const out = new Map<string, Expr>();
  for (const s of body) if (s.kind === 'assign' && s.targets[0]?.kind === 'name') out.set(s.targets[0].name, s.value);
  return { v: (n) => out.get(n)!, text };
}

describe('IR: parentheses, spreads and rest parameters', () => {
  before(() => initEngine());

  it('marks a parenthesized Python expression with its outermost pair', () => {
    const { v, text } = values(['a = h * (1 - p)', 'b = h * ((1 - p))', 'c = h * ( 1 - p )', 'd = h * (1 - p', '    )', 'e = h * 1 - p', 'f = g((x))', 'g = (a, b)'], 'python');
    const paren = (e: Expr | undefined): string | undefined => (e?.parenSpan ? text.slice(e.parenSpan.start, e.parenSpan.end) : undefined);
    const right = (n: string): Expr => (v(n) as Expr & { kind: 'binary' }).right;
    assert.equal(paren(right('a')), '(1 - p)');
    assert.equal(paren(right('b')), '((1 - p))');
    assert.equal(paren(right('c')), '( 1 - p )');
    assert.equal(paren(right('d')), '(1 - p\n    )');
    assert.equal(paren(v('e')), undefined);
    assert.equal(paren((v('e') as Expr & { kind: 'binary' }).right), undefined);
    // A call's own parentheses are not the argument's; a second pair is.
    assert.equal(paren((v('f') as Expr & { kind: 'call' }).args[0]), '(x)');
    // A tuple's parentheses are its own.
    assert.equal(paren(v('g')), undefined);
  });

  it('marks TS/JS parentheses, but not a condition\'s own nor those around a cast', () => {
    for (const language of ['typescript', 'javascript'] as const) {
      const { body, text } = lowered(['a = h * (1 - p);', 'b = (x);', 'if (c) { d = 1; }', 'while ((w)) { k = 2; }', 'if ((u) && v) { k = 3; }'], language);
      const paren = (e: Expr | undefined): string | undefined => (e?.parenSpan ? text.slice(e.parenSpan.start, e.parenSpan.end) : undefined);
      const assigns = body.filter((s): s is Stmt & { kind: 'assign' } => s.kind === 'assign');
      const blocks = body.filter((s): s is Stmt & { kind: 'block' } => s.kind === 'block');
      assert.equal(paren((assigns[0].value as Expr & { kind: 'binary' }).right), '(1 - p)', language);
      assert.equal(paren(assigns[1].value), '(x)', language);
      assert.equal(paren(blocks[0].heads[0]), undefined, language);
      assert.equal(paren(blocks[1].heads[0]), '(w)', language);
      assert.equal(paren(blocks[2].heads[0]), undefined, language);
      assert.equal(paren((blocks[2].heads[0] as Expr & { kind: 'other' }).children[0]), '(u)', language);
    }
    const { v, text } = values(['a = (x as number) * 2;', 'b = (<number>y) * 2;', 'c = (z!) * 2;'], 'typescript');
    for (const n of ['a', 'b', 'c']) assert.equal((v(n) as Expr & { kind: 'binary' }).left.parenSpan, undefined, `${n}: ${text}`);
  });

  it('marks unpacked arguments and elements, and keeps an object\'s spreads', () => {
    const py = values(['a = f(x, *xs, **kw, k=1)', 'b = [*xs, y]', 'c = {**base, "k": 1}', 'd = f(x > 0)'], 'python');
    const args = (e: Expr): Expr[] => (e as Expr & { kind: 'call' }).args;
    const spread = (e: Expr): string | undefined => (e.kind === 'other' ? e.spread : undefined);
    assert.deepEqual(args(py.v('a')).map(spread), [undefined, 'positional', 'keyword']);
    assert.deepEqual((py.v('b') as Expr & { kind: 'seq' }).items.map(spread), ['positional', undefined]);
    const dict = py.v('c') as Expr & { kind: 'object' };
    assert.deepEqual(dict.entries.map((e) => e.name), ['k']);
    assert.deepEqual(dict.spreads?.map((e) => (e.kind === 'name' ? e.name : e.kind)), ['base']);
    assert.deepEqual(args(py.v('d')).map(spread), [undefined]);
    const js = values(['a = f(x, ...xs);', 'b = [...xs, y];', 'c = { ...this, k: 1 };', 'd = { k: 1 };'], 'javascript');
    assert.deepEqual(args(js.v('a')).map(spread), [undefined, 'positional']);
    assert.deepEqual((js.v('b') as Expr & { kind: 'seq' }).items.map(spread), ['positional', undefined]);
    assert.deepEqual((js.v('c') as Expr & { kind: 'object' }).spreads?.map((e) => (e.kind === 'name' ? e.name : e.kind)), ['this']);
    assert.equal((js.v('d') as Expr & { kind: 'object' }).spreads, undefined);
  });

  it('marks JavaScript and TypeScript rest parameters, with their names', () => {
    const params = (lines: string[], language: LanguageId): { name: string; rest?: string }[][] =>
      lowered(lines, language).body.flatMap((s) => (s.kind === 'function' ? [s.params.map((p) => ({ name: p.name, ...(p.rest ? { rest: p.rest } : {}) }))] : []));
    assert.deepEqual(params(['function f(a, ...more) { return a; }', 'function g(a, b = 1) { return a; }'], 'javascript'), [
      [{ name: 'a' }, { name: 'more', rest: 'positional' }],
      [{ name: 'a' }, { name: 'b' }],
    ]);
    assert.deepEqual(params(['function f(this: Net, a: number, ...more: number[]) { return a; }'], 'typescript'), [[{ name: 'a' }, { name: 'more', rest: 'positional' }]]);
    assert.deepEqual(params(['def f(a, *xs, **kw):', '    return a'], 'python'), [[{ name: 'a' }, { name: 'xs', rest: 'positional' }, { name: 'kw', rest: 'keyword' }]]);
  });

  it('marks a method\'s receiver, whatever its name, and nothing else of that name', () => {
    /** Each `name` read in the text, as `name@line` with a `*` when it is marked a receiver. */
    const marks = (lines: string[], language: LanguageId): string[] => {
      const { body, text } = lowered(lines, language);
      const out: string[] = [];
      const line = (at: number): number => text.slice(0, at).split('\n').length;
      const visit = (e: Expr): void => {
        if (e.kind === 'name' && /^(self|s|me|cls|this)$/.test(e.name)) out.push(`${e.name}@${line(e.span.start)}${e.receiver ? '*' : ''}`);
        forEachChild(e, visit);
      };
      const stmts = (ss: readonly Stmt[]): void => {
        for (const s of ss) {
          if (s.kind === 'assign') [...s.targets, s.value].forEach(visit);
          else if (s.kind === 'expr') visit(s.expr);
          else if (s.kind === 'return' && s.value) visit(s.value);
          else if (s.kind === 'function' || s.kind === 'class') stmts(s.body);
        }
      };
      stmts(body);
      return out.sort();
    };
    assert.deepEqual(
      marks([
        'class Rows:',
        '    def scale(me, k):',
        '        me._data = me._data * k',
        '        def inner(x):',
        '            return me._data + x',
        '        def shadow(me):',
        '            return me',
        '        f = lambda s: s + me._data',
        '    @staticmethod',
        '    def make(s):',
        '        return s',
        '    @classmethod',
        '    def build(cls):',
        '        return cls',
        'def free(self):',
        '    return self._data',
      ], 'python'),
      ['cls@14*', 'me@3*', 'me@3*', 'me@5*', 'me@7', 'me@8*', 's@11', 's@8', 'self@16'],
    );
    // A class's decorators are not handed to its first method (a decorator named like `staticmethod` took its receiver away).
    assert.deepEqual(marks(['@registry.staticmethod', 'class Odd:', '    def f(self):', '        return self._data'], 'python'), ['self@4*']);
    assert.deepEqual(marks(['class A { f() { return this._data; } }', 'function g() { this.x = 1; }'], 'javascript'), ['this@1*', 'this@2*']);
  });
});
