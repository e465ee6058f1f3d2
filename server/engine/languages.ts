import type { LanguageId } from './types';

const byExtension: Record<string, LanguageId> = {
  '.py': 'python',
  '.pyi': 'python',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.js': 'javascript',
  '.jsx': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
};

/**
 * TypeScript declaration files (`.d.ts`, `.d.mts`, `.d.cts`) hold types only, no code that runs, so
 * no training math; generated ones use type syntax the tree-sitter grammar does not always parse,
 * which would be reported as syntax errors in files TypeScript itself accepts.
 */
export function isDeclarationFile(filePath: string): boolean {
  return /\.d\.[cm]?ts$/i.test(filePath);
}

/** The language of a file by its extension, or undefined when Nabla does not lint it. */
export function languageForPath(filePath: string): LanguageId | undefined {
  if (isDeclarationFile(filePath)) return undefined;
  const dot = filePath.lastIndexOf('.');
  if (dot < 0) return undefined;
  return byExtension[filePath.slice(dot).toLowerCase()];
}

/** The language for a VS Code / LSP `languageId`, or undefined. */
export function languageForLanguageId(languageId: string): LanguageId | undefined {
  switch (languageId) {
    case 'python':
      return 'python';
    case 'typescript':
      return 'typescript';
    case 'typescriptreact':
      return 'tsx';
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    default:
      return undefined;
  }
}

// The language identifiers the LSP specification lists (3.18, `TextDocumentItem`; it includes
// `plaintext`): a client that sends one of these has detected the file's language, so a file it
// calls Markdown or plain text is not linted, whatever its extension.
const knownLanguageIds = new Set([
  'abap', 'bat', 'bibtex', 'clojure', 'coffeescript', 'c', 'cpp', 'csharp', 'css', 'diff', 'dart', 'dockerfile',
  'elixir', 'erlang', 'fsharp', 'git-commit', 'git-rebase', 'go', 'groovy', 'handlebars', 'haskell', 'html', 'ini',
  'java', 'javascript', 'javascriptreact', 'json', 'latex', 'less', 'lua', 'makefile', 'markdown', 'objective-c',
  'objective-cpp', 'perl', 'perl6', 'php', 'powershell', 'jade', 'python', 'r', 'razor', 'ruby', 'rust', 'scss',
  'sass', 'scala', 'shaderlab', 'shellscript', 'sql', 'swift', 'typescript', 'typescriptreact', 'tex', 'plaintext',
  'vb', 'xml', 'xsl', 'yaml',
]);

/**
 * The language of an open document: its `languageId` when that names a language Nabla lints; the
 * file's extension when the id is empty or one the LSP specification does not list (a client
 * without filetype detection, or one that names languages its own way, like eglot's `js` or `tsx`);
 * undefined for any other language the specification lists (`plaintext`, `markdown`, ...).
 * `path` is the document's path or URI; a query or fragment is ignored.
 */
export function languageForDocument(languageId: string, path: string): LanguageId | undefined {
  if (isDeclarationFile(path.replace(/[?#].*$/s, ''))) return undefined;
  const byId = languageForLanguageId(languageId);
  if (byId !== undefined || knownLanguageIds.has(languageId)) return byId;
  return languageForPath(path.replace(/[?#].*$/s, ''));
}

export const lintedExtensions = Object.keys(byExtension);
