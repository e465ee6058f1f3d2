// Lints files on several cores: a pool of worker threads, each with its own engine, fed from the
// lazy walk and read back in walk order, so output streams and stays deterministic whatever
// finishes first. Each file has a time bound: a worker that takes longer is stopped and replaced,
// and the file is reported as skipped.
//
// How many workers (`planThreads`): a thread is not free. Each engine compiles its own optimized
// code (V8 shares none between threads), which costs about as much CPU as linting 2 MB of source
// on a warm engine, most of it on V8's compiler threads beside the lint. On 2 cores one thread
// already keeps about 1.5 of them busy, so a second pays off only on runs of several megabytes.
// Small runs stay in this thread, and so does a run planned on one thread: it lints here, with its
// per-file time bound checked between the lint's steps, until the work waiting would repay a second
// thread; then the rest goes to workers. This thread never lints beside workers, because a file
// linted here could be stopped only between steps (see bench/results/threads.md).
//
// The same module is the worker's entry point: in the bundle (dist/cli.js) and unbundled
// (out/server/cli/parallel.js) alike, a thread started with `workerData.nablaLintWorker` runs
// `serveWorker()` below instead of a command line (main.ts checks `isLintWorker`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { initEngine } from '../engine';
import { DeadlinePassed, withDeadline } from '../engine/stepwise';
import { isNotebookPath, lintFile, notebookCodeSize, rawSizeLimit, type FileResult, type LintFileOptions } from './lintFile';

/** One file to lint. */
export interface LintJob {
  fsPath: string;
  options: LintFileOptions;
}

export interface ParallelOptions {
  /**
   * Threads to lint on. Given, a run over more than `threshold` files uses exactly this many
   * workers (1 lints in this thread). Not given, `planThreads` chooses from the work, up to the cores.
   */
  jobs?: number;
  /** With at most this many files, lint in this thread: starting workers would cost more. */
  threshold?: number;
  /** Per-file bound in milliseconds (workers only). */
  timeoutMs?: number;
  /**
   * A result known without linting (the cache), asked in this thread before a file is sent to a
   * worker. Only the files it does not answer count towards starting workers, and the parsers are
   * loaded in this thread only when it lints a file itself.
   */
  lookup?: (job: LintJob) => FileResult | undefined;
  /** The cores to plan for (default: `defaultJobs()`). */
  cores?: number;
  /** A file's size in bytes, the measure of its work (default: from the disk). */
  sizeOf?: (job: LintJob) => number;
  /** Told how many threads the run lints on, each time that changes (`NABLA_DEBUG=threads`). */
  debug?: (message: string) => void;
}

let engineReady: Promise<void> | undefined;

/** Loads the parsers in this thread, once, when it first lints a file itself. */
/**
 * Lints a job in this thread. With `timeoutMs`, the lint stops between two of its steps once that
 * time has passed and the file is reported as skipped, as a worker's would be; one step is never cut
 * short, so the bound is looser than a worker's (which is stopped from outside).
 */
async function lintHere(job: LintJob, timeoutMs?: number): Promise<FileResult> {
  engineReady ??= initEngine();
  await engineReady;
  if (timeoutMs === undefined) return lintFile(job.fsPath, job.options);
  try {
    // The lint runs synchronously inside the call (lintFile awaits only to write fixes): the deadline covers it.
    return await withDeadline(timeoutMs, () => lintFile(job.fsPath, job.options));
  } catch (error) {
    if (error instanceof DeadlinePassed) return timedOut(timeoutMs);
    return internalError(error);
  }
}

