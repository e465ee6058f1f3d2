// A V8 code cache for the bundles (dist/*.js, about 3 MB each) in the processes the tests spawn: the
// CLI, the language servers, the lint worker threads. test/setup.cjs puts this file in
// NODE_OPTIONS (`--require`), so every node process a test starts loads it first. Node 20 has no
// `module.enableCompileCache()` (Node 22.1); this is what it does, for the bundles only.
//
// Each process otherwise parses and compiles the bundle from scratch: about 90 ms of CPU of the
// 0.3 s a spawned `nabla check` costs (bench/results/ANALYSIS.md, stop 42). With the cache, V8
// deserializes the bytecode of every function the last run compiled.
//
// The bundle runs exactly as Node runs it (the module wrapper, the module's own `require`, the same
// source): only where its bytecode comes from changes. The cache is keyed by the bundle's path and
// its content's digest (V8 itself checks only the source's length), and it is written after a run
// (then it holds the functions that ran, not only the top level) when it was missing or V8 rejected
// it, to a temporary file then renamed, so concurrent processes never read half a file.
//
// V8 rejects a cache made under other flags: the CLI sets `--interrupt-budget` while it runs
// (server/cli/bin.ts), so a cache made at its end would never match a fresh process. The flags a
// run sets through `v8.setFlagsFromString` are stored with the cache and set again before the
// next compilation (they are the flags that process sets anyway).
//
// NABLA_CODE_CACHE=off turns it off; NABLA_CODE_CACHE_DIR moves it (default: the OS's temporary
// folder).
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { isMainThread } = require('node:worker_threads');

const dist = path.join(path.resolve(__dirname, '..'), 'dist') + path.sep;
const dir = process.env.NABLA_CODE_CACHE_DIR || path.join(os.tmpdir(), `nabla-code-cache-${os.userInfo().uid}`);
const MAGIC = 'nabla-code-cache 1\n';

if (process.env.NABLA_CODE_CACHE !== 'off' && !Module.prototype._compile.nablaCodeCache) install();

function install() {
  // Flags set while the program runs, in order: stored with a cache made at the end.
  const flagsSet = [];
  const setFlags = v8.setFlagsFromString;
  v8.setFlagsFromString = function (flags) {
    flagsSet.push(String(flags));
    return setFlags.call(this, flags);
  };

  const compile = Module.prototype._compile;
  function compileCached(content, filename) {
    if (typeof content !== 'string' || !filename.startsWith(dist) || !filename.endsWith('.js') || content.length < 100000) {
      return compile.call(this, content, filename);
    }
    const digest = crypto.createHash('sha256').update(content).digest('hex');
    const file = path.join(dir, `${crypto.createHash('sha256').update(filename).digest('hex').slice(0, 16)}.bin`);
    const cached = read(file, digest);
    // The flags the last run set, set before compiling so that V8 accepts its cache.
    if (cached) for (const flags of cached.flags) setFlags.call(v8, flags);
    // A hashbang is valid only at the start of a script: inside the wrapper it becomes a comment of the same length.
    const source = content.startsWith('#!') ? `//${content.slice(2)}` : content;
    const script = new vm.Script(Module.wrap(source), {
      filename,
      cachedData: cached?.data,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (isMainThread && (!cached || script.cachedDataRejected)) {
      process.once('exit', () => write(file, { digest, flags: [...new Set([...(cached?.flags ?? []), ...flagsSet])] }, script));
    }
    const wrapper = script.runInThisContext({ displayErrors: true });
    return wrapper.call(this.exports, this.exports, requireOf(this), this, filename, path.dirname(filename));
  }
  compileCached.nablaCodeCache = true;
  Module.prototype._compile = compileCached;
}

/** The `require` Node gives a module (lib/internal/modules/helpers.js, makeRequireFunction). */
function requireOf(mod) {
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

function read(file, digest) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const end = bytes.indexOf(10, MAGIC.length);
  if (end < 0 || bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return undefined;
  try {
    const header = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8'));
    if (header.digest !== digest || !Array.isArray(header.flags)) return undefined;
    return { flags: header.flags.map(String), data: bytes.subarray(end + 1) };
  } catch {
    return undefined;
  }
}

function write(file, header, script) {
  try {
    const data = script.createCachedData();
    fs.mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(MAGIC + JSON.stringify(header) + '\n', 'utf8'), data]));
    fs.renameSync(temp, file);
  } catch {
    // A cache is an optimization: a full disk or a read-only folder only costs the next run its compilation.
  }
}
