// Browser pages as the link between classic scripts: which `<script src>` tags a page loads
// (pages.ts), and which scripts share a script's globals (Project.pageMates, implicitGlobals.ts).
import * as assert from 'node:assert/strict';
import { initEngine } from '../../server/engine';
import { Project } from '../../server/engine/project';
import { pageScripts } from '../../server/engine/pages';
import { implicitGlobalOwner } from '../../server/engine/facts/implicitGlobals';

/** A project over in-memory files under /p, with folder listings. */
function projectOf(files: Record<string, string>): Project {
  const host = {
    readFile: (p: string) => files[p.slice('/p/'.length)],
    listFolder: (dir: string) => {
      const prefix = dir === '/p' ? '' : `${dir.slice('/p/'.length)}/`;
      if (dir !== '/p' && !dir.startsWith('/p/')) return undefined;
      const names = Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length));
      return { files: names.filter((n) => !n.includes('/')), folders: [...new Set(names.filter((n) => n.includes('/')).map((n) => n.split('/')[0]))] };
    },
  };
  return new Project({ root: '/p', host });
}

function mates(files: Record<string, string>, entry: string): string[] {
  const project = projectOf(files);
  const program = project.program();
  const parsed = project.load(`/p/${entry}`)!;
  program.add(parsed);
  return program.pageMates(parsed).map((p) => p.file.path.slice('/p/'.length));
}

function owner(files: Record<string, string>, entry: string, name: string): string | undefined {
  const project = projectOf(files);
  const program = project.program();
  const parsed = project.load(`/p/${entry}`)!;
  program.add(parsed);
  return implicitGlobalOwner(program, parsed, name)?.parsed.file.path.slice('/p/'.length);
}

describe('browser pages link classic scripts', () => {
  before(() => initEngine());

  it('reads the local script sources of a page, not remote ones, commented-out tags or templates', () => {
    const html = `<script src="https://cdn.example.org/tf.js"></script>
      <script src="//cdn.example.org/x.js"></script>
      <!-- <script src="old.js"></script> -->
      <script src='js/a.js?v=2'></script>
      <script type="module" src=b.js></script>
      <script src="{{ url_for('static', filename='c.js') }}"></script>
      <script>inline()</script>
      <SCRIPT SRC="/lib/d.js#x"></SCRIPT>`;
    assert.deepEqual(pageScripts(html), [
      { src: 'js/a.js', module: false },
      { src: 'b.js', module: true },
      { src: '/lib/d.js', module: false },
    ]);
  });

  it('bad pages read as no scripts', () => {
    for (const html of ['', '<script', '<script src=', '<script src="">', '<!--', '<script src="a.js"'.repeat(100)]) assert.deepEqual(pageScripts(html), [], html.slice(0, 40));
  });

  it('reads the src and type attributes only, not data-src or data-type', () => {
    const html = `<script data-src="lazy.js"></script>
      <script data-type="module" src="a.js"></script>
      <script data-src="lazy.js" src="b.js"></script>
      <script\ntype="module"\nsrc="c.js"></script>`;
    assert.deepEqual(pageScripts(html), [
      { src: 'a.js', module: false },
      { src: 'b.js', module: false },
      { src: 'c.js', module: true },
    ]);
  });

  const demo = {
    'site/index.html': '<script src="js/nets.js"></script><script src="js/app.js"></script><script src="js/mod.js" type="module"></script>',
    'site/other.html': '<script src="js/lone.js"></script>',
    'site/js/nets.js': 'function build(shape) { return shape; }\n',
    'site/js/app.js': 'const m = build([2]);\n',
    'site/js/lone.js': 'const n = build([3]);\n',
    'site/js/mod.js': 'export function build(s) { return s; }\n',
  };

  it('the scripts a page loads share their globals; a page in the folder above counts', () => {
    assert.deepEqual(mates(demo, 'site/js/app.js'), ['site/js/nets.js']);
    assert.equal(owner(demo, 'site/js/app.js', 'build'), 'site/js/nets.js');
  });

  it('scripts of different pages share nothing', () => {
    assert.deepEqual(mates(demo, 'site/js/lone.js'), []);
    assert.equal(owner(demo, 'site/js/lone.js', 'build'), undefined);
  });

  it('with no page, the classic scripts of the folder that no page loads; modules and required files stay out', () => {
    const files = {
      'sketch/a.js': 'function helper(x) { return x; }\n',
      'sketch/b.js': 'const y = helper(2);\n',
      'sketch/c.js': "const z = require('./a');\n",
      'sketch/d.mjs': 'export const w = 1;\n',
      'sketch/e.js': 'import { w } from "./d.mjs";\nexport function helper2() { return w; }\n',
    };
    assert.deepEqual(mates(files, 'sketch/b.js'), ['sketch/a.js']);
    assert.equal(owner(files, 'sketch/b.js', 'helper'), 'sketch/a.js');
    assert.deepEqual(mates(files, 'sketch/e.js'), []);
  });

  it('a comment or a string that mentions require( or an import line leaves a classic script classic', () => {
    const files = {
      'sketch/a.js': '// no require(...) here: a page loads this\nfunction helper(x) { return x; }\n',
      'sketch/b.js': 'const msg = `\nimport this`;\nconst y = helper(2);\n',
      'sketch/c.js': "require('./a');\n",
    };
    assert.deepEqual(mates(files, 'sketch/b.js'), ['sketch/a.js']);
  });

  it('a minified bundle a page loads is no page mate, by name or by content', () => {
    const minified = `!function(t){${'var a=t(1);function b(c){return c(2)};'.repeat(40)}}(this);\n`;
    const files = {
      'index.html': '<script src="js/p5.min.js"></script><script src="js/lib.js"></script><script src="js/nets.js"></script><script src="js/app.js"></script>',
      'js/p5.min.js': 'function build(s) { return s; }\n',
      'js/lib.js': minified,
      'js/nets.js': 'function helper(x) { return x; }\n',
      'js/app.js': 'const m = helper(build([2]));\n',
    };
    assert.deepEqual(mates(files, 'js/app.js'), ['js/nets.js']);
    assert.equal(owner(files, 'js/app.js', 'build'), undefined);
  });

  it('a page mate with a stray NUL in a comment is read, as the file itself would be', () => {
    const files = {
      'index.html': '<script src="a.js"></script><script src="b.js"></script>',
      'a.js': '// x\u0000 squared\nfunction helper(x) { return x; }\n',
      'b.js': 'const y = helper(2);\n',
    };
    assert.deepEqual(mates(files, 'b.js'), ['a.js']);
  });

  it('a name two page-mates bind is nobody\'s', () => {
    const files = {
      'index.html': '<script src="a.js"></script><script src="b.js"></script><script src="c.js"></script>',
      'a.js': 'function conv(x) { return x; }\n',
      'b.js': 'function conv(x) { return x + 1; }\n',
      'c.js': 'const q = conv(1);\n',
    };
    assert.equal(owner(files, 'c.js', 'conv'), undefined);
  });

  it('the pages read and the folders listed are dependencies of the script', () => {
    const project = projectOf(demo);
    const program = project.program();
    const parsed = project.load('/p/site/js/app.js')!;
    program.add(parsed);
    program.pageMates(parsed);
    const deps = project.dependencies('/p/site/js/app.js');
    for (const d of ['/p/site/index.html', '/p/site/other.html', '/p/site/js/', '/p/site/']) assert.ok(deps.includes(d), d);
  });
});
