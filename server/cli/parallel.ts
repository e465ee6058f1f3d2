// Lints files on all cores: a pool of worker threads, each with its own engine, fed from the lazy
// walk and read back in walk order, so output streams and stays deterministic whatever finishes
// first. Small runs stay in this thread (a worker costs a WASM start-up). Each file has a time
// bound: a worker that takes longer is stopped and replaced, and the file is reported as skipped.
//
// The same module is the worker's entry point: in the bundle (dist/cli.js) and unbundled
// (out/server/cli/parallel.js) alike, a thread started with `workerData.nablaLintWorker` runs
// `serveWorker()` below instead of a command line (main.ts checks `isLintWorker`).
import * as os from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { initEngine } from '../engine';
import { lintFile, type FileResult, type LintFileOptions } from './lintFile';

/** One file to lint. */
export interface LintJob {
  fsPath: string;
  options: LintFileOptions;
}

export interface ParallelOptions {
  /** Worker threads; 1 lints in this thread. Default: the number of cores. */
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
}

let engineReady: Promise<void> | undefined;

/** Loads the parsers in this thread, once, when it first lints a file itself. */
function lintHere(job: LintJob): Promise<FileResult> {
  engineReady ??= initEngine();
  return engineReady.then(() => lintFile(job.fsPath, job.options));
}

/** Default number of workers: every core the process may use. */
export function defaultJobs(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** Files at or below which the run stays in one thread. */
export const DEFAULT_PARALLEL_THRESHOLD = 8;

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

/** One worker thread and the job it is on. */
class Slot {
  private worker: Worker;
  current?: Pending;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly script: string,
    private readonly timeoutMs: number,
    private readonly onIdle: (slot: Slot) => void,
  ) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(this.script, { workerData: { nablaLintWorker: true } });
    worker.on('message', (message: FromWorker) => {
      if (!this.current || message.id !== this.current.id) return;
      if (message.kind === 'start') {
        this.timer = setTimeout(() => this.expire(), this.timeoutMs);
        return;
      }
      this.finish(message.result);
    });
    worker.on('error', (error) => this.crashed(worker, error));
    worker.on('exit', (code) => this.crashed(worker, new Error(`the worker thread exited with code ${code}`)));
    return worker;
  }

  run(pending: Pending): void {
    this.current = pending;
    this.worker.postMessage({ id: pending.id, job: pending.job } satisfies ToWorker);
  }

  private finish(result: FileResult): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const done = this.current;
    this.current = undefined;
    done?.resolve(result);
    this.onIdle(this);
  }

  /** Too slow: stop the thread (the only way to interrupt synchronous work), start a fresh one. */
  private expire(): void {
    const old = this.worker;
    this.worker = this.spawn();
    void old.terminate();
    this.finish(timedOut(this.timeoutMs));
  }

  private crashed(worker: Worker, error: Error): void {
    if (worker !== this.worker) return; // a thread already replaced (timed out): its exit is expected
    this.worker = this.spawn();
    if (this.current) this.finish(internalError(error));
  }

  close(): Promise<number> {
    clearTimeout(this.timer);
    const worker = this.worker;
    worker.removeAllListeners('exit');
    worker.removeAllListeners('error');
    return worker.terminate();
  }
}

/** A fixed set of worker threads; `lint` queues a file and resolves with its result. */
export class LintPool {
  private readonly slots: Slot[] = [];
  private readonly idle: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;

  constructor(size: number, timeoutMs = defaultTimeoutMs(), script = __filename) {
    for (let i = 0; i < size; i++) {
      const slot = new Slot(script, timeoutMs, (s) => this.idleSlot(s));
      this.slots.push(slot);
      this.idle.push(slot);
    }
  }

  lint(job: LintJob): Promise<FileResult> {
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, job, resolve });
      this.dispatch();
    });
  }

  private idleSlot(slot: Slot): void {
    this.idle.push(slot);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) this.idle.pop()!.run(this.queue.shift()!);
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.close()));
  }
}

/**
 * Lints the file items of `items` (those `toJob` turns into a job) and yields every item, files
 * and others, in their original order, each file with its job and result (`cached`: from
 * `lookup`). Up to `jobs × 4` files are in flight ahead of the one being yielded, so a large
 * tree streams with bounded memory.
 */
export async function* lintInOrder<T>(
  items: Iterable<T>,
  toJob: (item: T) => LintJob | undefined,
  options: ParallelOptions = {},
): AsyncGenerator<{ item: T; job?: LintJob; result?: FileResult; cached?: boolean }> {
  const jobs = Math.max(1, Math.floor(options.jobs ?? defaultJobs()));
  const threshold = options.threshold ?? DEFAULT_PARALLEL_THRESHOLD;
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
    for (const { item, job, cached } of rest()) {
      if (!job) yield { item };
      else if (cached) yield { item, job, result: cached, cached: true };
      else yield { item, job, result: await lintHere(job) };
    }
    return;
  }

  const pool = new LintPool(jobs, options.timeoutMs ?? defaultTimeoutMs());
  try {
    const window: { item: T; job?: LintJob; result?: Promise<FileResult>; cached?: FileResult }[] = [];
    const source = rest();
    let inFlight = 0;
    let done = false;
    const fill = (): void => {
      while (!done && inFlight < jobs * 4) {
        const next = source.next();
        if (next.done) {
          done = true;
          return;
        }
        const { item, job, cached } = next.value;
        if (job && !cached) {
          inFlight++;
          window.push({ item, job, result: pool.lint(job) });
        } else window.push({ item, job, cached });
      }
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
