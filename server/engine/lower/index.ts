import type { Tree } from 'web-tree-sitter';
import type { Module } from '../ir';
import type { LanguageId } from '../types';
import { collectErrors } from './common';
import { PythonLowerer } from './python';
import { TypeScriptLowerer } from './typescript';

/** Lowers a parsed file into the IR. Total: never throws on malformed trees. */
export function lower(tree: Tree, text: string, language: LanguageId): Module {
  // `text` must be the text the tree was parsed from: lowerers slice names out of it.
  const lowerer = language === 'python' ? new PythonLowerer(text, tree.language) : new TypeScriptLowerer(text, tree.language);
  const body = lowerer.module(tree.rootNode);
  return { body, errors: collectErrors(tree), truncated: lowerer.truncated };
}
