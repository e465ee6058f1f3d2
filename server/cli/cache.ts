// The persistent cache of `nabla check` (as Ruff's and ESLint's): a file's result is kept in
// `.nabla_cache/` and reused by a later run when nothing it was computed from has changed.
//
// An entry is one JSON file, named by a hash of the file's path, its project root, the effective
// settings for it and Nabla's version (with a digest of the running bundle, so a rebuilt checkout
// is a new version too). It holds those again, the hash of the file's bytes, every other path the
// analysis asked for (imports, and the module paths it probed and did not find) with the hash of
// the bytes it read there, every folder it listed (the search for a base class's subclasses) with
// the hash of its listing, and the result. A lookup re-hashes the file and each of those paths;
// any difference, or anything unexpected in the entry (truncated, foreign, another version or other
// settings), is a miss, and the entry is rewritten after the file is linted again.
//
// Only the main thread looks entries up and writes them: it hashes each file once per run however
// many entries depend on it, it can answer a run that hits everywhere without starting a worker or
// loading the parsers, and the workers stay plain linters (they report what they read). Each entry
// is written to a temporary file and renamed over the old one, so concurrent runs never see half
// an entry: the last writer wins, with an entry as valid as the other's.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { contentHash, folderContents, isNotebookPath, listingHash, rawSizeLimit, tooLarge, type FileInputs, type FileResult } from './lintFile';

/** The default folder name, at the project root. */
export const CACHE_FOLDER = '.nabla_cache';
/** Bumped when the entry format changes. */
const FORMAT = 1;
/** Entries live in a subfolder, so a future format can sit beside this one. */
const ENTRIES = `v${FORMAT}`;
const ENTRY_MARK = 'nabla-cache-entry';
const GITIGNORE = '# Created by nabla: the cache of `nabla check`. Safe to delete.\n*\n';
// https://bford.info/cachedir/: backup tools (and Nabla's own walk) skip a folder with this file.
const CACHEDIR_TAG = 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by nabla.\n# For information about cache directory tags, see https://bford.info/cachedir/\n';

/** Where a file's entry is and what it must match. */
export interface CacheKey {
  /** The cache folder (absolute). */
  dir: string;
  /** The file, absolute with `/`. */
  path: string;
  /** The project root it is linted in (module resolution starts there). */
  root: string;
  /** The effective settings for the file, canonical (`settingsKey`). */
  settings: string;
}

interface Entry {
  mark: typeof ENTRY_MARK;
  format: number;
  version: string;
  path: string;
  root: string;
  settings: string;
  hash: string;
  reads: [string, string | null][];
  result: FileResult;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Files over the size limit, answered without reading them (neither a hit nor a miss). */
  skipped: number;
  written: number;
  /** Entries found but not used: unreadable, corrupt, foreign, or from other settings or another version. */
  rejected: number;
}

/** Settings as one canonical string (object keys sorted), so equal settings give equal keys. */
export function settingsKey(settings: Record<string, unknown>): string {
  return JSON.stringify(settings, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

/** The version entries are written by: the package version and a digest of the running code. */
export function cacheVersion(packageVersion: string, script: string = __filename): string {
  let digest = 'no-digest';
  try {
    digest = contentHash(fs.readFileSync(script)).slice(0, 16);
  } catch {
    // the code is not readable as a file (bundled elsewhere): the package version alone
  }
  return `${packageVersion}+${digest}`;
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function isRange(value: unknown): boolean {
  const r = value as { start?: { line?: unknown; character?: unknown }; end?: { line?: unknown; character?: unknown } } | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.start?.line === 'number' &&
    typeof r.start.character === 'number' &&
    typeof r.end?.line === 'number' &&
    typeof r.end.character === 'number'
  );
}

/** The parts of a finding every reporter reads. */
function isFinding(value: unknown): boolean {
  const f = value as Record<string, unknown> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.code === 'string' &&
    typeof f.severity === 'string' &&
    typeof f.message === 'string' &&
    isRange(f.range) &&
    Array.isArray(f.related) &&
    f.related.every((r: { message?: unknown; range?: unknown } | null) => typeof r?.message === 'string' && isRange(r.range)) &&
    (f.cell === undefined || typeof f.cell === 'number')
  );
}

function isNotice(value: unknown): boolean {
  const n = value as { kind?: unknown; message?: unknown } | null;
  return typeof n?.kind === 'string' && typeof n.message === 'string';
}

function isForeign(value: unknown): boolean {
  const f = value as { path?: unknown; findings?: unknown; used?: unknown } | null;
  return (
    typeof f?.path === 'string' &&
    Array.isArray(f.findings) &&
    f.findings.every(isFinding) &&
    Array.isArray(f.used) &&
    f.used.every((u: { range?: unknown; codes?: unknown } | null) => isRange(u?.range) && Array.isArray(u?.codes))
  );
}

/** Whether a parsed entry has the shape this version writes (anything else is foreign or corrupt). */
function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  const result = e.result as Record<string, unknown> | null | undefined;
  return (
    e.mark === ENTRY_MARK &&
    e.format === FORMAT &&
    typeof e.version === 'string' &&
    typeof e.path === 'string' &&
    typeof e.root === 'string' &&
    typeof e.settings === 'string' &&
    typeof e.hash === 'string' &&
    Array.isArray(e.reads) &&
    e.reads.every((r) => Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && isStringOrNull(r[1])) &&
    typeof result === 'object' &&
    result !== null &&
    Array.isArray(result.findings) &&
    result.findings.every(isFinding) &&
    Array.isArray(result.notices) &&
    result.notices.every(isNotice) &&
    typeof result.checked === 'boolean' &&
    (result.foreign === undefined || (Array.isArray(result.foreign) && result.foreign.every(isForeign)))
  );
}

