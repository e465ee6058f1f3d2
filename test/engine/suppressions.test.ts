// Suppression comments and NB001 unused-suppression, through lintText (the engine applies them,
// so the CLI and the language server agree), plus the edit behind "Ignore NBxxx on this line".
import * as assert from 'node:assert/strict';
import { applyEdits, initEngine, lintText, suppressionEdit, type Finding, type LanguageId, type LintOptions } from '../../server/engine';

const PY_HEAD = 'import numpy as np\ndef grad(W, X, dout, reg):\n    dW = X.T.dot(dout)\n';
/** NB101 on line 3 (0-based), with an unsafe fix. */
const PY_LINE = '    dW += reg * np.sum(W * W)';
const PY_TAIL = '\n    return dW\n';
const py = (line: string, head = PY_HEAD, tail = PY_TAIL): string => head + line + tail;

const TS_HEAD = 'function step(w, g, lr, reg) {\n';
const TS_LINE = '  w = w.sub(g.add(w.square().sum().mul(reg)).mul(lr));';
const TS_TAIL = '\n  return w;\n}\n';
const ts = (line: string, head = TS_HEAD): string => head + line + TS_TAIL;

function lint(text: string, language: LanguageId = 'python', options: Omit<LintOptions, 'language'> = {}): Finding[] {
  return lintText(text, { language, ...options }).findings;
}

function codes(findings: Finding[]): string[] {
  return findings.map((f) => `${f.code}@${f.range.start.line}`);
}

/** Applies the fix of the only NB001 finding and returns the new text. */
function fixUnused(text: string, language: LanguageId = 'python'): string {
  const unused = lint(text, language).filter((f) => f.code === 'NB001');
  assert.equal(unused.length, 1, JSON.stringify(unused));
  assert.equal(unused[0].fix?.safety, 'safe');
  return applyEdits(text, unused[0].fix!.edits);
}