/** Default number of workers: every core the process may use. */
export function defaultJobs(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** Files at or below which the run stays in one thread. */
export const DEFAULT_PARALLEL_THRESHOLD = 8;

/**
 * What a thread costs beyond its files, in bytes of source a warm engine lints for the same CPU
 * time (measured on the bench corpus, bench/results/threads.md): loading the bundle and the
 * parsers; then warming up, paid over about its first megabyte (`WARM_UP_BYTES`): on its own
 * thread (interpreted code, before V8 has optimized it), and in all (with the optimizing
 * compiler's work on V8's background threads, which needs cores too).
 */
const BOOT_BYTES = 100_000;
const WARM_UP_ON_THREAD_BYTES = 600_000;
const WARM_UP_TOTAL_BYTES = 2_300_000;
const WARM_UP_BYTES = 1_000_000;
/** A thread lints at least this much, about where it has paid half its warm-up: below, it would mostly warm up. */
const MIN_BYTES_PER_THREAD = 500_000;
/** Each thread beyond the first must promise at least 5 % less wall time: the model is rough. */
const PLAN_MARGIN = 0.95;

/**
 * How many threads to lint `bytes` of source on, at most `maxThreads`, with `cores` cores. With t
 * threads, the run takes about the longer of one thread's share (its start, its warm-up, bytes / t)
 * and the CPU of all t threads spread over the cores; each thread beyond the first must shorten
 * that by `PLAN_MARGIN`. See bench/results/threads.md.
 */
export function planThreads(bytes: number, cores: number, maxThreads: number): number {
  const wall = (t: number): number => {
    const share = bytes / t;
    const warm = Math.min(1, share / WARM_UP_BYTES);
    return Math.max(BOOT_BYTES + share + WARM_UP_ON_THREAD_BYTES * warm, (t * (BOOT_BYTES + WARM_UP_TOTAL_BYTES * warm) + bytes) / Math.max(1, cores));
  };
  const limit = Math.max(1, Math.min(maxThreads, cores, Math.floor(bytes / MIN_BYTES_PER_THREAD)));
  let best = 1;
  for (let t = 2; t <= limit; t++) if (wall(t) < wall(best) * PLAN_MARGIN) best = t;
  return best;
}

/**
 * The per-file time bound with workers: 60 s, or `NABLA_FILE_TIMEOUT_MS`. A file within the size
 * limit takes well under a second or two; one that takes this long is pathological.
 */
export function defaultTimeoutMs(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const fromEnv = Number(env.NABLA_FILE_TIMEOUT_MS);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 60_000;
}

export const isLintWorker: boolean = !isMainThread && (workerData as { nablaLintWorker?: boolean } | null)?.nablaLintWorker === true;

type ToWorker = { id: number; job: LintJob };
type FromWorker = { id: number; kind: 'start' } | { id: number; kind: 'done'; result: FileResult };

/** The worker side: lint each job it is sent, one at a time. */
function serveWorker(): void {
  const port = parentPort;
  if (!port) return;
  const ready = initEngine();
  let queue = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    queue = queue.then(async () => {
      let result: FileResult;
      try {
        await ready;
        port.postMessage({ id: message.id, kind: 'start' } satisfies FromWorker);
        result = await lintFile(message.job.fsPath, message.job.options);
      } catch (error) {
        result = internalError(error);
      }
      port.postMessage({ id: message.id, kind: 'done', result } satisfies FromWorker);
    });
  });
}

function internalError(error: unknown): FileResult {
  const detail = error instanceof Error ? error.message : String(error);
  return { findings: [], notices: [{ kind: 'internal-error', message: `internal error, file not checked: ${detail}` }], checked: false };
}

function timedOut(ms: number): FileResult {
  return {
    findings: [],
    notices: [{ kind: 'skipped', message: `skipped: checking took longer than ${formatSeconds(ms)}, the per-file limit (generated or pathological code?)` }],
    checked: false,
  };
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

interface Pending {
  id: number;
  job: LintJob;
  resolve: (result: FileResult) => void;
}

/**
 * Jobs a worker holds at once: the one it lints and the next, so it never waits for this thread
 * to answer between files (this thread may be busy with the walk, the cache or a slow reply).
 */
const SLOT_DEPTH = 2;

/** One worker thread and the jobs sent to it, in the order it runs them. */
class Slot {
  private worker: Worker;
  readonly assigned: Pending[] = [];
  /** The job the worker said it started: the one the time bound is for. */
  private started?: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly script: string,
    private readonly timeoutMs: number,
    private readonly onFree: (slot: Slot) => void,
  ) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(this.script, { workerData: { nablaLintWorker: true } });
    worker.on('message', (message: FromWorker) => {
      if (worker !== this.worker || !this.assigned.some((p) => p.id === message.id)) return;
      if (message.kind === 'start') {
        this.started = message.id;
        this.timer = setTimeout(() => this.expire(), this.timeoutMs);
        return;
      }
      this.finish(message.id, message.result);
    });
    worker.on('error', (error) => this.crashed(worker, error));
    worker.on('exit', (code) => this.crashed(worker, new Error(`the worker thread exited with code ${code}`)));
    return worker;
  }

  run(pending: Pending): void {
    this.assigned.push(pending);
    this.worker.postMessage({ id: pending.id, job: pending.job } satisfies ToWorker);
  }

  private finish(id: number, result: FileResult): void {
    if (this.started === id) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.started = undefined;
    }
    const index = this.assigned.findIndex((p) => p.id === id);
    if (index < 0) return;
    const [done] = this.assigned.splice(index, 1);
    done.resolve(result);
    this.onFree(this);
  }

  /** A fresh thread for the jobs still waiting behind the one that ended the old thread. */
  private replace(): void {
    const waiting = this.assigned.splice(1);
    this.worker = this.spawn();
    for (const pending of waiting) this.run(pending);
  }

  /** Too slow: stop the thread (the only way to interrupt synchronous work), start a fresh one. */
  private expire(): void {
    const old = this.worker;
    const id = this.started!;
    // The timed-out job is first: a worker runs its jobs in the order they were sent.
    this.replace();
    void old.terminate();
    this.finish(id, timedOut(this.timeoutMs));
  }

  private crashed(worker: Worker, error: Error): void {
    if (worker !== this.worker) return; // a thread already replaced (timed out): its exit is expected
    const first = this.assigned[0];
    clearTimeout(this.timer);
    this.timer = undefined;
    this.started = undefined;
    this.replace();
    if (first) this.finish(first.id, internalError(error));
  }

  close(): Promise<number> {
    clearTimeout(this.timer);
    const worker = this.worker;
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    return worker.terminate();
  }
}

