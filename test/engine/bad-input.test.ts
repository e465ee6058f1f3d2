// Bad input never crashes the engine: it returns findings for what it can read and a notice
// for what it cannot.
import * as assert from 'node:assert/strict';
import { DEFAULT_MAX_FILE_SIZE, initEngine, lintText, type LanguageId } from '../../server/engine';
import { analyzeDocument } from '../../server/engine/document';
import { explainIn } from '../../server/engine/explain';

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

  it('places a syntax error where the text is wrong, not where recovery wrapped it (an unterminated f-string on line 2)', () => {
    const text = `import numpy as np\ncrit = load(f'nets.loss_{settings.kind}\n    a, b = net(x)\n    outs = []\n    for i, t in enumerate(sizes):\nopt = make([np.zeros(1)])\nif settings: net.update(dict(x=1))\n`;
    const { notices } = lint(text);
    assert.match(notices[0].message, /^syntax error at 2:\d+/);
    // A closing bracket too many after a complete statement, prose after code, two names in a row.
    assert.match(lint('import numpy as np\nx = (1,\n     2))\n').notices[0].message, /^syntax error at 3:8/);
    assert.match(lint('import numpy as np\nopt = make([], lr=1e-3)\nAlpha runs better over a broad span.\nBeta is fine in a narrow span when it is low.\n').notices[0].message, /^syntax error at 3:\d+/);
    assert.match(lint('import numpy as np\nx = 1\nAlpha works well over a wide span.\n').notices[0].message, /^syntax error at 3:7/);
    // A quote never closed, as Python reports it ("unterminated string literal"), not the name before it.
    assert.match(lint("import numpy as np\nrate: 0.1\nshift': 0.5\nscale: 0.2\n").notices[0].message, /^syntax error at 3:6/);
    assert.match(lint("import numpy as np\nname = 'abc\ny = 2\n").notices[0].message, /^syntax error at 2:8/);
    // `mask = ` left while typing: the grammar reads the next line as its value, with no error node.
    assert.match(lint('import numpy as np\ndef f(a, b):\n    mask = \n    # pairs\n    return (a * b).sum()\n').notices[0].message, /^syntax error at 3:10/);
    assert.match(lint('import numpy as np\nx = \ny = 1\n').notices[0].message, /^syntax error at 2:3/);
    // Two statements glued in a method's body: recovery keeps the class whole around the error, which is
    // on line 8 (where CPython stops), not at the class's header on line 2.
    const glued = 'import numpy as np\nclass Model:\n    def __init__(self):\n        self.w = np.zeros(3)\n    def fit(self, x, steps):\n        for _ in range(steps):\n            self.w -= 0.1 * x\n        return self.w        if steps < 0:\n            raise ValueError(steps)\n';
    assert.match(lint(glued).notices[0].message, /^syntax error at 8:\d+/);
    // Not an error: a keyword argument, a bracket or a backslash carries the value onto the next line.
    assert.deepEqual(lint('import numpy as np\ny = f(a=\n      2)\nz = (3 +\n     4)\nw = \\\n    5\n').notices, []);
  });

  it('places a Python error the tree holds without an error node where CPython reports it, and says what is missing', () => {
    // A `for` left without `in`: the grammar reads on to the next `for`; CPython stops at the end of the line.
    const stray = lint(`import numpy as np\ndef accumulate(parts):\n    total = {}\n    for k \n\n    # collect\n    for k in sorted(parts):\n        total[k] = parts[k]\n    return total\n\n${faulty}`);
    assert.match(stray.notices[0].message, /^syntax error at 4:11 \(expected 'in' after the 'for' target\) and 1 more; the rest of the file was still checked$/);
    assert.equal(stray.findings.length, 1, 'the update after the broken function is still checked');
    // Two lines glued together: CPython stops at the second statement, not at a later error.
    const glued = lint("import os\nfrom tools import *   opts = {\n    'rate': 0.5,\n}\nn = 1\nm = len(opts)  if n is None:\n    m = 0\n");
    assert.match(glued.notices[0].message, /^syntax error at 2:23 \(expected a line break or ';' before this statement\)/);
    // An `if` with no indented body: CPython stops at the next line, naming the `if`'s line.
    const empty = lint('def report(p, q, verbose):\n    if verbose:\n        if q:\n    print(p)\n    else:\n        print(q)\n');
    assert.match(empty.notices[0].message, /^syntax error at 4:5 \(expected an indented block after 'if' statement on line 3\)/);
    assert.match(lint('import numpy as np\nfor w in ws:\n# todo\nprint(1)\n').notices[0].message, /^syntax error at 4:1 \(expected an indented block after 'for' statement on line 2\)/);
    assert.match(lint('import numpy as np\ndef step(w):\n').notices[0].message, /^syntax error at 3:1 \(expected an indented block after function definition on line 2\)/);
    // A header over two lines without brackets; a simple statement the same.
    assert.match(lint('import numpy as np\nif ready\n        and armed:\n    pass\n').notices[0].message, /^syntax error at 2:9 \(expected ':'\)/);
    assert.match(lint('import numpy as np\ny = np.ones(3) +\n    np.zeros(3)\n').notices[0].message, /^syntax error at 2:17 \(the statement is incomplete at the end of its line\)/);
    assert.match(lint('import numpy as np\nx = \ny = 1\n').notices[0].message, /^syntax error at 2:3 \(expected a value after '='\)/);
  });

  it("gives Python 2's backtick repr a notice where CPython 3 stops, saying why", () => {
    // The grammar reads `x` as a string; CPython 3 has no backtick token.
    const one = lint('import numpy as np\n\ndef show(w):\n    s = "w = " + `w`\n    return s\n');
    assert.equal(one.notices.length, 1);
    assert.match(one.notices[0].message, /^syntax error at 4:18 \(backticks are Python 2's repr\(\), which Python 3 removed: write repr\(\.\.\.\)\); the rest of the file was still checked/);
    // The first one is named, the others counted; a backtick in a string or comment before it is text.
    const two = lint('x = "`"  # `\ny = `x` + `[1, 2]`\n');
    assert.match(two.notices[0].message, /^syntax error at 2:5 \(backticks are Python 2's repr\(\).*\) and 1 more;/);
    // The rest of the file is still checked.
    const checked = lint(`import numpy as np\ndef step(W, dW, lr, reg):\n    tag = \`lr\`\n    ${faulty}`);
    assert.equal(checked.findings.length, 1);
    assert.match(checked.notices[0].message, /^syntax error at 3:11 \(backticks/);
  });

  it('stays silent on valid Python laid out over lines, one-line bodies and docstring-only bodies', () => {
    const valid = [
      'x = 1 + \\\n    2\ny = (1 +\n     2)\n',
      'total = sum(v * v\n            for v in range(10)\n            if v)\nfor a in (b\n          for b in range(3)):\n    pass\n',
      'if x: pass\nif y: z = 1; w = 2\nclass B: pass\n',
      'def f():\n    """Only a docstring."""\ndef g(): ...\nclass A:\n    ...\n',
      's = """multi\nline"""; t = 2\nu = f"""{x}\n{y}"""\nv = (\'a\'\n     \'b\')\nw = \'a\' \\\n    \'b\'\n',
      '@staticmethod\ndef h(\n    p,\n    q,\n) -> int:\n    return p\n',
      "with open('f') as fh, \\\n        open('g') as gh:\n    pass\nwhile (x >\n       y):\n    x -= 1\n",
      'try:\n    pass\nexcept (ValueError,\n        TypeError):\n    pass\nelse:\n    pass\nfinally:\n    pass\n',
      'match x:\n    case 1:\n        pass\n    case _:\n        pass\n',
      'if x:\n    pass\n# a comment\nelif y:\n    pass\nelse:  # trailing\n    pass\n',
      'x = 1 \\\r\n    + 2\r\nif x:\r\n    pass\r\n',
    ];
    for (const text of valid) assert.deepEqual(lint(text).notices, [], text);
    // Backticks in strings, docstrings and comments are text (Markdown in a docstring is common).
    assert.deepEqual(lint('def f(x):\n    """Return `x` as `repr(x)`."""\n    s = "a `b` c"  # `c`\n    return s\n').notices, []);
    // Python 2 statements the grammar reads (print, exec, `except E, e`) keep their silence.
    assert.deepEqual(lint('import os\nprint "hello %s" % os.name\nprint >>f, "x"\nexec code in ns\ntry:\n    pass\nexcept Exception, e:\n    print e\n').notices, []);
  });

  it('reads a bracketed condition continued left of its statement as CPython does (tabs then spaces): no notice, the rest read', () => {
    // tree-sitter-python's scanner ends the block at the continuation line (a DEDENT where no `)` may
    // come, after `and`); CPython ignores indentation inside brackets. parseRecovery.ts reads it again.
    const compare = 'def same_shape(blocks, ref):\n\tfor blk in blocks:\n\t\tif True:\n\t\t\tif not (blk.stride == ref.stride and blk.size == ref.size and \n\t\t   blk.depth == ref.depth):\n\t\t\t\tprint(blk)\n\treturn 0\n';
    assert.deepEqual(lint(compare).notices, []);
    assert.deepEqual(lint(compare.replace(/\t/g, '    ')).notices, [], 'with spaces');
    assert.deepEqual(lint('if w:\n      if not (a.s == w.s and\n   l1.d == w.d):\n          print(a)\n').notices, [], 'further left than the `if`, spaces only');
    // A trailing operator in a call, a subscript and a list; a comment line and a string inside the brackets.
    assert.deepEqual(lint('def f(xs, k):\n        t = g(xs[0] +\n  xs[1], k)\n        u = xs[k *\n 2]\n        v = [1,  # one\n  # two\n 2, "(" +\n \'x\']\n        return t, u, v\n').notices, []);
    // The rest of the file is still read: an update after the function is still checked.
    assert.equal(lint(`import numpy as np\n${compare}${faulty}`).findings.length, 1);
    // A real error further on is still reported, where it is.
    assert.match(lint(`${compare}x = \ny = 1\n`).notices[0].message, /^syntax error at 8:3 \(expected a value after '='\)/);
    // Outside brackets the layout is CPython's too: a statement run over a line break is still an error.
    assert.match(lint('def f(a, b):\n    if a:\n        if (a and\n  b) and\n  a:\n            pass\n').notices[0]?.message ?? '', /^syntax error/);
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

  it('reads a power call whose exponent is not typed yet (w.pow(), np.power(w)) without a rule crashing', () => {
    for (const call of ['w.pow()', 'np.power(w)', 'torch.pow()']) {
      const { notices } = lint(`import numpy as np\nimport torch\n\ndef f(w, y, lam=1e-4):\n    w.requires_grad_()\n    loss = ((w - y) ** 2).sum() + lam * ${call}\n    loss.backward()\n    return loss\n`);
      assert.deepEqual(notices, [], call);
    }
  });

  it('does not crash NB206 when a model name is bound again after a loop over its layers (fuzz, default seed)', () => {
    const text = [
      'import tensorflow as tf',
      'from tensorflow.keras import layers, regularizers',
      '',
      'def widen(lam):',
      '    net = tf.keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(1)])',
      '    for lyr in net.layers:',
      '        pass',
      '    net = tf.keras.models.clone_model(net)',
      '    setattr(lyr, "kernel_regularizer", regularizers.l2(lam))',
      '    return net',
      '',
    ].join('\n');
    assert.deepEqual(lint(text).notices, []);
  });

  it('skips a binary file with a clear notice', () => {
    const { findings, notices } = lint('\u0000\u0001\u0002ELF\u0000' + faulty);
    assert.deepEqual(findings, []);
    assert.deepEqual(notices, [{ kind: 'skipped', message: 'skipped: the file looks binary (it contains NUL bytes)' }]);
  });

  it('skips real binaries (an executable header, UTF-16, random bytes) but checks a text file with a stray NUL', () => {
    const skipped = [{ kind: 'skipped', message: 'skipped: the file looks binary (it contains NUL bytes)' }];
    // An ELF header before a long text: its NULs are many.
    const elf = '\u007fELF\u0002\u0001\u0001' + '\u0000'.repeat(9) + '\u0002\u0000>\u0000\u0001\u0000\u0000\u0000' + faulty.repeat(20);
    assert.deepEqual(lint(elf).notices, skipped);
    // UTF-16 read as UTF-8: a NUL after every character.
    assert.deepEqual(lint(faulty.repeat(40).replace(/./g, '$&\u0000')).notices, skipped);
    // Random bytes with NULs.
    let seed = 36001;
    const bytes = Array.from({ length: 4000 }, () => String.fromCharCode((seed = (seed * 1103515245 + 12345) % 2147483648) % 256)).join('');
    assert.deepEqual(lint(bytes).notices, skipped);
    // A doc comment with a stray NUL (a mangled ²) in a long TS file: checked, the NUL read as a space.
    const ts = ['/**', ' * Square function.', ' * @returns a\u0000B2', ' */', 'export function fit(w: number[], g: number[], lr: number, lam: number): void {', '  for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + lam * w[i] * w[i]);', '}', ''].join('\n');
    const stray = lintText(ts + '// padding\n'.repeat(30), { language: 'typescript' });
    assert.deepEqual(stray.notices, []);
    assert.deepEqual(stray.findings.map((f) => f.code), ['NB101']);
    // The same in Python, in a comment and a string.
    assert.deepEqual(lint('# weight\u0000decay\nnote = "a\u0000b"\n' + faulty).findings.map((f) => f.code), lint(faulty).findings.map((f) => f.code));
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
  it("reads the names every JS object inherits (toString, constructor, __proto__, …) as the user's own", () => {
    // Tables of framework names are looked up by the user's names: `np.toString(w)` once found
    // Object.prototype's function there and six rules crashed on a real tfjs library.
    for (const name of ['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__']) {
      const py = [
        'import numpy as np', 'import torch', 'import tensorflow as tf', 'import optax',
        `${name} = 0.1`,
        `class ${name}(torch.optim.Optimizer):`, '    def step(self):', '        for p in self.params:', `            p.${name}(p.grad)`,
        `def ${name}(w, g, m, lr=0.1):`,
        `    w -= lr * (g + ${name} * w)`,
        `    w -= lr * (g + 0.1 * np.${name}(w))`,
        `    np.${name}(w)`, `    tf.${name}(w)`, `    optax.${name}(0.1)`,
        `    opt = torch.optim.${name}(model.parameters(), weight_decay=0.1)`,
        `    layer = tf.keras.layers.${name}(3, kernel_regularizer=tf.keras.regularizers.l2(0.1))`,
        `    v = tf.compat.v1.${name}('w', [3, 3])`, `    torch.nn.${name}(3, 3)`,
        `    w.${name}(w - lr * g)`,
        '    m = 0.9 * m + 0.1 * g',
        `    w -= lr * m / (np.sqrt(${name}) + 1e-8)`,
        '    return w', '',
      ].join('\n');
      const ts = [
        "import * as tf from '@tensorflow/tfjs';",
        `const ${name}Decay = 0.1;`,
        'function step(w, g, lr) {',
        `  const opt = tf.train.${name}(0.1);`,
        `  w = w.sub(g.add(w.mul(${name}Decay)).mul(lr));`,
        `  tf.${name}(w);`, `  w.${name}(w.sub(g.mul(lr)));`, `  const m = Math.${name}(w);`,
        '  return w;', '}', '',
      ].join('\n');
      for (const [text, language] of [[py, 'python'], [ts, 'typescript'], [ts, 'javascript']] as const) {
        const { findings, notices } = lint(text, language);
        assert.deepEqual(notices.filter((n) => n.kind === 'internal-error'), [], `${name} in ${language}`);
        // The hover of every line, as the server asks it of the lint's analysis.
        const analysis = analyzeDocument(text, language);
        for (let offset = 0; offset < text.length; offset = text.indexOf('\n', offset) + 1 || text.length) {
          const ex = explainIn(analysis, offset + 4, () => findings, (error) => assert.fail(`hover on ${name} in ${language}: ${String(error)}`));
          assert.doesNotMatch(JSON.stringify(ex ?? {}), /undefined/, `hover on ${name} in ${language}`);
        }
      }
    }
  });
});
