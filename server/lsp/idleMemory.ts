// Memory back after a burst of work. Linting allocates a lot that dies young, and V8 keeps the
// grown heap around; when the server has been quiet for a moment, one full collection lets it
// return those pages (a few tens of milliseconds, never while a request is being handled). The
// collection itself is the host's (nodeHost.ts); a browser worker has none to ask for.

/** How long without work before the collection (milliseconds). */
export const IDLE_QUIET_MS = 500;

/** Runs a full collection once no work has been reported for `quietMs`. */
export class IdleCollector {
  private timer: NodeJS.Timeout | undefined;

  /** `busy`: work in progress (a lint running or due); the collection waits until it is done. */
  constructor(
    private readonly quietMs: number,
    private readonly busy: () => boolean,
    private readonly collect: () => void,
  ) {}

  /** Work happened (a lint was published, the user typed): wait for quiet again. */
  activity(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.busy()) this.activity();
      else this.collect();
    }, this.quietMs);
    this.timer.unref();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
