// Work done in steps: a generator that yields between expensive phases. The CLI runs the steps
// back to back; the language server runs one step per turn of the event loop, so it can answer
// other requests meanwhile and stop a run whose document has changed (`return()` ends it and
// lets its `finally` blocks free what it held).

export type Steps<T> = Generator<void, T, void>;

/** Thrown by `runSteps` when the time `withDeadline` allows has run out between two steps. */
export class DeadlinePassed extends Error {
  constructor(readonly ms: number) {
    super(`took longer than ${ms} ms`);
  }
}

/** When the work `withDeadline` runs must stop (`performance.now()`), and what it was allowed. */
let deadline = Infinity;
let allowed = 0;

/**
 * Runs `fn` with `ms` to finish its steps: a `runSteps` inside it that is still going after that
 * throws `DeadlinePassed` between two steps (a per-file time bound for work done in this thread,
 * which no one can stop from outside; one step is never cut short).
 */
export function withDeadline<T>(ms: number, fn: () => T): T {
  const outer = { deadline, allowed };
  const at = performance.now() + ms;
  if (at < deadline) {
    deadline = at;
    allowed = ms;
  }
  try {
    return fn();
  } finally {
    deadline = outer.deadline;
    allowed = outer.allowed;
  }
}

/** Runs all steps at once and returns the result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (deadline !== Infinity && performance.now() > deadline) {
      steps.return(undefined as T);
      throw new DeadlinePassed(allowed);
    }
  }
}
