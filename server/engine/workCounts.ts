// Deterministic counts of work done, for measuring on a loaded machine where CPU time is noisy
// (bench/keystrokes.ts prints them per keystroke): how many units a fact walked, evaluated or
// reused since the process started. A fact adds to its own counter; nothing reads them but benches
// and tests.
export const workCounts: Record<string, number> = {};

/** Adds `n` to the counter `what`. */
export function countWork(what: string, n = 1): void {
  workCounts[what] = (workCounts[what] ?? 0) + n;
}