/** Worker threads, started on demand (`grow`); `lint` queues a file and resolves with its result. */
export class LintPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;

  constructor(
    size: number,
    private readonly timeoutMs = defaultTimeoutMs(),
    private readonly script = __filename,
  ) {
    this.grow(size);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Starts workers until there are `size`; a pool never shrinks (an idle worker costs memory only). */
  grow(size: number): void {
    while (this.slots.length < size) this.slots.push(new Slot(this.script, this.timeoutMs, () => this.dispatch()));
    this.dispatch();
  }

  lint(job: LintJob): Promise<FileResult> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, job, resolve });
      this.dispatch();
    });
  }

  /** Each queued job goes to the worker with the fewest: an idle one first, then one about to be. */
  private dispatch(): void {
    for (let depth = 0; depth < SLOT_DEPTH && this.queue.length > 0; depth++) {
      for (const slot of this.slots) {
        if (this.queue.length === 0) return;
        if (slot.assigned.length === depth) slot.run(this.queue.shift()!);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.close()));
  }
}

/**
 * A file's work, in bytes of source. A notebook's is its code cells (`notebookCodeSize`, what the
 * size limit counts): its outputs (plots, tables) are most of its bytes and are never linted.
 */
function fileSize(job: LintJob): number {
  try {
    if (!isNotebookPath(job.fsPath)) return fs.statSync(job.fsPath).size;
    if (fs.statSync(job.fsPath).size > rawSizeLimit(job.fsPath, job.options.maxFileSize)) return 0; // not read: skipped at no cost
    return notebookCodeSize(fs.readFileSync(job.fsPath, 'utf8'));
  } catch {
    return 0; // unreadable: lintFile reports it, at no cost
  }
}

/** Files read ahead of the one being yielded: what the plan sees, and the memory a run holds. */
const LOOKAHEAD_FILES = 512;

/**
 * Lints the file items of `items` (those `toJob` turns into a job) and yields every item, files
 * and others, in their original order, each file with its job and result (`cached`: from
 * `lookup`). Up to `LOOKAHEAD_FILES` files (at least `jobs × 4`) are in flight ahead of the one
 * being yielded, so a large tree streams with bounded memory. Without `jobs`, the workers are
 * planned from the bytes waiting to be linted (`planThreads`), and more start as the walk finds more.
 */
