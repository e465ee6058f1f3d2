// The resolver: what a call runs, and which of its arguments fill which parameters, for the JS forms
// that hand `this` apart from the arguments (`f.call(t, …)`, `f.apply(t, [...])`, `f.bind(t, …)`),
// and Python's `obj.call(x)`, which stays an ordinary method call.
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { Project } from '../../server/engine/project';
import { programIndex } from '../../server/engine/facts/program';
import { callArguments, resolveCall } from '../../server/engine/facts/resolve';

interface Resolved {
  call: string;
  fn?: string;
  receiver?: string;
  /** Each parameter of the function with the argument the Analyzer binds to it. */
  bound?: Record<string, string>;
}

/** Every call of `entry` whose text starts with `prefix`, resolved, in source order. */
function resolvedCalls(files: Record<string, string>, entry: string, prefix: string): Resolved[] {
  const project = new Project({ root: '/p', host: { readFile: (p: string) => files[p.slice('/p/'.length)] } });
  const program = project.program();
  const parsed = project.load(`/p/${entry}`);
  assert.ok(parsed, entry);
  program.add(parsed);
  const facts = program.facts(parsed);
  const text = (s: { span: { start: number; end: number } }): string => program.source(s.span);
  return programIndex(facts)
    .calls.filter(({ call }) => text(call).startsWith(prefix))
    .map(({ call, scope, at }) => {
      const target = resolveCall(program, call, scope, at);
      if (!target) return { call: text(call) };
      const env = facts.analyzer.argumentEnv(call, target, scope, at, undefined);
      const bound = Object.fromEntries(target.fn.params.map((p) => [p.name, env.get(p.name) ? text(env.get(p.name)!.expr) : '-']));
      return { call: text(call), fn: target.fn.name, ...(target.receiver ? { receiver: text(target.receiver) } : {}), bound };
    });
}

