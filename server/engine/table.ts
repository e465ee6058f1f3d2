// Tables looked up by names from the user's code (`TORCH_OPTIMIZERS[name]`, `GREEK_UNICODE[name]`).
// An object literal inherits `toString`, `constructor`, `valueOf`, … from Object.prototype, so a
// user's `np.toString(w)` or a variable named `constructor` would find a function there. A table
// made here has no prototype: a name is in it only when the table lists it.

/** The entries as a table with no prototype (lookups and `in` see only these keys). */
export function table<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}