describe('suppressions', function () {
  before(() => initEngine());

  it('the unsuppressed fixtures of this test report NB101', function () {
    assert.deepEqual(codes(lint(py(PY_LINE))), ['NB101@3']);
    assert.deepEqual(codes(lint(ts(TS_LINE), 'typescript')), ['NB101@1']);
  });

  describe('Python', function () {
    it('# nabla: ignore[CODE] on the line suppresses that code', function () {
      assert.deepEqual(lint(py(`${PY_LINE}  # nabla: ignore[NB101]`)), []);
      assert.deepEqual(lint(py(`${PY_LINE}  #nabla:ignore[nb101]`)), [], 'spacing and case do not matter');
      assert.deepEqual(lint(py(`${PY_LINE}  # nabla: ignore[NB101] the ½ convention is used here`)), [], 'a reason may follow');
      assert.deepEqual(lint(py(`${PY_LINE}  # type: ignore  # nabla: ignore[NB101]`)), [], 'after another comment');
    });

    it('a list of codes, a blanket ignore, and a bare list are accepted', function () {
      assert.deepEqual(codes(lint(py(`${PY_LINE}  # nabla: ignore[NB101, NB201]`))).filter((c) => c.startsWith('NB101')), []);
      assert.deepEqual(lint(py(`${PY_LINE}  # nabla: ignore`)), []);
      assert.deepEqual(lint(py(`${PY_LINE}  # nabla: ignore NB101`)), []);
    });

    it('another code, or a comment on another line, does not suppress', function () {
      const other = lint(py(`${PY_LINE}  # nabla: ignore[NB201]`));
      assert.ok(other.some((f) => f.code === 'NB101'));
      const lineAbove = lint(py(`    # nabla: ignore[NB101]\n${PY_LINE}`));
      assert.ok(lineAbove.some((f) => f.code === 'NB101'), 'a plain ignore covers its own line only');
    });

    it('ignore-next-line covers the next line', function () {
      assert.deepEqual(lint(py(`    # nabla: ignore-next-line[NB101]\n${PY_LINE}`)), []);
      assert.deepEqual(lint(py(`    # nabla: ignore-next-line\n${PY_LINE}`)), []);
    });

    it('ignore-file anywhere covers the whole file, optionally by code', function () {
      assert.deepEqual(lint(py(PY_LINE, `# nabla: ignore-file[NB101]\n${PY_HEAD}`)), []);
      assert.deepEqual(lint(py(PY_LINE, PY_HEAD, `${PY_TAIL}# nabla: ignore-file\n`)), []);
      assert.ok(lint(py(PY_LINE, `# nabla: ignore-file[NB201]\n${PY_HEAD}`)).some((f) => f.code === 'NB101'));
    });

    it('text in a string is not a directive', function () {
      const text = py(`${PY_LINE}; s = "# nabla: ignore[NB101]"`);
      assert.ok(lint(text).some((f) => f.code === 'NB101'));
      assert.ok(!lint(text).some((f) => f.code === 'NB001'), 'and not an unused one either');
    });
  });

  describe('TypeScript and JavaScript', function () {
    it('// nabla-ignore CODE, a blanket // nabla-ignore, and a reason after --', function () {
      assert.deepEqual(lint(ts(`${TS_LINE} // nabla-ignore NB101`), 'typescript'), []);
      assert.deepEqual(lint(ts(`${TS_LINE} // nabla-ignore NB101, NB201 -- intended`), 'typescript').filter((f) => f.code === 'NB101'), []);
      assert.deepEqual(lint(ts(`${TS_LINE} // nabla-ignore`), 'typescript'), []);
      assert.deepEqual(lint(ts(`${TS_LINE} /* nabla-ignore NB101 */`), 'typescript'), []);
      assert.deepEqual(lint(ts(`${TS_LINE} // nabla-ignore NB101`), 'javascript'), []);
    });

    it('// nabla-ignore-next-line and // nabla-ignore-file', function () {
      assert.deepEqual(lint(ts(`  // nabla-ignore-next-line NB101\n${TS_LINE}`), 'typescript'), []);
      assert.deepEqual(lint(ts(TS_LINE, `// nabla-ignore-file NB101\n${TS_HEAD}`), 'typescript'), []);
      assert.deepEqual(lint(ts(TS_LINE, `// nabla-ignore-file\n${TS_HEAD}`), 'typescript'), []);
    });

    it('a template literal is not a comment', function () {
      const text = ts(`${TS_LINE} const s = \`// nabla-ignore NB101\`;`);
      assert.ok(lint(text, 'typescript').some((f) => f.code === 'NB101'));
    });
  });

  describe('NB001 unused-suppression', function () {
    it('reports a directive that suppresses nothing, with a safe fix that removes the trailing comment', function () {
      const text = py('    dW += 2 * reg * W  # nabla: ignore[NB101]');
      const [finding, ...rest] = lint(text);
      assert.deepEqual(rest, []);
      assert.equal(finding.code, 'NB001');
      assert.equal(finding.severity, 'warning');
      assert.match(finding.message, /no NB101 finding on this line/);
      assert.equal(fixUnused(text), py('    dW += 2 * reg * W'));
    });

    it('removes a directive alone on its line together with the line', function () {
      const text = py('    dW += 2 * reg * W', `# nabla: ignore-file[NB101]\n${PY_HEAD}`);
      assert.equal(fixUnused(text), py('    dW += 2 * reg * W'));
      const next = py(`    # nabla: ignore-next-line[NB101]\n    dW += 2 * reg * W`);
      assert.equal(fixUnused(next), py('    dW += 2 * reg * W'));
      const crlf = py(PY_LINE).replace(/\n/g, '\r\n').replace('\r\n    return', '\r\n    x = 1  # nabla: ignore\r\n    return');
      assert.equal(fixUnused(crlf), py(PY_LINE).replace(/\n/g, '\r\n').replace('\r\n    return', '\r\n    x = 1\r\n    return'));
      assert.ok(lint(fixUnused(crlf)).every((f) => f.code !== 'NB001'));
    });

    it('removes only the unused codes of a directive that is partly used', function () {
      const text = py(`${PY_LINE}  # nabla: ignore[NB101, NB201]`);
      const unused = lint(text).filter((f) => f.code === 'NB001');
      assert.equal(unused.length, 1);
      assert.match(unused[0].message, /no NB201 finding/);
      assert.equal(fixUnused(text), py(`${PY_LINE}  # nabla: ignore[NB101]`));
      assert.deepEqual(lint(fixUnused(text)), []);
    });

    it('reports codes that are not rules', function () {
      const text = py(`${PY_LINE}  # nabla: ignore[NB101, NB10]`);
      const [unused] = lint(text);
      assert.equal(unused.code, 'NB001');
      assert.match(unused.message, /NB10 is not a rule code/);
      assert.equal(fixUnused(text), py(`${PY_LINE}  # nabla: ignore[NB101]`));
    });

    it('reports an unused blanket directive, and in TypeScript', function () {
      const text = py('    x = 1  # nabla: ignore');
      assert.deepEqual(codes(lint(text)), ['NB001@3']);
      const tsText = ts('  w = w.sub(g.mul(lr)); // nabla-ignore NB101');
      assert.deepEqual(codes(lint(tsText, 'typescript')), ['NB001@1']);
      assert.equal(fixUnused(tsText, 'typescript'), ts('  w = w.sub(g.mul(lr));'));
      const block = ts('  w = w.sub(/* nabla-ignore NB101 */ g.mul(lr));');
      assert.equal(fixUnused(block, 'typescript'), ts('  w = w.sub(g.mul(lr));'));
    });

    it('does not judge codes whose rule did not run, nor blanket directives while a rule is off', function () {
      const text = py('    dW += 2 * reg * W  # nabla: ignore[NB101]');
      assert.deepEqual(lint(text, 'python', { select: ['NB0', 'NB2'] }), []);
      assert.deepEqual(lint(text, 'python', { ignore: ['NB101'] }), []);
      const blanket = py('    x = 1  # nabla: ignore');
      assert.deepEqual(lint(blanket, 'python', { ignore: ['NB2'] }), []);
    });

    it('follows select, ignore and severity like any rule', function () {
      const text = py('    dW += 2 * reg * W  # nabla: ignore[NB101]');
      assert.deepEqual(lint(text, 'python', { ignore: ['NB001'] }), []);
      assert.deepEqual(lint(text, 'python', { select: ['NB1'] }), []);
      assert.equal(lint(text, 'python', { severity: { NB001: 'hint' } })[0].severity, 'hint');
    });

    it('is suppressed only by a directive that names it', function () {
      assert.deepEqual(lint(py('    dW += 2 * reg * W  # nabla: ignore[NB101, NB001]')), []);
      assert.deepEqual(lint(py('    dW += 2 * reg * W  # nabla: ignore[NB101]', `# nabla: ignore-file[NB001]\n${PY_HEAD}`)), []);
      assert.deepEqual(codes(lint(py('    dW += 2 * reg * W  # nabla: ignore[NB101]', `# nabla: ignore-file\n${PY_HEAD}`))).sort(), ['NB001@0', 'NB001@4']);
    });

    it('stays quiet in a file with syntax errors', function () {
      assert.deepEqual(lint(py('    dW += 2 * reg * W  # nabla: ignore[NB101]', `${PY_HEAD}    x = (\n`)), []);
    });
  });

  describe('suppressionEdit ("Ignore NBxxx on this line")', function () {
    function suppress(text: string, language: LanguageId, line: number, code = 'NB101', scope: 'line' | 'file' = 'line'): string {
      const edit = suppressionEdit(text, language, line, code, scope);
      assert.ok(edit, 'an edit');
      return applyEdits(text, [edit]);
    }

    it('appends a directive to the line, which then lints clean', function () {
      const fixed = suppress(py(PY_LINE), 'python', 3);
      assert.equal(fixed, py(`${PY_LINE}  # nabla: ignore[NB101]`));
      assert.deepEqual(lint(fixed), []);
      const tsFixed = suppress(ts(TS_LINE), 'typescript', 1);
      assert.equal(tsFixed, ts(`${TS_LINE}  // nabla-ignore NB101`));
      assert.deepEqual(lint(tsFixed, 'typescript'), []);
    });

    it('extends a directive already on the line', function () {
      assert.equal(suppress(py(`${PY_LINE}  # nabla: ignore[NB201]`), 'python', 3), py(`${PY_LINE}  # nabla: ignore[NB201, NB101]`));
      assert.equal(suppress(ts(`${TS_LINE} // nabla-ignore NB201`), 'typescript', 1), ts(`${TS_LINE} // nabla-ignore NB201, NB101`));
      assert.equal(suppressionEdit(py(`${PY_LINE}  # nabla: ignore[NB101]`), 'python', 3, 'NB101'), undefined, 'already suppressed');
    });

    it('goes above the line when its end is inside a string or after a line continuation', function () {
      const text = 'x = reg + len("""a\nb""")\n';
      assert.equal(suppress(text, 'python', 0), '# nabla: ignore-next-line[NB101]\nx = reg + len("""a\nb""")\n');
      const continued = 'def f(reg):\n    y = reg + \\\n        1\n';
      assert.equal(suppress(continued, 'python', 1), 'def f(reg):\n    # nabla: ignore-next-line[NB101]\n    y = reg + \\\n        1\n');
      const template = 'const s = w.sub(`a\n${b}`);\n';
      assert.equal(suppress(template, 'typescript', 0), '// nabla-ignore-next-line NB101\nconst s = w.sub(`a\n${b}`);\n');
    });

    it('finds the line with \\r\\n, \\r and \\n breaks, and the last line with or without a break', function () {
      for (const eol of ['\n', '\r\n', '\r']) {
        const text = ['x = 1', PY_HEAD.trimEnd(), PY_LINE, '    return dW'].join('\n').replace(/\n/g, eol);
        const lines = text.split(eol);
        const at = lines.indexOf(PY_LINE);
        assert.equal(suppress(text, 'python', at), text.replace(PY_LINE, `${PY_LINE}  # nabla: ignore[NB101]`), JSON.stringify(eol));
        assert.equal(suppress(text + eol, 'python', lines.length - 1), text.replace(/return dW$/, 'return dW  # nabla: ignore[NB101]') + eol);
        assert.equal(suppressionEdit(text, 'python', lines.length + 1, 'NB101'), undefined, 'past the last line');
      }
    });

    it('gives up where no comment fits, e.g. inside JSX text', function () {
      const jsx = 'const a = <div>\n  {w.sub(x)} text\n  more\n</div>;\n';
      assert.equal(suppressionEdit(jsx, 'tsx', 1, 'NB101'), undefined);
    });

    it('puts a file directive after the shebang and the encoding line', function () {
      const text = `#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n${py(PY_LINE)}`;
      const fixed = suppress(text, 'python', 0, 'NB101', 'file');
      assert.equal(fixed, `#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n# nabla: ignore-file[NB101]\n${py(PY_LINE)}`);
      assert.deepEqual(lint(fixed), []);
    });
  });
});
