import * as assert from 'node:assert/strict';
import { DiagnosticSeverity, MessageType } from 'vscode-languageserver';
import type { Finding } from '../../server/engine';
import { fromDiagnosticData, toDiagnostic, toLintOptions, toLogMessage, toSeverity } from '../../server/lsp/convert';
import { DEFAULT_SETTINGS } from '../../server/lsp/settings';

const range = (line: number, start: number, end: number) => ({ start: { line, character: start }, end: { line, character: end } });

const finding: Finding = {
  code: 'NB101',
  severity: 'error',
  message: 'the penalty is used where its gradient belongs',
  range: range(2, 20, 39),
  related: [{ message: 'the penalty is defined here', range: range(1, 4, 10) }],
  fix: { title: 'Use the gradient 2·reg·W', safety: 'safe', edits: [{ range: range(2, 20, 39), newText: '2 * reg * W' }] },
  math: { computed: 'W ← W − lr·(dW + reg·ΣW²)', expected: 'W ← W − lr·(dW + 2·reg·W)' },
};

describe('lsp/convert', function () {
  it('maps every engine severity', function () {
    assert.equal(toSeverity('error'), DiagnosticSeverity.Error);
    assert.equal(toSeverity('warning'), DiagnosticSeverity.Warning);
    assert.equal(toSeverity('information'), DiagnosticSeverity.Information);
    assert.equal(toSeverity('hint'), DiagnosticSeverity.Hint);
  });

  it('turns a finding into a diagnostic with code, docs link, related info and data', function () {
    const uri = 'file:///a/step.py';
    const d = toDiagnostic(finding, uri);
    assert.deepEqual(d.range, range(2, 20, 39));
    assert.equal(d.severity, DiagnosticSeverity.Error);
    assert.equal(d.code, 'NB101');
    assert.equal(d.source, 'nabla');
    assert.match(d.codeDescription!.href, /docs\/rules\/NB101\.md$/);
    assert.equal(d.message, finding.message);
    assert.deepEqual(d.relatedInformation, [{ location: { uri, range: range(1, 4, 10) }, message: 'the penalty is defined here' }]);
    assert.deepEqual(d.data, { fix: finding.fix, math: finding.math });
    assert.deepEqual(fromDiagnosticData(JSON.parse(JSON.stringify(d.data))), { fix: finding.fix, math: finding.math });
  });

  it('omits relatedInformation and data when the finding has none', function () {
    const d = toDiagnostic({ ...finding, related: [], fix: undefined, math: undefined }, 'file:///a.py');
    assert.equal('relatedInformation' in d, false);
    assert.equal('data' in d, false);
  });

  it('does not share objects with the finding', function () {
    const d = toDiagnostic(finding, 'file:///a.py');
    d.range.start.line = 99;
    assert.equal(finding.range.start.line, 2);
  });

  it('reads unknown diagnostic data as empty', function () {
    assert.deepEqual(fromDiagnosticData(undefined), {});
    assert.deepEqual(fromDiagnosticData('x'), {});
    assert.deepEqual(fromDiagnosticData({ fix: { title: 3 } }), {});
  });

  it('builds lint options from settings', function () {
    const options = toLintOptions({ ...DEFAULT_SETTINGS, select: ['NB1'], ignore: ['NB102'], severity: { NB101: 'hint' } }, 'tsx');
    assert.deepEqual(options, { language: 'tsx', select: ['NB1'], ignore: ['NB102'], severity: { NB101: 'hint' } });
  });

  it('logs notices with the document URI, internal errors as errors', function () {
    const uri = 'file:///a.py';
    assert.deepEqual(toLogMessage({ kind: 'internal-error', message: 'rule NB101 failed' }, uri), {
      type: MessageType.Error,
      message: `${uri}: rule NB101 failed`,
    });
    assert.equal(toLogMessage({ kind: 'skipped', message: 'binary' }, uri).type, MessageType.Warning);
    assert.equal(toLogMessage({ kind: 'parse-error', message: 'syntax error' }, uri).type, MessageType.Log);
  });
});
