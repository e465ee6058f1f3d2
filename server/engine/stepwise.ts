// Work done in steps: a generator that yields between expensive phases. The CLI runs the steps
// back to back; the language server runs one step per turn of the event loop, so it can answer
// other requests meanwhile and stop a run whose document has changed (`return()` ends it and
// lets its `finally` blocks free what it held).

export type Steps<T> = Generator<void, T, void>;

/** Runs all steps at once and returns the result. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
