// eagerLayers.ts follows the project files that use a Keras layer, at most MAX_FILES of them: once
// that many are read it searches no more names (each search scans the project and parses what matches).
import * as assert from 'node:assert/strict';
import { initEngine, lintProjectFile, Project } from '../../server/engine';
import { Program } from '../../server/engine/program';

const LAYER = [
  'import numpy as np',
  'import tensorflow as tf',
  '',
  '',
  'class FeatureDrop(tf.keras.layers.Layer):',
  '    def call(self, h, training=False):',
  '        keep = np.random.rand(h.shape[-1]) >= 0.2',
  '        return h * keep',
  '',
].join('\n');

/**
 * Five builder modules that import the layer and define twelve names each, and for each name four
 * modules that import its builder and use it (none trains): the files run out while names are left.
 */
function project(): Record<string, string> {
  const texts: Record<string, string> = { '/proj/nets/__init__.py': '', '/proj/nets/noise.py': LAYER };
  for (let i = 0; i < 5; i++) {
    const names = Array.from({ length: 12 }, (_, j) => `make_part${i}_${j}`);
    texts[`/proj/nets/build${i}.py`] = ['from nets.noise import FeatureDrop', '', ...names.map((n) => `def ${n}():\n    return FeatureDrop()\n`)].join('\n');
    for (const n of names) for (let k = 0; k < 4; k++) texts[`/proj/nets/use_${n}_${k}.py`] = `from nets.build${i} import ${n}\n\nPART = ${n}()\n`;
  }
  return texts;
}

describe('eagerLayers: the project files a layer is followed into', function () {
  this.timeout(60000);
  before(() => initEngine());

  it('stops searching names once MAX_FILES files are read', () => {
    const texts = project();
    const folders: Record<string, { files: string[]; folders: string[] }> = {
      '/proj': { files: [], folders: ['nets'] },
      '/proj/nets': { files: Object.keys(texts).filter((p) => p.startsWith('/proj/nets/')).map((p) => p.slice('/proj/nets/'.length)), folders: [] },
    };
    const proj = new Project({ root: '/proj', host: { readFile: (p) => texts[p], listFolder: (d) => folders[d] } });
    const original = Program.prototype.filesMentioning;
    const patterns: string[] = [];
    Program.prototype.filesMentioning = function (this: Program, from, pattern) {
      patterns.push(pattern.source);
      return original.call(this, from, pattern);
    };
    try {
      lintProjectFile(proj, '/proj/nets/noise.py', texts['/proj/nets/noise.py'], { language: 'python' });
    } finally {
      Program.prototype.filesMentioning = original;
    }
    const layerSearches = patterns.filter((p) => p.includes('make_part') || p.includes('FeatureDrop'));
    assert.ok(layerSearches.length > 0, 'the layer is followed into the project');
    // The class's search reads the 5 builders, and the first names' searches their users: once 24 files
    // are read no name is searched (there were 60).
    const nameSearches = layerSearches.filter((p) => p.includes('make_part')).length;
    assert.ok(nameSearches > 0 && nameSearches <= 6, `${nameSearches} names searched`);
  });
});
