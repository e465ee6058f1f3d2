// The classes of the project that derive from a class: the other direction of `baseClasses`
// (resolve.ts), which follows a class's bases into the modules that define them. A subclass in
// another module imports its base, so no import of the base's file reaches it: its file is found
// by the program (`Program.filesMentioning`: the project files whose text names the class in a
// base list), and then only classes whose bases resolve to the class count. Asked rarely (a
// finding about a base class that a subclass may answer), once per class and program.
import type { Program } from '../program';
import type { ParsedFile } from '../document';
import type { ClassDef } from './scope';
import { derivesFrom } from './resolve';

/** How deep subclasses of subclasses are followed, and how many are kept. */
const MAX_DEPTH = 4;
const MAX_SUBCLASSES = 64;

const cache = new WeakMap<Program, Map<ClassDef, ClassDef[]>>();

/**
 * Every class of the project that derives from `cls`, directly or through other classes (in any
 * file, `cls`'s own included), nearest first. Empty when the project cannot list its files.
 */
export function projectSubclasses(program: Program, cls: ClassDef): ClassDef[] {
  let byClass = cache.get(program);
  if (!byClass) cache.set(program, (byClass = new Map()));
  const known = byClass.get(cls);
  if (known) return known;
  const out: ClassDef[] = [];
  const seen = new Set<ClassDef>([cls]);
  let level: ClassDef[] = [cls];
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0 && out.length < MAX_SUBCLASSES; depth++) {
    const next: ClassDef[] = [];
    for (const base of level) {
      for (const sub of directSubclasses(program, base)) {
        if (seen.has(sub) || out.length >= MAX_SUBCLASSES) continue;
        seen.add(sub);
        out.push(sub);
        next.push(sub);
      }
    }
    level = next;
  }
  byClass.set(cls, out);
  return out;
}

function directSubclasses(program: Program, base: ClassDef): ClassDef[] {
  if (!base.name || !/^[\w$]+$/.test(base.name)) return [];
  const from = base.scope.file;
  const python = from.language === 'python';
  // The class named in a base list: `class Sub(pkg.Base, Mixin):`, `class Sub extends mod.Base`.
  const name = base.name.replace(/\$/g, '\\$');
  const pattern = python ? new RegExp(`\\bclass\\s+\\w+\\s*\\([^)]*\\b${name}\\b`) : new RegExp(`\\bextends\\s+(?:[\\w$]+\\s*\\.\\s*)*${name}(?![\\w$])`);
  const out: ClassDef[] = [];
  for (const parsed of program.filesMentioning(from, pattern)) {
    for (const c of classesOf(parsed)) {
      if (c !== base && c.bases.length > 0 && derivesFrom(program, c, base)) out.push(c);
    }
  }
  return out;
}

/** The classes a file defines, at any depth. */
function classesOf(parsed: ParsedFile): ClassDef[] {
  const out = new Set<ClassDef>();
  for (const c of parsed.scopes.root.classes.values()) out.add(c);
  for (const s of parsed.scopes.stmtScopes.values()) for (const c of s.classes.values()) out.add(c);
  return [...out];
}
