// Memory back after a burst of work. Linting allocates a lot that dies young, and V8 keeps the
// grown heap around; when the server has been quiet for a moment, one full collection lets it
// return those pages (a few tens of milliseconds, never while a request is being handled).
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let collect: (() => void) | undefined;

function fullCollection(): void {
  if (!collect) {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
}

/** Runs a full collection once no work has been reported for `quietMs`. */
export class IdleCollector {
  private timer: NodeJS.Timeout | undefined;

  /** `busy`: work in progress (a lint running or due); the collection waits until it is done. */
  constructor(
    private readonly quietMs = 500,
    private readonly busy: () => boolean = () => false,
    private readonly collect: () => void = fullCollection,
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
