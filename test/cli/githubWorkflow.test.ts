// The README's GitHub Actions workflow: its `nabla` steps are read from the README's yaml block and
// run as written (through bash, with `npx --no nabla` standing for the bundle), in a project with a
// mistake, so the documented commands cannot drift from what the CLI does.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, makeTree, PY_BUG, PY_BUG_AT, removeTrees, repoRoot } from './helpers';

/** The `run:` commands of the README's workflow that call nabla. */
function workflowCommands(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### GitHub Actions'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the README has a GitHub Actions workflow block');
  return block[1]
    .split('\n')
    .map((line) => /^\s*- run: (.*)$/.exec(line)?.[1])
    .filter((run): run is string => run !== undefined && /\bnabla check\b/.test(run));
}

function runStep(command: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  assert.match(command, /^npx --no nabla /, 'the step starts the project-installed nabla');
  const local = command.replace(/^npx --no nabla /, `"${process.execPath}" "${cliPath}" `);
  const result = spawnSync('bash', ['-c', local], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the README GitHub Actions workflow', function () {
  this.timeout(60_000);
  after(removeTrees);

  it('annotates findings and fails the job, then writes SARIF for code scanning', () => {
    const commands = workflowCommands();
    assert.equal(commands.length, 2, `two nabla steps: ${commands.join(' | ')}`);
    const [annotate, sarif] = commands;
    const project = makeTree({ 'train/step.py': PY_BUG, 'pyproject.toml': '[project]\nname = "demo"\n' });

    const annotated = runStep(annotate, project);
    assert.equal(annotated.status, 1, `the annotation step fails on a finding: ${annotated.stderr}`);
    const lines = annotated.stdout.split('\n').filter((line) => line.startsWith('::'));
    assert.equal(lines.length, 1, annotated.stdout);
    assert.match(lines[0], new RegExp(`^::(warning|error) file=train/step\\.py,line=${PY_BUG_AT.line},col=${PY_BUG_AT.column},.*title=NB101::`));

    const uploaded = runStep(sarif, project);
    assert.equal(uploaded.status, 0, `the SARIF step succeeds so the upload runs: ${uploaded.stderr}`);
    const log = JSON.parse(fs.readFileSync(path.join(project, 'nabla.sarif'), 'utf8')) as {
      version: string;
      runs: { tool: { driver: { name: string } }; results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[];
    };
    assert.equal(log.version, '2.1.0');
    const results = log.runs[0].results;
    assert.deepEqual(
      results.map((r) => [r.ruleId, r.locations[0].physicalLocation.artifactLocation.uri, r.locations[0].physicalLocation.region.startLine]),
      [['NB101', 'train/step.py', PY_BUG_AT.line]],
    );
  });
});
