// A name a JavaScript file reads and never binds (`m.addMat(W, dW)`), bound at the top of a file it
// requires, directly or not (`m = module.exports;` in math.js, which leaves `m` a global once the
// file is loaded): sloppy-mode scripts and old CommonJS libraries share helpers that way. The name
// is that file's: the module itself when the global holds its `module.exports`/`exports`, its top-level
// definition otherwise. Only when exactly one reachable file binds the name at its top level, and
// only for JavaScript (Python and TypeScript modules have no implicit globals).
//
// A browser page links classic scripts the same way: the scripts an HTML page loads with `<script
// src>` (or, when no page loads a script, the other classic scripts of its folder) share one global
// scope (project.ts `pageMates`), consulted only for a name the required files do not bind.
//
// Cheap: one breadth-first walk of the files it requires (bounded; top-level statements only), one
// answer per name and file, both kept per program.
import { isClassicScript, type ParsedFile } from '../document';
import type { Program } from '../program';
import type { Expr } from '../ir';
import type { Binding } from './scope';
import { forEachChild } from './scope';

/** Files reached from a file, at most: a library's own helpers are a few requires away. */
const REACH = 64;

export type GlobalOwner =
  /** The global holds the module's exports object (`m = module.exports`): members of `m` are the module's. */
  | { kind: 'module'; parsed: ParsedFile }
  /** The global is one of the file's top-level definitions: read it there. */
  | { kind: 'definition'; parsed: ParsedFile };

const owners = new WeakMap<Program, Map<number, Map<string, GlobalOwner | null>>>();

/**
 * The file that binds `name` for `parsed`, which reads it unbound; undefined when no file or more
 * than one of those it requires binds it at its top level, or when `parsed` is not JavaScript.
 */
export function implicitGlobalOwner(program: Program, parsed: ParsedFile, name: string): GlobalOwner | undefined {
  if (parsed.language !== 'javascript') return undefined;
  let byFile = owners.get(program);
  if (!byFile) owners.set(program, (byFile = new Map()));
  let byName = byFile.get(parsed.file.id);
  if (!byName) byFile.set(parsed.file.id, (byName = new Map()));
  const known = byName.get(name);
  if (known !== undefined) return known ?? undefined;
  const required = requiredFiles(program, parsed);
  let found = soleOwner(required, parsed, name);
  // Not bound by what it requires: a browser page may load it with the script that binds it (classic
  // scripts only: a module's top-level names stay its own).
  if (found === undefined) {
    const mates = program.pageMates(parsed).filter((p) => !required.includes(p) && isClassicScript(p));
    if (mates.length > 0) found = soleOwner(mates, parsed, name);
  }
  byName.set(name, found ?? null);
  return found ?? undefined;
}

/** The one file of `files` (other than `parsed`) that binds `name` at its top level; null when several do, undefined when none. */
function soleOwner(files: readonly ParsedFile[], parsed: ParsedFile, name: string): GlobalOwner | null | undefined {
  let found: GlobalOwner | undefined;
  for (const other of files) {
    if (other === parsed || other.language !== 'javascript') continue;
    const owner = topLevelOwner(other, name);
    if (!owner) continue;
    // Keep looking: a second file binding the same name makes it ambiguous.
    if (found) return null;
    found = owner;
  }
  return found;
}

const reached = new WeakMap<Program, Map<number, ParsedFile[]>>();

/**
 * The files a file requires, directly or not, breadth first and at most REACH: its imports, and
 * every `require('./m')` its top-level statements make wherever the value goes
 * (`utils.math = require('./math')`, `var math = require('./utils').math`), which define no name.
 * Not `Program.reachable`: that follows imports only (a `require` bound to no name is none), and
 * making it follow these would widen every facts family's program for JavaScript.
 */
function requiredFiles(program: Program, parsed: ParsedFile): ParsedFile[] {
  let byFile = reached.get(program);
  if (!byFile) reached.set(program, (byFile = new Map()));
  const known = byFile.get(parsed.file.id);
  if (known) return known;
  const out = [parsed];
  const seen = new Set([parsed.file.id]);
  for (let i = 0; i < out.length && out.length < REACH; i++) {
    const from = out[i];
    const modules = [...from.scopes.imports.values()].map((x) => x.module);
    for (const st of from.module.body) {
      if (st.kind !== 'assign' && st.kind !== 'expr') continue;
      const visit = (e: Expr): void => {
        if (e.kind === 'call' && e.callee.kind === 'name' && e.callee.name === 'require' && e.args[0]?.kind === 'str') modules.push(e.args[0].value);
        else forEachChild(e, visit);
      };
      visit(st.kind === 'assign' ? st.value : st.expr);
    }
    for (const module of modules) {
      const next = program.resolveModule(from.file, module);
      if (!next || seen.has(next.file.id) || out.length >= REACH) continue;
      seen.add(next.file.id);
      out.push(next);
    }
  }
  byFile.set(parsed.file.id, out);
  return out;
}

function topLevelOwner(parsed: ParsedFile, name: string): GlobalOwner | undefined {
  const root = parsed.scopes.root;
  if (root.functions.has(name) || root.classes.has(name)) return { kind: 'definition', parsed };
  const bindings = (root.bindings.get(name) ?? []).filter((b: Binding) => b.scope === root);
  if (bindings.length === 0) return undefined;
  // `m = module.exports;` (and no other plain assignment of `m`): the module's exports object under another name.
  const plain = bindings.filter((b) => b.kind === 'assign' && !b.op && b.value);
  if (plain.length === 1 && parsed.scopes.exportsAliases.has(name)) return { kind: 'module', parsed };
  return { kind: 'definition', parsed };
}
