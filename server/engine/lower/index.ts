import type { Tree } from 'web-tree-sitter';
import type { Module } from '../ir';
import type { LanguageId } from '../types';
import { collectErrors } from './common';
import { PythonLowerer } from './python';
import { TypeScriptLowerer } from './typescript';

/**
 * Lowers a parsed file into the IR, its spans offset by `base` (the file's place in the project's
 * position space, server/engine/source.ts). Total: never throws on malformed trees.
 */
export function lower(tree: Tree, text: string, language: LanguageId, base = 0): Module {
  // `text` must be the text the tree was parsed from: lowerers slice names out of it.
  const lowerer = language === 'python' ? new PythonLowerer(text, tree.language, base) : new TypeScriptLowerer(text, tree.language, base);
  const body = lowerer.module(tree.rootNode);
  return { body, errors: collectErrors(tree, base, text, language), truncated: lowerer.truncated };
}
