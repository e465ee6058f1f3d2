// The deterministic generator the random-edit tests share, so a failure names a seed and an edit
// that can be replayed.

export function random(seed: number): (n: number) => number {
  let state = seed % 2147483648;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return n <= 0 ? 0 : Math.floor((state / 2147483648) * n);
  };
}

/** A seed per file name, so each file gets its own edits and one file's failure replays alone. */
export function seedOf(name: string, seed: number): number {
  let h = seed * 7919;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 2147483647;
  return h || 1;
}
