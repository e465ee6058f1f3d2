// Bad input never crashes the engine: it returns findings for what it can read and a notice
// for what it cannot.
import * as assert from 'node:assert/strict';
import { DEFAULT_MAX_FILE_SIZE, initEngine, lintText, type LanguageId } from '../../server/engine';

const faulty = 'W -= lr * (dW + reg * np.sum(W * W))\n';

function lint(text: string, language: LanguageId = 'python') {
  return lintText(text, { language });
}

describe('bad input', () => {
  before(() => initEngine());

  it('lints an empty file to nothing', () => {
    assert.deepEqual(lint(''), { findings: [], notices: [] });
  });

  it('still finds mistakes after a syntax error, and says there was one', () => {
    const { findings, notices } = lint(`def broken(:\n    pass\n\n${faulty}`);
    assert.equal(findings.length, 1);
    assert.equal(findings[0].range.start.line, 3);
    assert.match(notices[0].message, /^syntax error at 1:\d+; the rest of the file was still checked$/);
  });

  it('survives every truncation of a faulty line (half-typed code)', () => {
    const text = `import numpy as np\ndef step(W, dW, lr, reg):\n    ${faulty}`;
    for (let i = 0; i <= text.length; i++) {
      const outcome = lint(text.slice(0, i));
      assert.ok(outcome.findings.length <= 1);
    }
    const ts = 'const w2 = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));\n';
    for (let i = 0; i <= ts.length; i++) lint(ts.slice(0, i), 'typescript');
  });

  it('skips a binary file with a clear notice', () => {
    const { findings, notices } = lint('\u0000\u0001\u0002ELF\u0000' + faulty);
    assert.deepEqual(findings, []);
    assert.deepEqual(notices, [{ kind: 'skipped', message: 'skipped: the file looks binary (it contains NUL bytes)' }]);
  });

  it('skips a 5 MB file with a clear notice', () => {
    const text = faulty.repeat(Math.ceil((5 * 1024 * 1024) / faulty.length));
    const { findings, notices } = lint(text);
    assert.deepEqual(findings, []);
    assert.equal(notices.length, 1);
    assert.equal(notices[0].message, `skipped: the file has ${text.length} characters, over the limit of ${DEFAULT_MAX_FILE_SIZE}`);
  });

  for (const [name, text, language] of [
    ['parentheses', `x = ${'('.repeat(10000)}1${')'.repeat(10000)}\n`, 'python'],
    ['calls', `y = ${'f('.repeat(10000)}x${')'.repeat(10000)}\n`, 'python'],
    ['a long sum', `W -= lr * (${'a + '.repeat(10000)}reg * np.sum(W * W))\n`, 'python'],
    ['arrays', `const y = ${'['.repeat(10000)}1${']'.repeat(10000)};\n`, 'typescript'],
  ] as const) {
    it(`handles 10,000-deep nested ${name} without a stack overflow`, () => {
      const { notices } = lint(text, language);
      assert.ok(notices.some((n) => n.message === 'some expressions nest too deeply to analyse; they were skipped'));
    });
  }

  it('reads a file whose helpers call themselves, or fan out into other helpers, without hanging', () => {
    // Each helper is seen into where a step calls it: a helper that recursed five ways, or a chain of
    // helpers that each call the next five times, once ran its body 5ᵈ times.
    const recursive = (i: number): string => `    def _grow${i}(self, X, y, depth):\n        if depth >= self.max_depth:\n            return np.mean(y)\n${[1, 2, 3, 4, 5].map((k) => `        a${k} = self._grow${i < 6 ? i + 1 : i}(X[${k}:], y[${k}:], depth + 1)\n`).join('')}        return a1 + a2 + a3 + a4 + a5\n\n`;
    const text = [
      'import numpy as np\n\n\nclass Tree:\n    def fit(self, X, y):\n        self.n_fits += 1\n        self.depth = self.depth + 1\n        self.root = self._grow1(X, y, 0)\n\n',
      [1, 2, 3, 4, 5, 6].map(recursive).join(''),
      'class Adam:\n    def step(self, w, g):\n        self.t += 1\n        self.m = self.b1 * self.m + (1 - self.b1) * g\n        self.v = self.b2 * self.v + (1 - self.b2) * g\n',
      '        m_hat = self.m / (1 - self.b1 ** self.t)\n        v_hat = self.v / (1 - self.b2 ** self.t)\n        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)\n        return w\n',
    ].join('');
    const { findings } = lint(text);
    assert.deepEqual(findings.map((f) => f.code), ['NB402']);
  });

  it('keeps the finding in a very long but shallow sum', () => {
    const { findings } = lint(`W -= lr * (${'a + '.repeat(10000)}reg * np.sum(W * W))\n`);
    assert.equal(findings.length, 1);
  });

  it('treats a byte-order mark, CRLF line ends, tabs and invalid UTF-8 replacement characters as text', () => {
    const text = '\ufeffimport numpy as np\r\ndef step(W, dW, lr, reg):\r\n\tW -= lr * (dW + reg * np.sum(W * W))  # \ufffd\ufffd\r\n';
    const { findings } = lint(text);
    assert.equal(findings.length, 1);
    assert.deepEqual(findings[0].range.start, { line: 2, character: 17 });
  });
});