describe('resolve: calls with an explicit this', () => {
  before(() => initEngine());

  it('reads Cls.m.call(t, a, b) of a class a module exports whole as m(a, b) run on t', () => {
    const files = {
      'rules.js': 'class Rules {\n  static step(value, direction) {\n    return value + this.rate * direction\n  }\n}\nmodule.exports = Rules\n',
      'unit.js': [
        "const Rules = require('./rules.js')",
        'function apply(net, w, d) {',
        '  w[0] = Rules.step.call(net, w[0], d)',
        '  w[1] = Rules.step.apply(net, [w[1], d])',
        '  w[2] = Rules.step.bind(net, w[2])(d)',
        '  w[3] = Rules.step(w[3], d)',
        '}',
        '',
      ].join('\n'),
    };
    assert.deepEqual(resolvedCalls(files, 'unit.js', 'Rules.step'), [
      { call: 'Rules.step.call(net, w[0], d)', fn: 'step', receiver: 'net', bound: { value: 'w[0]', direction: 'd' } },
      { call: 'Rules.step.apply(net, [w[1], d])', fn: 'step', receiver: 'net', bound: { value: 'w[1]', direction: 'd' } },
      { call: 'Rules.step.bind(net, w[2])(d)', fn: 'step', receiver: 'net', bound: { value: 'w[2]', direction: 'd' } },
      // The inner `bind` call runs no function of the project.
      { call: 'Rules.step.bind(net, w[2])' },
      // Called directly, a static method runs on its class.
      { call: 'Rules.step(w[3], d)', fn: 'step', receiver: 'Rules', bound: { value: 'w[3]', direction: 'd' } },
    ]);
  });

  it('reads plain functions, arrow functions and a name bound to f.bind(t) the same way', () => {
    const files = {
      'train.js': [
        'function nudge(value, direction) { return value + this.rate * direction }',
        'const shrink = (value, by) => value - by',
        'function fit(model, w, d) {',
        '  const step = nudge.bind(model)',
        '  w[0] = nudge.call(null, w[0], d)',
        '  w[1] = step(w[1], d)',
        '  w[2] = shrink.call(undefined, w[2], d)',
        '  w[3] = nudge.call()',
        '}',
        '',
      ].join('\n'),
    };
    assert.deepEqual(
      resolvedCalls(files, 'train.js', '').filter((r) => !r.call.startsWith('nudge.bind')),
      [
        { call: 'nudge.call(null, w[0], d)', fn: 'nudge', bound: { value: 'w[0]', direction: 'd' } },
        { call: 'step(w[1], d)', fn: 'nudge', receiver: 'model', bound: { value: 'w[1]', direction: 'd' } },
        { call: 'shrink.call(undefined, w[2], d)', fn: 'shrink', bound: { value: 'w[2]', by: 'd' } },
        { call: 'nudge.call()', fn: 'nudge', bound: { value: '-', direction: '-' } },
      ],
    );
  });

  it('reads a TypeScript this parameter as no parameter: this is the receiver, the arguments fill the others', () => {
    const files = { 'fit.ts': 'function advance(this: Model, value: number, direction: number) { return value + this.rate * direction }\nexport const w0 = advance.call(model, w[0], d)\n' };
    assert.deepEqual(resolvedCalls(files, 'fit.ts', 'advance'), [{ call: 'advance.call(model, w[0], d)', fn: 'advance', receiver: 'model', bound: { value: 'w[0]', direction: 'd' } }]);
    // Called on an object, as a method: the first argument is the first real parameter's.
    const method = { 'fit.ts': 'const model = { rate: 0.1, advance(this: Model, value: number, direction: number) { return value + this.rate * direction } }\nexport const w1 = model.advance(w[1], d)\n' };
    assert.deepEqual(resolvedCalls(method, 'fit.ts', 'model.advance'), [{ call: 'model.advance(w[1], d)', fn: 'advance', receiver: 'model', bound: { value: 'w[1]', direction: 'd' } }]);
  });

  it('leaves .call of an unknown function, and .apply of arguments it cannot place, unresolved', () => {
    const files = {
      'net.js': [
        'function nudge(value, direction) { return value + this.rate * direction }',
        'function fit(net, w, d, rest) {',
        '  w[0] = net.updateFn.call(net, w[0], d)',
        '  w[1] = nudge.apply(net, rest)',
        '  w[2] = Math.max.apply(null, w)',
        '  w[3] = nudge.call(...rest)',
        '}',
        '',
      ].join('\n'),
    };
    assert.deepEqual(
      resolvedCalls(files, 'net.js', '').map((r) => r.fn),
      [undefined, undefined, undefined, undefined],
    );
  });

  it('keeps a Python method named call an ordinary method call, its arguments unshifted', () => {
    const files = {
      'layers.py': [
        'class Decay:',
        '    def __init__(self, lam):',
        '        self.lam = lam',
        '    def call(self, w, scale):',
        '        return self.lam * scale * w',
        '',
        'def plain(a, b):',
        '    return a * b',
        '',
        'decay = Decay(1e-4)',
        'g = decay.call(W, 2.0)',
        'h = plain.call(W, 2.0)',
        '',
      ].join('\n'),
    };
    assert.deepEqual(resolvedCalls(files, 'layers.py', 'decay.call'), [{ call: 'decay.call(W, 2.0)', fn: 'call', receiver: 'decay', bound: { self: '-', w: 'W', scale: '2.0' } }]);
    // A Python function has no `.call`: not read as the JS form.
    assert.deepEqual(resolvedCalls(files, 'layers.py', 'plain.call'), [{ call: 'plain.call(W, 2.0)' }]);
  });

  it('gives callArguments the arguments after this, and the call its own otherwise', () => {
    const files = { 'a.js': 'function f(x, y) { return x + y }\nconst u = f.call(t, 1, 2)\nconst v = f(3, 4)\n' };
    const project = new Project({ root: '/p', host: { readFile: (p: string) => (p === '/p/a.js' ? files['a.js'] : undefined) } });
    const program = project.program();
    const parsed = project.load('/p/a.js')!;
    program.add(parsed);
    const texts = programIndex(program.facts(parsed)).calls.map(({ call, scope, at }) => {
      const target = resolveCall(program, call, scope, at)!;
      return callArguments(call, target).map((a) => program.source(a.span));
    });
    assert.deepEqual(texts, [['1', '2'], ['3', '4']]);
  });
});
