// What the random-edit tests share: a deterministic generator, so a failure names a seed and an
// edit that can be replayed, and the fixture files they edit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { languageForPath } from '../../server/engine/languages';

export function random(seed: number): (n: number) => number {
  let state = seed % 2147483648;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return n <= 0 ? 0 : Math.floor((state / 2147483648) * n);
  };
}

/** A seed per file name, so each file gets its own edits and one file's failure replays alone. */
export function seedOf(name: string, seed: number): number {
  let h = seed * 7919;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 2147483647;
  return h || 1;
}

/** Every fixture file Nabla checks, projects aside (their files are edited as projects elsewhere). */
export function fixtureFiles(fixturesDir: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) {
        if (p !== path.join(fixturesDir, 'projects')) visit(p);
      } else if (languageForPath(p)) out.push(p);
    }
  };
  visit(fixturesDir);
  return out;
}