export async function* lintInOrder<T>(
  items: Iterable<T>,
  toJob: (item: T) => LintJob | undefined,
  options: ParallelOptions = {},
): AsyncGenerator<{ item: T; job?: LintJob; result?: FileResult; cached?: boolean }> {
  const planned = options.jobs === undefined;
  const cores = Math.max(1, Math.floor(options.cores ?? defaultJobs()));
  const jobs = Math.max(1, Math.floor(options.jobs ?? cores));
  const threshold = options.threshold ?? DEFAULT_PARALLEL_THRESHOLD;
  const sizeOf = options.sizeOf ?? fileSize;
  const iterator = items[Symbol.iterator]();

  type Next = { item: T; job?: LintJob; cached?: FileResult };
  const prepare = (item: T): Next => {
    const job = toJob(item);
    return { item, job, cached: job && options.lookup ? options.lookup(job) : undefined };
  };
  // Look ahead: a small run (in files to lint, cache hits aside) is linted here, without workers.
  // Each item is turned into a job, and looked up, once.
  const head: Next[] = [];
  let files = 0;
  let exhausted = false;
  while (jobs > 1 && files <= threshold) {
    const next = iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    const prepared = prepare(next.value);
    head.push(prepared);
    if (prepared.job && !prepared.cached) files++;
  }
  const rest = function* (): Generator<Next> {
    yield* head;
    if (exhausted) return;
    for (let next = iterator.next(); !next.done; next = iterator.next()) yield prepare(next.value);
  };

  if (jobs <= 1 || files <= threshold) {
    options.debug?.(jobs <= 1 ? 'threads: this thread only (--jobs 1)' : `threads: this thread only (${files} files to lint)`);
    for (const { item, job, cached } of rest()) {
      if (!job) yield { item };
      else if (cached) yield { item, job, result: cached, cached: true };
      else yield { item, job, result: await lintHere(job) };
    }
    return;
  }

  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
  const ahead = Math.max(jobs * 4, LOOKAHEAD_FILES);
  let source: Generator<Next> = rest();
  if (planned) {
    // Planned: this thread lints while the work read ahead would not repay a second thread (a
    // worker's start and warm-up), so a run planned on one thread costs what `--jobs 1` costs.
    const here: (Next & { bytes: number })[] = [];
    let waiting = 0;
    let ended = false;
    const read = (): void => {
      while (!ended && here.length < ahead) {
        const next = source.next();
        if (next.done) {
          ended = true;
          break;
        }
        const bytes = next.value.job && !next.value.cached ? sizeOf(next.value.job) : 0;
        waiting += bytes;
        here.push({ ...next.value, bytes });
      }
    };
    read();
    let said = false;
    while (here.length > 0 && planThreads(waiting, cores, jobs) <= 1) {
      if (!said) options.debug?.(`threads: this thread (${waiting} bytes waiting, ${cores} cores)`);
      said = true;
      const { item, job, cached, bytes } = here.shift()!;
      waiting -= bytes;
      if (!job) yield { item };
      else if (cached) yield { item, job, result: cached, cached: true };
      else yield { item, job, result: await lintHere(job, timeoutMs) };
      read();
    }
    if (here.length === 0) return;
    const left = source;
    source = (function* (): Generator<Next> {
      for (const { item, job, cached } of here) yield { item, job, cached };
      yield* left;
    })();
  }
  const pool = new LintPool(planned ? 1 : jobs, timeoutMs);
  try {
    const window: { item: T; job?: LintJob; result?: Promise<FileResult>; cached?: FileResult }[] = [];
    let inFlight = 0;
    let pendingBytes = 0;
    let done = false;
    let reported = false;
    const fill = (): void => {
      while (!done && inFlight < ahead) {
        const next = source.next();
        if (next.done) {
          done = true;
          break;
        }
        const { item, job, cached } = next.value;
        if (job && !cached) {
          const bytes = planned ? sizeOf(job) : 0;
          inFlight++;
          pendingBytes += bytes;
          const result = pool.lint(job).then((r) => {
            pendingBytes -= bytes;
            return r;
          });
          window.push({ item, job, result });
        } else window.push({ item, job, cached });
      }
      // More workers when the work known and not yet done would repay their start.
      const size = pool.size;
      if (planned) pool.grow(planThreads(pendingBytes, cores, jobs));
      if (pool.size !== size || !reported) options.debug?.(`threads: ${pool.size} worker${pool.size === 1 ? '' : 's'} (${pendingBytes} bytes waiting, ${cores} cores)`);
      reported = true;
    };
    fill();
    while (window.length > 0) {
      const first = window.shift()!;
      if (first.cached) {
        fill();
        yield { item: first.item, job: first.job, result: first.cached, cached: true };
        continue;
      }
      const result = first.result ? await first.result : undefined;
      if (first.result) inFlight--;
      fill();
      yield { item: first.item, job: first.job, result };
    }
  } finally {
    await pool.close();
  }
}

if (isLintWorker) serveWorker();