export class LintCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, skipped: 0, written: 0, rejected: 0 };
  /** Hashes of the files read this run (null: missing or unreadable): a run sees the disk as it was when it read it. */
  private readonly hashes = new Map<string, string | null>();
  /** Cache folders made ready this run (true) or that cannot be written (false). */
  private readonly folders = new Map<string, boolean>();

  constructor(
    private readonly version: string,
    /** Says why an entry was not used or not written; silent unless the user asks (NABLA_DEBUG=cache). */
    private readonly debug: (message: string) => void = () => undefined,
    /** Whether a path names a readable file (the CLI's folder listings, so a missing module costs no failed read). */
    private readonly listed: (filePath: string) => boolean = () => true,
  ) {}

  /** The entry's file: a hash of everything that selects it (the entry repeats them, and they are checked). */
  private entryPath(key: CacheKey): string {
    const name = createHash('sha256').update(`${FORMAT}\0${this.version}\0${key.path}\0${key.root}\0${key.settings}`).digest('hex').slice(0, 40);
    return path.join(key.dir, ENTRIES, `${name}.json`);
  }

  /** The hash of a file's bytes now (memoized for the run), or null when it is missing or unreadable; of a folder's listing for a path ending in `/`. */
  private hashOf(filePath: string, bytes?: Buffer): string | null {
    const known = this.hashes.get(filePath);
    if (known !== undefined) return known;
    let hash: string | null = null;
    if (bytes) hash = contentHash(bytes);
    else if (filePath.endsWith('/')) hash = listingHash(folderContents(filePath.slice(0, -1)));
    else if (this.listed(filePath)) {
      try {
        hash = contentHash(fs.readFileSync(filePath));
      } catch {
        hash = null;
      }
    }
    this.hashes.set(filePath, hash);
    return hash;
  }

  /**
   * The cached result of a file, or undefined (a miss). Costs reading and hashing the file, reading
   * the entry and hashing the files it depends on (each once per run). Never throws.
   */
  lookup(key: CacheKey, maxFileSize: number): FileResult | undefined {
    const miss = (why?: string): undefined => {
      this.stats.misses++;
      if (why !== undefined) {
        this.stats.rejected++;
        this.debug(`${key.path}: cache entry not used: ${why}`);
      }
      return undefined;
    };
    let bytes: Buffer;
    try {
      // Too large: linting skips it without reading it, and so does the cache (no need for a worker to say so).
      const { size } = fs.statSync(key.path);
      const limit = rawSizeLimit(key.path, maxFileSize);
      if (size > limit) {
        this.stats.skipped++;
        return tooLarge(size, limit, isNotebookPath(key.path));
      }
      bytes = fs.readFileSync(key.path);
    } catch {
      return miss(); // linting will say why it cannot be read
    }
    const hash = this.hashOf(key.path, bytes);
    let text: string;
    const file = this.entryPath(key);
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? miss() : miss(`cannot read ${file}`);
    }
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      return miss(`${file} is not valid JSON (truncated or corrupt)`);
    }
    if (!isEntry(entry)) return miss(`${file} is not an entry of this cache format`);
    if (entry.version !== this.version) return miss(`written by nabla ${entry.version}`);
    if (entry.path !== key.path || entry.root !== key.root || entry.settings !== key.settings) return miss('written for another file or other settings');
    if (entry.hash !== hash) return miss();
    for (const [read, readHash] of entry.reads) {
      if (this.hashOf(read) !== readHash) return miss();
    }
    this.stats.hits++;
    return entry.result;
  }

  /** Keeps a fresh result. Results that did not come out of a complete analysis are not kept. Never throws. */
  store(key: CacheKey, result: FileResult, inputs: FileInputs | undefined): void {
    if (!inputs || result.error !== undefined || result.notices.some((n) => n.kind === 'internal-error')) return;
    if (!this.ready(key.dir)) return;
    const { inputs: _omitted, ...kept } = result;
    const entry: Entry = { mark: ENTRY_MARK, format: FORMAT, version: this.version, path: key.path, root: key.root, settings: key.settings, hash: inputs.hash, reads: inputs.reads, result: kept };
    const file = this.entryPath(key);
    const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      fs.writeFileSync(temp, JSON.stringify(entry));
      fs.renameSync(temp, file);
      this.stats.written++;
    } catch (error) {
      this.debug(`cannot write the cache entry ${file}: ${(error as Error).message}`);
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // nothing more to do
      }
    }
  }

  /** Creates the cache folder with its .gitignore and tag, once per run; false when it cannot be written. */
  private ready(dir: string): boolean {
    const known = this.folders.get(dir);
    if (known !== undefined) return known;
    let ok = true;
    try {
      fs.mkdirSync(path.join(dir, ENTRIES), { recursive: true });
      for (const [name, content] of [
        ['.gitignore', GITIGNORE],
        ['CACHEDIR.TAG', CACHEDIR_TAG],
      ]) {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) {
          const temp = `${file}.${process.pid}.tmp`;
          fs.writeFileSync(temp, content);
          fs.renameSync(temp, file);
        }
      }
    } catch (error) {
      this.debug(`cannot use the cache folder ${dir}: ${(error as Error).message}`);
      ok = false;
    }
    this.folders.set(dir, ok);
    return ok;
  }
}
