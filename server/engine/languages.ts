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

/** The language of a file by its extension, or undefined when Nabla does not lint it. */
export function languageForPath(filePath: string): LanguageId | undefined {
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

export const lintedExtensions = Object.keys(byExtension);
