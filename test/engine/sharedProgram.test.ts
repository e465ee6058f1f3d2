// A program shared by every entry of a project (the CLI's `shareProgram`) must find exactly what a
// program per entry finds, whichever entry runs first: a file's facts may not depend on which lint
// asked for them first. Checked on every project fixture with the entries reversed (the fixture test
// lints each project in order, with a shared program, against its snapshots).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initEngine, languageForPath, lintProjectFile, Project } from '../../server/engine';

const projectsDir = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'projects');
const toSlashes = (p: string): string => p.split(path.sep).join('/');

function lintableFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...lintableFiles(full));
    else if (languageForPath(entry.name)) out.push(toSlashes(full));
  }
  return out.sort();
}

function listFolderOnDisk(dir: string): { files: string[]; folders: string[] } | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  return { files: entries.filter((e) => e.isFile()).map((e) => e.name), folders: entries.filter((e) => e.isDirectory()).map((e) => e.name) };
}

function projectAt(dir: string, shareProgram: boolean): Project {
  const readFile = (p: string): string | undefined => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined);
  return new Project({ root: toSlashes(dir), host: { readFile, listFolder: listFolderOnDisk }, shareProgram });
}

/** Each entry's findings and foreign findings, as JSON, by entry. */
function lintAll(project: Project, files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files) {
    const { outcome, foreign } = lintProjectFile(project, file, fs.readFileSync(file, 'utf8'), { language: languageForPath(file)! });
    out.set(file, JSON.stringify({ findings: outcome.findings, notices: outcome.notices, foreign }));
  }
  return out;
}

describe('a program shared by the entries of a project', function () {
  // optimizers-correct (51 files) takes about 3 s idle: over mocha's 20 s at a load of 25.
  this.timeout(120_000);
  before(() => initEngine());

  for (const name of fs.existsSync(projectsDir) ? fs.readdirSync(projectsDir).sort() : []) {
    it(`${name}: the same findings as a program per entry, entries reversed`, () => {
      const dir = path.join(projectsDir, name);
      const files = lintableFiles(dir);
      const alone = lintAll(projectAt(dir, false), files);
      const reversed = lintAll(projectAt(dir, true), [...files].reverse());
      for (const file of files) assert.equal(reversed.get(file), alone.get(file), `${file}, entries reversed`);
    });
  }

  it('is one program until a file changes', () => {
    const dir = path.join(projectsDir, 'numpy-net');
    const project = projectAt(dir, true);
    const first = project.program();
    assert.equal(project.program(), first);
    project.invalidate(`${toSlashes(dir)}/train.py`);
    assert.notEqual(project.program(), first);
    assert.notEqual(projectAt(dir, false).program(), projectAt(dir, false).program());
  });

  it("an entry's dependencies include what the files it imports import, whoever resolved them", () => {
    const root = '/proj';
    const texts: Record<string, string> = {
      '/proj/train.py': 'from mid import step\n',
      '/proj/mid.py': 'from helpers import l2_term\n\ndef step(W, dW, lr, reg):\n    return W - lr * (dW + l2_term(W, reg))\n',
      '/proj/helpers.py': 'def l2_term(W, reg):\n    return reg * (W * W).sum()\n',
      '/proj/other.py': 'from mid import step\n',
    };
    const project = new Project({ root, host: { readFile: (p) => texts[p] }, shareProgram: true });
    for (const file of ['/proj/other.py', '/proj/train.py']) lintProjectFile(project, file, texts[file], { language: 'python' });
    const deps = project.dependencies('/proj/train.py');
    assert.ok(deps.includes('/proj/mid.py') && deps.includes('/proj/helpers.py'), deps.join());
    assert.ok(!deps.includes('/proj/other.py'), deps.join());
  });

  it("a base class's file depends on the files its subclasses were looked for in (NB206's abstract bases), and a new text there is read", () => {
    const base = 'import torch\n\nclass Template(torch.optim.Optimizer):\n    def __init__(self, params, lr, weight_decay=0.0):\n        super().__init__(params, dict(lr=lr, weight_decay=weight_decay))\n\n    def update(self):\n        raise NotImplementedError\n\n    def step(self, closure=None):\n        self.update()\n';
    const reads = 'import torch\nfrom .base import Template\n\nclass Decayed(Template):\n    def update(self):\n        for group in self.param_groups:\n            for p in group["params"]:\n                p.mul_(1 - group["lr"] * group["weight_decay"])\n';
    const texts: Record<string, string> = { '/proj/opt/__init__.py': '', '/proj/opt/base.py': base, '/proj/opt/decayed.py': reads, '/proj/opt/notes.py': 'x = 1\n' };
    const listFolder = (dir: string) => {
      const names = Object.keys(texts).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1));
      return names.length === 0 ? undefined : { files: names.filter((n) => !n.includes('/')), folders: [...new Set(names.filter((n) => n.includes('/')).map((n) => n.split('/')[0]))] };
    };
    const lintBase = (project: Project) => lintProjectFile(project, '/proj/opt/base.py', texts['/proj/opt/base.py'], { language: 'python' }).outcome.findings.map((f) => f.code);
    const project = new Project({ root: '/proj', host: { readFile: (p) => texts[p], listFolder }, shareProgram: true });
    assert.deepEqual(lintBase(project), [], 'the subclass reads the knob');
    assert.ok(project.dependencies('/proj/opt/base.py').includes('/proj/opt/decayed.py'));
    // Without folder listings the subclass is not found: the base is judged on its own body.
    assert.deepEqual(lintBase(new Project({ root: '/proj', host: { readFile: (p) => texts[p] } })), ['NB206']);
    // The subclass stops reading the knob: the base is reported again.
    texts['/proj/opt/decayed.py'] = reads.replace('p.mul_(1 - group["lr"] * group["weight_decay"])', 'p.mul_(1 - group["lr"])');
    project.invalidate('/proj/opt/decayed.py');
    assert.deepEqual(lintBase(project), ['NB206']);
  });
});
