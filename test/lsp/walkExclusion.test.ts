// `walkExclusion` (server/cli/walk.ts) and the editor's `ProjectSettings.leftOut` on paths whose folder
// names start with two dots (`..data/`): such a folder is inside the root, not above it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { walkExclusion } from '../../server/cli/walk';
import { ProjectSettings } from '../../server/lsp/projectSettings';

describe('walkExclusion: folders named with leading dots', function () {
  const root = path.resolve(path.sep, 'ws');
  const none = (): boolean => false;

  it('leaves out build output below a folder whose name starts with `..`', function () {
    const left = walkExclusion(path.join(root, '..data', 'build', 'train.py'), root, { exists: none });
    assert.ok(left, 'build/ below ..data/ is left out, as a walk of the root leaves it out');
    assert.match(left.why, /\.\.data\/build\//);
  });

  it('still says nothing of a file above the root, or of the root itself', function () {
    assert.equal(walkExclusion(path.join(root, '..', 'build', 'train.py'), root, { exists: none }), undefined);
    assert.equal(walkExclusion(root, root, { exists: none }), undefined);
  });

  it('the editor judges a file below `..data/` from the workspace folder that holds it', function () {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nabla-dotdot-')));
    try {
      const file = path.join(dir, '..gen', 'build', 'train.py');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'x = 1\n');
      const settings = new ProjectSettings({ warn: () => undefined, log: () => undefined });
      settings.setRoots([dir]);
      assert.ok(settings.leftOut(file), 'build/ below the workspace folder is left out');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
