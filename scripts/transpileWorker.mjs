// One thread of the build's transpile (scripts/build.mjs): TypeScript files into out/, one at a time,
// with ts.transpileModule under tsconfig.json's options. workerData: { root, jobs: [[source, output], ...] }.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

export function transpileFiles(root, jobs) {
  const require = createRequire(path.join(root, 'package.json'));
  const ts = require('typescript');
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const compilerOptions = { ...config.options, sourceMap: true, inlineSources: false };
  for (const [source, output] of jobs) {
    const file = path.join(root, source);
    const { outputText, sourceMapText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
    const map = JSON.parse(sourceMapText);
    map.file = path.basename(output);
    map.sources = [path.relative(path.dirname(output), file).split(path.sep).join('/')];
    mkdirSync(path.dirname(output), { recursive: true });
    writeFileSync(output, outputText);
    writeFileSync(`${output}.map`, JSON.stringify(map));
  }
}

if (parentPort && workerData?.jobs) {
  transpileFiles(workerData.root, workerData.jobs);
  parentPort.postMessage('done');
}
