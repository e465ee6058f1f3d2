// Which language a document is linted as: its language id, or its extension when the id says nothing.
import * as assert from 'node:assert/strict';
import { languageForDocument, languageForPath } from '../../server/engine';

describe('languageForDocument', function () {
  it('takes the language id when it names a language Nabla lints, whatever the extension', function () {
    assert.equal(languageForDocument('python', 'file:///w/train'), 'python');
    assert.equal(languageForDocument('typescriptreact', 'file:///w/App.js'), 'tsx');
    assert.equal(languageForDocument('javascriptreact', 'untitled:Untitled-1'), 'javascript');
  });

  it('falls back to the extension for an empty id or one the LSP specification does not list', function () {
    assert.equal(languageForDocument('', 'file:///w/train.py'), 'python');
    assert.equal(languageForDocument('', '/w/stubs/model.pyi'), 'python');
    assert.equal(languageForDocument('js', 'file:///w/step.mjs'), 'javascript'); // eglot's js-mode
    assert.equal(languageForDocument('tsx', 'file:///w/App.tsx'), 'tsx'); // eglot's tsx-ts-mode
    assert.equal(languageForDocument('python3', 'file:///w/train.py?ref=main#L3'), 'python');
  });

  it('leaves other extensions, and files the client calls another language, alone', function () {
    assert.equal(languageForDocument('', 'file:///w/notes.txt'), undefined);
    assert.equal(languageForDocument('', 'file:///w/Makefile'), undefined);
    assert.equal(languageForDocument('', 'file:///w.py/README'), undefined);
    assert.equal(languageForDocument('plaintext', 'file:///w/train.py'), undefined);
    assert.equal(languageForDocument('markdown', 'file:///w/train.py'), undefined);
    assert.equal(languageForDocument('json', 'file:///w/step.js'), undefined);
  });

  it('leaves TypeScript declaration files alone: they hold types, no code that runs', function () {
    assert.equal(languageForDocument('typescript', 'file:///w/dist/model.d.ts'), undefined);
    assert.equal(languageForDocument('', 'file:///w/dist/index.d.mts?x=1'), undefined);
    assert.equal(languageForPath('/w/types/global.d.cts'), undefined);
    assert.equal(languageForPath('/w/src/model.ts'), 'typescript');
    assert.equal(languageForPath('/w/src/d.ts'), 'typescript');
  });
});
