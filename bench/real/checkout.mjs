#!/usr/bin/env node
// Extracts the real-code corpora from local git mirrors, each repository at its recorded commit.
// It cannot fetch: first bring every repository of bench/real/labels-*.json and
// bench/real/repositories.json with the search tool's `fetch` (github:owner/name), which leaves
// <mirrors>/<owner>+<name>/repo (bare, or a clone with .git). Then:
//
//   node bench/real/checkout.mjs --mirrors /work/.mirror --out /work [--force] [--only owner/name]
//
// labels-numpy.json    -> <out>/realbench/checkouts/<owner>+<name>
// labels-frameworks.json -> <out>/realbench/frameworks/checkouts/<owner>+<name>
// repositories.json    -> <out>/<its folder>/<owner>+<name> (realbench2, realbench5, realbench6, realbench7)
// A checkout that already exists is kept unless --force. A commit that is not recorded, or not in
// the mirror, falls back to the mirror's HEAD and is said so. A mirror may lack its largest files
// (data, images, some big notebooks): those are left out and counted. Exit 1 if any repository failed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const mirrors = arg('--mirrors');
const out = arg('--out');
const only = arg('--only');
const force = process.argv.includes('--force');
if (!mirrors || !out) {
  process.stderr.write('usage: checkout.mjs --mirrors DIR --out DIR [--force] [--only owner/name]\n');
  process.exit(2);
}

const list = JSON.parse(fs.readFileSync(path.join(here, 'repositories.json'), 'utf8'));
const wanted = [
  ...Object.entries(list.folders).flatMap(([file, folder]) =>
    JSON.parse(fs.readFileSync(path.join(here, file), 'utf8')).map((r) => ({ repo: r.repo, commit: r.commit, folder })),
  ),
  ...list.repositories,
].filter((r) => !only || r.repo === only);

/** The git directory of a fetched mirror: bare (repo/) or a clone (repo/.git). */
function gitDirOf(repo) {
  const base = path.join(mirrors, repo.replace('/', '+'), 'repo');
  const dotGit = path.join(base, '.git');
  if (fs.existsSync(dotGit)) return dotGit;
  return fs.existsSync(base) ? base : undefined;
}

const git = (gitDir, ...args) => execFileSync('git', ['--git-dir', gitDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();

function hasCommit(gitDir, commit) {
  try {
    git(gitDir, 'cat-file', '-e', `${commit}^{commit}`);
    return true;
  } catch {
    return false;
  }
}

/** Paths of the tree whose blobs the mirror does not hold (it stores big files as absent). */
function missingBlobs(gitDir, rev) {
  const entries = execFileSync('git', ['--git-dir', gitDir, 'ls-tree', '-r', '-z', rev], { maxBuffer: 1 << 28 })
    .toString()
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, file] = line.split('\t');
      const [, type, sha] = meta.split(' ');
      return { type, sha, file };
    })
    .filter((e) => e.type === 'blob');
  const answers = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-check', '--buffer'], {
    input: entries.map((e) => e.sha).join('\n') + '\n',
    maxBuffer: 1 << 28,
  })
    .toString()
    .split('\n');
  return entries.filter((_, i) => answers[i]?.endsWith(' missing')).map((e) => e.file);
}

const failed = [];
const notes = [];
let done = 0;
let kept = 0;
for (const { repo, commit, folder } of wanted) {
  const target = path.join(out, folder, repo.replace('/', '+'));
  if (fs.existsSync(target) && !force) {
    kept++;
    continue;
  }
  const gitDir = gitDirOf(repo);
  if (!gitDir) {
    failed.push(`${repo}: no mirror under ${mirrors} (fetch github:${repo})`);
    continue;
  }
  let rev = commit;
  if (!commit) {
    rev = 'HEAD';
    notes.push(`${repo}: no commit recorded, HEAD (${git(gitDir, 'rev-parse', '--short=12', 'HEAD')})`);
  } else if (!hasCommit(gitDir, commit)) {
    rev = 'HEAD';
    notes.push(`${repo}: ${commit} not in the mirror, HEAD (${git(gitDir, 'rev-parse', '--short=12', 'HEAD')})`);
  }
  // Through a file, not a pipe in memory: some archives are hundreds of megabytes.
  const tar = path.join(os.tmpdir(), `checkout-${process.pid}.tar`);
  try {
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    const missing = missingBlobs(gitDir, rev);
    if (missing.length > 0) notes.push(`${repo}: ${missing.length} file(s) absent from the mirror, left out (${missing.filter((f) => /\.(py|ipynb|js|ts|mjs|cjs|tsx)$/.test(f)).join(', ') || 'no source files'})`);
    const excluded = missing.map((f) => `:(exclude,literal)${f}`);
    execFileSync('git', ['--git-dir', gitDir, 'archive', '--format=tar', '-o', tar, rev, '--', '.', ...excluded], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
    execFileSync('tar', ['-xf', tar, '-C', target], { stdio: ['ignore', 'ignore', 'pipe'] });
    done++;
  } catch (error) {
    fs.rmSync(target, { recursive: true, force: true }); // a half checkout must not pass for a done one
    failed.push(`${repo}: ${String(error.stderr ?? error.message).trim().split('\n')[0]}`);
  } finally {
    fs.rmSync(tar, { force: true });
  }
}

for (const note of notes) process.stdout.write(`note: ${note}\n`);
for (const failure of failed) process.stdout.write(`FAILED: ${failure}\n`);
process.stdout.write(`${wanted.length} repositories: ${done} extracted, ${kept} already there, ${failed.length} failed\n`);
process.exit(failed.length > 0 ? 1 : 0);
