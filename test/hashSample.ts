// Samples of fixtures for the long randomized tests, chosen by a hash of the name (FNV-1a): adding
// a fixture adds it to a sample or not, without reshuffling which of the others are checked, as a
// choice by position in the sorted list did (which moved samples onto the largest fixtures).

/** Whether `name` is in the sample of one in `every`. */
export function inHashSample(name: string, every: number): boolean {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h % every === 1;
}
