// What a folder walk leaves out without being told: `nabla check <folder>`, the editor's Lint Workspace
// and its project index (all three list files with server/cli/walk.ts), and the engine's own reads of a
// project (Project's search for subclasses, and the scripts a page loads beside a file). This is the one
// place that names them; README "Command line" lists the same.
//   - Folders that never hold the user's own code: version control, caches, virtual environments,
//     installed packages, and build output. The names are Ruff's default `exclude` (docs.astral.sh/ruff/settings,
//     "exclude"), plus Python's own caches and the copies an archive or Jupyter leaves beside the code.
//   - Minified JavaScript: a bundle a web demo ships (`static/p5.min.js`) is one function of thousands of
//     sums, the slowest kind of file to analyse and never the user's code. Decided by content, not only by
//     the `.min.js` name (`looksMinified`).
// A file or folder named on the command line (or a workspace folder) is always linted, as Ruff does. The
// project file's `exclude` can bring one back with a negated pattern (`exclude = ["!dist/", "!vendor/p5.min.js"]`).

/** Folder names skipped at any depth of a walk. */
export const DEFAULT_EXCLUDED_FOLDERS: readonly string[] = [
  // version control
  '.bzr',
  '.git',
  '.git-rewrite',
  '.hg',
  '.svn',
  // tools' caches
  '.mypy_cache',
  '.nabla_cache', // Nabla's own (cache.ts)
  '.pytest_cache',
  '.pytype',
  '.ruff_cache',
  '__pycache__',
  // environments and installed packages
  '.direnv',
  '.eggs',
  '.nox',
  '.pants.d',
  '.pyenv',
  '.tox',
  '.venv',
  '__pypackages__',
  'node_modules',
  'site-packages',
  'venv',
  // build output: copies of the sources (`build/lib/pkg/…`), bundles, rendered docs
  '_build',
  'buck-out',
  'build',
  'dist',
  // editor settings, Jupyter's autosaved copies of the notebooks beside them, macOS Archive Utility's resource forks
  '.vscode',
  '.ipynb_checkpoints',
  '__MACOSX',
];

const excludedFolders = new Set(DEFAULT_EXCLUDED_FOLDERS);

export function isDefaultExcludedFolder(name: string): boolean {
  return excludedFolders.has(name);
}

/** JavaScript, the only language minifiers write (TypeScript is always a source: a long line there is data). */
export function mayBeMinified(name: string): boolean {
  return /\.[cm]?js$/i.test(name);
}

/** `jquery-1.8.3.min.js`, `ort.all.min.mjs`: minified by name. */
export function isMinifiedName(name: string): boolean {
  return /\.min\.[cm]?js$/i.test(name);
}

/** How much of a file `looksMinified` reads: a bundle's long lines start after its licence comment. */
export const MINIFIED_PREFIX_BYTES = 64 * 1024;

/** A line at least this long is not written by hand. */
const LONG_LINE = 500;
/** Minified: long lines hold at least this share of the (non-blank) text … */
const LONG_SHARE = 0.85;
/** … and they are code: at least this many `;` and `(` per 1,000 characters. */
const CODE_DENSITY = 5;

/**
 * Whether the start of a JavaScript file is minified code. Measured on every .js file of the fifteen real
 * corpora (3,785 JS/TS files): minified bundles have 89–100 % of their text in lines of 500 characters or
 * more, with 10–67 `;`/`(` per 1,000 characters there; hand-written files stay under 77 % (a docs script
 * with one inlined SVG), and the files with long lines of data (a test's recorded tensors, a search index)
 * have under 1 `;`/`(` per 1,000. Average line length alone (GitHub Linguist's test) would skip those data
 * files, and a hand-written script with one long data line.
 */
export function looksMinified(prefix: string): boolean {
  let total = 0;
  let long = 0;
  let code = 0;
  let start = 0;
  while (start <= prefix.length) {
    let end = prefix.indexOf('\n', start);
    if (end < 0) end = prefix.length;
    const length = end - start;
    if (length > 0) {
      total += length;
      if (length >= LONG_LINE) {
        long += length;
        for (let i = start; i < end; i++) {
          const c = prefix.charCodeAt(i);
          if (c === 59 /* ; */ || c === 40 /* ( */) code++;
        }
      }
    }
    start = end + 1;
  }
  return long > 0 && long >= LONG_SHARE * total && (code * 1000) / long >= CODE_DENSITY;
}
